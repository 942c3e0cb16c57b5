"""Text a user supplied (file names, checkpoint names, metadata, values from a link) shown as text, never as
Markdown or HTML."""

from __future__ import annotations

import re

# Everything Markdown (CommonMark + GitHub extensions) or Streamlit's own syntax (:colour[...], $math$) could act on.
_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~:$=&\"'])")
# Control characters and the invisible marks that reverse or isolate the direction of the text after them (the
# "Trojan Source" characters): a value could otherwise make the rest of a message read backwards.
_INVISIBLE = re.compile("[\x00-\x1f\x7f-\x9f\u200b\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


def escape_markdown(text: object, max_len: int = 200) -> str:
    """``text`` with every Markdown-active character backslash-escaped, on one line, at most ``max_len`` long.

    Use it wherever a user's string goes into st.markdown, st.error, st.caption, a label or a header."""
    s = _INVISIBLE.sub("", " ".join(str(text).split()))  # no newlines: a file name cannot start a heading or a list
    if len(s) > max_len:
        s = s[: max_len - 1] + "…"
    return _SPECIAL.sub(r"\\\1", s)
