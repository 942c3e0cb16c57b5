"""Reading a shared link (?z=0.1,-1.2&seed=3): the one place where a query parameter becomes a value a page uses.

A link is text anyone can write, so no value reaches a page unchecked, and none can break it:

- a well-formed value meant for another model (a code with another number of dimensions) is dropped without a
  word, as the page would have done for a link to that model (issue #12);
- any other value the page cannot use is ignored with a warning that says why - not a number, not finite, not a
  whole number, out of range, too long - and quotes the value through ``ui.safe_text.escape_markdown``, so a link
  can never put a live link, an image or HTML on the page.

Parsers (``number``, ``whole_number``, ``numbers``, ``code``, ``map_place``) take the text and return the value or
raise ``Refused``; ``read`` takes a parameter's name and one of them and shows the warning.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import TypeVar

import numpy as np
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from .safe_text import escape_markdown

T = TypeVar("T")

MAX_CHARS = 2_000  # a 64-D code with 3 decimals takes about 500 characters; a longer value is refused unread
SHOWN_CHARS = 60  # how much of a refused value its warning quotes
SEED_MAX = 2**32 - 1  # numpy's and scikit-learn's largest seed


class Refused(ValueError):
    """A value a page cannot use. ``str(e)`` says why, and reads on from "Ignored ?key=value: "."""


class MeantForAnother(Refused):
    """A well-formed value that fits another model, such as a code with another number of dimensions: dropped
    silently."""


def _shown(x: float) -> str:
    return f"{int(x):,}" if float(x).is_integer() else f"{x:g}"


def _out_of_range(lo: float, hi: float) -> Refused:
    return Refused(f"out of range (must be between {_shown(lo)} and {_shown(hi)})")


def number(text: str, lo: float = -math.inf, hi: float = math.inf) -> float:
    """A finite number between ``lo`` and ``hi``: "0.5" -> 0.5; "abc", "nan", "1e999" or "7" (hi=5) -> Refused."""
    try:
        x = float(text)
    except ValueError:
        raise Refused("not a number") from None
    if not math.isfinite(x):
        raise Refused("not a finite number")
    if not lo <= x <= hi:
        raise _out_of_range(lo, hi)
    return x


def whole_number(text: str, lo: int, hi: int) -> int:
    """A whole number between ``lo`` and ``hi`` ("12", or "1e3" written as a float); else Refused."""
    try:
        value = int(text)
    except ValueError:  # "1e3", "2.0", "2.5", "nan", "abc"
        x = number(text)
        if not x.is_integer():
            raise Refused("not a whole number") from None
        value = int(x)
    if not lo <= value <= hi:
        raise _out_of_range(lo, hi)
    return value


def numbers(text: str, limit: float) -> np.ndarray:
    """Comma-separated finite numbers, each within +-``limit``: "0.1,-2" -> [0.1, -2.0]; else Refused naming the
    first value that is not one."""
    items = text.split(",")
    values = []
    for i, item in enumerate(items, start=1):
        try:
            values.append(number(item, -limit, limit))
        except Refused as e:
            raise Refused(f"value {i} of {len(items)} is {e}" if len(items) > 1 else str(e)) from None
    return np.array(values, dtype=np.float64)


def code(text: str, dim: int, limit: float) -> np.ndarray:
    """A latent code of ``dim`` numbers; a list of another length was meant for another model (MeantForAnother)."""
    z = numbers(text, limit)
    if len(z) != dim:
        raise MeantForAnother(f"{len(z)} numbers for a {dim}-D model")
    return z


def map_place(text: str, n_images: int, limit: float) -> int | tuple[float, float]:
    """A latent map's ?vae_at=: "123" -> test image 123, "x,y" -> that place on the map; else Refused."""
    if "," in text:
        xy = numbers(text, limit)
        if len(xy) != 2:
            raise Refused(f"a place on the map is x,y (2 numbers, not {len(xy)})")
        return float(xy[0]), float(xy[1])
    try:
        float(text)
    except ValueError:
        raise Refused("not a test image number or an x,y place on the map") from None
    return whole_number(text, 0, n_images - 1)


def read(key: str, parse: Callable[[str], T], then: str, where: DeltaGenerator | None = None) -> T | None:
    """``parse`` applied to ``?key=``, or None: when the link has no such value, when the value was meant for another
    model (silently), or when it cannot be used (with a warning in ``where`` saying why, ending with ``then``)."""
    text = st.query_params.get(key)
    if not text:
        return None
    try:
        if len(text) > MAX_CHARS:
            raise Refused(f"too long ({len(text):,} characters)")
        return parse(text)
    except MeantForAnother:
        return None
    except Refused as e:
        shown = escape_markdown(text, SHOWN_CHARS)
        (st if where is None else where).warning(f"Ignored ?{key}={shown}: {e}; {then}.", icon=":material/link_off:")
        return None


def matching(key: str, pattern: re.Pattern[str]) -> str | None:
    """``?key=`` when the whole value matches ``pattern`` (an id, a name), else None without a word."""
    text = st.query_params.get(key)
    return text if text and len(text) <= MAX_CHARS and pattern.fullmatch(text) else None
