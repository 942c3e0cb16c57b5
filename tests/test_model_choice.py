"""The sidebar's model choice on every page (AppTest): switching A -> B -> A -> B keeps each choice, the URL and the
box agree after every switch, nothing warns, and a choice made on one page is the next page's choice.

(Issue #12: the box snapped back to the previous model on every other switch.)"""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]
# The lesson offers only 2-D models (its maps are the latent plane): tests/test_lesson_page.py switches its pair.
PAGES = ["app.py", *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "pages").glob("*.py") if p.stem != "0_Lesson")]
A, B = "mnist5k-vae-16", "mnist5k-vae-2"


def _run(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, at.exception
    return at


def _box(at: AppTest, key: str):
    return at.sidebar.selectbox(key=f"sidebar::{key}")


def _param(at: AppTest, key: str) -> str | None:
    value = at.query_params.get(key)
    return value[0] if isinstance(value, list) else value


@pytest.mark.parametrize("script", PAGES, ids=lambda p: Path(p).stem)
def test_switching_a_b_a_b_keeps_every_choice(script):
    at = _run(AppTest.from_file(str(ROOT / script), default_timeout=240))
    first = B if _box(at, "vae").value == A else A  # a page opens on its own default: switch away from it first
    for name in (first, B if first == A else A) * 2:
        _run(_box(at, "vae").select(name).run())
        twin = name.replace("-vae-", "-ae-")
        assert _box(at, "vae").value == name, f"{script}: the box snapped back"
        assert _param(at, "vae") == name, f"{script}: the URL disagrees with the box"
        assert _box(at, "ae").value == twin and _param(at, "ae") == twin, f"{script}: the twin did not follow"
        assert not at.warning, f"{script}: {[w.value for w in at.warning]}"


def test_a_choice_made_on_one_page_is_the_next_pages_and_a_link_wins_over_the_memory():
    at = _run(AppTest.from_file(str(ROOT / "app.py"), default_timeout=120))
    assert _param(at, "vae") is None, "no choice yet: the link names no model"
    _run(_box(at, "vae").select(B).run())
    at.switch_page("pages/3_Latent_sliders.py")
    at.query_params.clear()  # a sidebar link drops the query string
    _run(at)
    assert _box(at, "vae").value == B and _param(at, "vae") == B
    at.query_params["vae"] = A  # an in-app link that names another model
    _run(at)
    assert _box(at, "vae").value == A
    at.query_params["vae"] = "no-such-model"
    _run(at)
    assert _box(at, "vae").value == A and _param(at, "vae") == A, "an unknown name is dropped, the memory stays"


def test_changing_the_dataset_forgets_the_models_of_the_other_one():
    at = _run(AppTest.from_file(str(ROOT / "app.py"), default_timeout=120))
    _run(_box(at, "vae").select(B).run())
    _run(_box(at, "dataset").select("shapes").run())
    assert _box(at, "vae").value.startswith("shapes-") and _param(at, "vae").startswith("shapes-")
    _run(_box(at, "dataset").select("mnist5k").run())
    assert _box(at, "vae").value == A, "back on mnist5k: the page's default, not the forgotten choice"
