"""Crafted links (issue 11, items 4 and 6): every page opened with a hostile query parameter runs without an error,
puts no live link, image or HTML on the page, and either ignores the value silently (a code meant for a model of
another size, issue #12) or says in a warning why it was ignored.

The Latent map, Latent sliders and Interpolate pages run on the tiny zoo (tests/tiny_zoo.py): its default pair is
mnist5k-vae-16 / mnist5k-ae-16, a 16-D latent, 500 test images. The Smoothness lab runs on the shipped checkpoints.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from tests.tiny_zoo import open_page, tiny_checkpoints, zoo  # noqa: F401 (fixtures)
from ui import url_params
from ui.map_component import unpack_message
from ui.safe_text import escape_markdown

PAGES = Path(__file__).resolve().parents[1] / "pages"
MAP, SLIDERS, INTERPOLATE, SMOOTHNESS, TRAIN = (
    str(PAGES / name)
    for name in ("2_Latent_map.py", "3_Latent_sliders.py", "4_Interpolate.py", "6_Smoothness.py", "1_Train.py")
)
DIM = 16  # the tiny zoo's default pair

LINK = "[click me](https://evil.example)"
IMAGE = "![x](https://evil.example/a.png)"
HTML = "<img src=x onerror=alert(1)>"
UNICODE = "\u202e\u0661\u0662\u0663 π ｚ 🙂"  # a right-to-left override, Arabic-Indic digits, letters, an emoji
LONG = "9" * 10_000
HUGE = "9" * 30
NOT_A_NUMBER, NOT_FINITE, NOT_WHOLE = "not a number", "not a finite number", "not a whole number"
OUT_OF_RANGE, TOO_LONG = "out of range", "too long (10,000 characters)"
NOT_A_PLACE = "not a test image number or an x,y place on the map"

# (page, query, the parameter refused, the reason its warning gives); reason None: ignored without a word.
ATTACKS = [
    (SLIDERS, {"z": LINK}, "z", NOT_A_NUMBER),
    (SLIDERS, {"z": IMAGE}, "z", NOT_A_NUMBER),
    (SLIDERS, {"z_ae": HTML}, "z_ae", NOT_A_NUMBER),
    (SLIDERS, {"z": "nan,nan"}, "z", "value 1 of 2 is not a finite number"),
    (SLIDERS, {"z": ",".join(["0"] * (DIM - 1) + ["inf"])}, "z", f"value {DIM} of {DIM} is not a finite number"),
    (SLIDERS, {"z": "1e999"}, "z", NOT_FINITE),
    (SLIDERS, {"z": ",".join(["1e300"] * DIM)}, "z", "value 1 of 16 is out of range"),
    (SLIDERS, {"z": LONG}, "z", TOO_LONG),
    (SLIDERS, {"z": UNICODE}, "z", NOT_A_NUMBER),
    (SLIDERS, {"z": "0.5,-1"}, "z", None),  # a code for a 2-D model: meant for another model (issue #12)
    (SLIDERS, {"z_ae": ",".join(["0"] * 64)}, "z_ae", None),
    (SLIDERS, {"img": LINK}, "img", NOT_A_NUMBER),
    (SLIDERS, {"img": "-1"}, "img", OUT_OF_RANGE),
    (SLIDERS, {"img": HUGE}, "img", OUT_OF_RANGE),
    (SLIDERS, {"img": "2.5"}, "img", NOT_WHOLE),
    (SLIDERS, {"mode": HTML, "show": LINK}, "mode", None),
    (MAP, {"vae_at": LINK}, "vae_at", NOT_A_PLACE),
    (MAP, {"ae_at": IMAGE}, "ae_at", NOT_A_PLACE),
    (MAP, {"vae_at": HTML}, "vae_at", NOT_A_PLACE),
    (MAP, {"vae_at": "nan,nan"}, "vae_at", "value 1 of 2 is not a finite number"),
    (MAP, {"vae_at": "inf"}, "vae_at", NOT_FINITE),
    (MAP, {"vae_at": "0,1e999"}, "vae_at", "value 2 of 2 is not a finite number"),
    (MAP, {"ae_at": "1e300,0"}, "ae_at", "value 1 of 2 is out of range"),
    (MAP, {"vae_at": HUGE}, "vae_at", OUT_OF_RANGE),
    (MAP, {"vae_at": "1,2,3"}, "vae_at", "a place on the map is x,y (2 numbers, not 3)"),
    (MAP, {"vae_at": LONG}, "vae_at", TOO_LONG),
    (MAP, {"vae_at": UNICODE}, "vae_at", NOT_A_PLACE),
    (MAP, {"map": "tsne", "perplexity": "30", "iters": "250", "seed": "-1"}, "seed", OUT_OF_RANGE),
    (MAP, {"map": "tsne", "perplexity": "30", "iters": "250", "seed": str(2**32)}, "seed", OUT_OF_RANGE),
    (MAP, {"map": "tsne", "perplexity": "30", "iters": "250", "seed": "2.5"}, "seed", NOT_WHOLE),
    (MAP, {"map": "tsne", "perplexity": "30", "iters": "250", "seed": LINK}, "seed", NOT_A_NUMBER),
    (MAP, {"map": "tsne", "perplexity": "nan", "iters": "250"}, "perplexity", NOT_FINITE),
    (MAP, {"map": "tsne", "perplexity": "1e999", "iters": "250"}, "perplexity", NOT_FINITE),
    (MAP, {"map": "tsne", "perplexity": "30", "iters": HTML}, "iters", NOT_A_NUMBER),
    (MAP, {"map": "tsne", "perplexity": "30", "iters": HUGE}, "iters", OUT_OF_RANGE),
    (MAP, {"map": LINK, "vae": IMAGE, "ae": HTML, "dataset": LINK}, "map", None),  # the sidebar falls back
    (INTERPOLATE, {"a": LINK}, "a", NOT_A_NUMBER),
    (INTERPOLATE, {"b": IMAGE}, "b", NOT_A_NUMBER),
    (INTERPOLATE, {"a": HTML}, "a", NOT_A_NUMBER),
    (INTERPOLATE, {"steps": "nan"}, "steps", NOT_FINITE),
    (INTERPOLATE, {"steps": "1e999"}, "steps", NOT_FINITE),
    (INTERPOLATE, {"steps": HUGE}, "steps", OUT_OF_RANGE),
    (INTERPOLATE, {"a": "-1"}, "a", OUT_OF_RANGE),
    (INTERPOLATE, {"b": LONG}, "b", TOO_LONG),
    (INTERPOLATE, {"a": UNICODE}, "a", NOT_A_NUMBER),
    (INTERPOLATE, {"path": LINK}, "path", None),
]


def _strings(message) -> Iterator[str]:
    """Every string in a protobuf message, however deep (bodies, labels, captions, options, help texts)."""
    for _field, value in message.ListFields():
        values = value if hasattr(value, "__len__") and not isinstance(value, str | bytes) else [value]
        if hasattr(values, "values") and callable(values.values):  # a protobuf map
            values = list(values.values())
        for v in values:
            if isinstance(v, str):
                yield v
            elif hasattr(v, "ListFields"):
                yield from _strings(v)


def shown_texts(at: AppTest) -> list[str]:
    """The text of every element and block of the page, the sidebar included, as Streamlit sends it."""
    out: list[str] = []

    def walk(node) -> None:
        proto = getattr(node, "proto", None)
        if proto is not None:
            out.extend(_strings(proto))
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    return out


def assert_nothing_live(at: AppTest) -> None:
    """No Markdown link or image to a website and no HTML tag from the link reaches the page."""
    for text in shown_texts(at):
        assert "](http" not in text, f"a live link or image: {text[:300]!r}"
        assert not re.search(r"(?<!\\)<img", text), f"live HTML: {text[:300]!r}"


def ignored(at: AppTest) -> list[str]:
    return [w.value for w in at.warning if w.value.startswith("Ignored ?")]


def param(at: AppTest, key: str) -> str | None:
    value = at.query_params.get(key)
    return value[-1] if isinstance(value, list) else value


@pytest.mark.usefixtures("tiny_checkpoints")
@pytest.mark.parametrize(("page", "query", "key", "reason"), ATTACKS, ids=lambda v: Path(str(v)).stem[:40])
def test_a_crafted_link_is_ignored_with_the_right_reason(page, query, key, reason):
    query = ({"mode": "server"} if page == SLIDERS else {}) | query  # the live pad is tested in Chromium
    at = open_page(page, **query)  # asserts: no exception
    assert_nothing_live(at)
    warnings = ignored(at)
    if reason is None:
        assert not warnings, f"a value meant for another model is dropped without a word: {warnings}"
        return
    mine = [w for w in warnings if w.startswith(f"Ignored ?{key}=")]
    assert len(mine) == 1, warnings
    assert reason in mine[0], mine[0]
    assert escape_markdown(query[key], url_params.SHOWN_CHARS) in mine[0], "the value is quoted, escaped"


@pytest.mark.usefixtures("tiny_checkpoints")
def test_the_sliders_drop_a_code_meant_for_another_model_and_start_from_the_test_image():
    at = open_page(SLIDERS, mode="server", z="0.5,-1", img="3")
    code = [float(v) for v in param(at, "z").split(",")]
    assert len(code) == DIM, "the page wrote this model's code back into the link"
    assert not ignored(at)
    right = open_page(SLIDERS, mode="server", z=",".join(["0.25"] * DIM))
    assert [float(v) for v in param(right, "z").split(",")] == pytest.approx([0.25] * DIM, abs=1e-3)


@pytest.mark.usefixtures("tiny_checkpoints")
def test_a_valid_tsne_seed_from_a_link_is_used(monkeypatch):
    import ui.latent_map

    calls = []

    def quick_tsne(codes, settings=None, progress=None):  # real t-SNE takes seconds: only the page is tested here
        calls.append(settings)
        return np.asarray(codes)[:, :2] * 10

    monkeypatch.setattr(ui.latent_map, "fit_tsne", quick_tsne)
    at = open_page(MAP, map="tsne", perplexity="12.5", iters="1e3", seed=str(url_params.SEED_MAX))
    assert not ignored(at)
    assert any(s.perplexity == 12.5 and s.max_iter == 1000 and s.seed == url_params.SEED_MAX for s in calls)
    (element,) = at.get("bidi_component")
    header, _blobs = unpack_message(element.proto.bytes)
    assert all("t-SNE fresh" in m["title"] for m in header["maps"]), "each map says it is the link's fresh t-SNE"


@pytest.mark.usefixtures("tiny_checkpoints")
def test_a_crafted_job_id_is_dropped():
    at = open_page(TRAIN, job=LINK)
    assert param(at, "job") is None
    assert_nothing_live(at)


@pytest.mark.parametrize("value", [LINK, HTML, LONG])
def test_the_smoothness_lab_ignores_a_beta_model_it_does_not_have(value):
    at = AppTest.from_file(SMOOTHNESS, default_timeout=180)
    at.query_params.update({"dataset": "mnist5k", "vae": "mnist5k-vae-16", "ae": "mnist5k-ae-16", "beta_model": value})
    at.run()
    assert not at.exception, at.exception
    assert_nothing_live(at)
    assert param(at, "beta_model") == "mnist5k-vae-2", "the scrubber starts at the plain VAE"


# ---- the parsers and the escaping on their own ------------------------------------------------------------


@pytest.mark.parametrize(
    ("parse", "text", "reason"),
    [
        (lambda t: url_params.number(t, 0, 1), "abc", NOT_A_NUMBER),
        (lambda t: url_params.number(t, 0, 1), "-inf", NOT_FINITE),
        (lambda t: url_params.number(t, 0, 1), "1.5", "out of range (must be between 0 and 1)"),
        (lambda t: url_params.whole_number(t, 0, 9), "nan", NOT_FINITE),
        (lambda t: url_params.whole_number(t, 0, 9), "0.5", NOT_WHOLE),
        (lambda t: url_params.whole_number(t, 0, 9), "10", "out of range (must be between 0 and 9)"),
        (lambda t: url_params.code(t, 2, 10.0), "1,,2", "value 2 of 3 is not a number"),
        (lambda t: url_params.code(t, 2, 10.0), "1,11", "value 2 of 2 is out of range (must be between -10 and 10)"),
        (lambda t: url_params.map_place(t, 500, 10.0), "500", "out of range (must be between 0 and 499)"),
    ],
)
def test_each_refusal_says_why(parse, text, reason):
    with pytest.raises(url_params.Refused) as refused:
        parse(text)
    assert str(refused.value) == reason
    assert not isinstance(refused.value, url_params.MeantForAnother)


def test_what_the_parsers_accept():
    assert url_params.whole_number("1e3", 0, 5000) == 1000
    assert url_params.whole_number(" 7 ", 0, 9) == 7
    assert url_params.code("0.5,-1.25", 2, 10.0).tolist() == [0.5, -1.25]
    assert url_params.map_place("41", 500, 10.0) == 41 and url_params.map_place("1.5,-2", 500, 10.0) == (1.5, -2.0)
    with pytest.raises(url_params.MeantForAnother):
        url_params.code("0.5,-1.25", 16, 10.0)


def test_escaped_text_has_no_markup_and_no_direction_tricks():
    shown = escape_markdown(f"{LINK} {IMAGE} {HTML} \u202eevil\u2066 line\nbreak")
    assert "](" not in shown and not re.search(r"(?<!\\)[<\[!]", shown)
    assert "\u202e" not in shown and "\u2066" not in shown and "\n" not in shown
    assert len(escape_markdown(LONG, 60)) == 60
