"""Text a user supplied (file names, checkpoint names, metadata) shown as text, never as Markdown or HTML."""

from __future__ import annotations

import re

# Everything Markdown (CommonMark + GitHub extensions) or Streamlit's own syntax (:colour[...], $math$) could act on.
_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~:$=&\"'])")


def escape_markdown(text: object, max_len: int = 200) -> str:
    """``text`` with every Markdown-active character backslash-escaped, on one line, at most ``max_len`` long.

    Use it wherever a user's string goes into st.markdown, st.error, st.caption, a label or a header."""
    s = " ".join(str(text).split())  # no newlines: a file name cannot start a heading or a list
    if len(s) > max_len:
        s = s[: max_len - 1] + "…"
    return _SPECIAL.sub(r"\\\1", s)
