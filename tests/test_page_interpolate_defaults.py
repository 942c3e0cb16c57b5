"""The Interpolate page on the shipped models: its default pair is the typical one by measurement (the rule of
``contrast.typical_pair`` on the metrics files, never a lucky pair), and what it says about the two models quotes
those files."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from ui.sidebar import DEFAULT_VAE
from vae_core.evaluation.contrast import typical_pair
from vae_core.evaluation.measures import SPECS
from vae_core.evaluation.results import read_scores
from vae_core.store.catalog import SHIPPED_DIR, find_twin, scan_checkpoints

PAGE = str(Path(__file__).resolve().parents[1] / "pages" / "4_Interpolate.py")


@pytest.fixture(scope="module")
def files():
    infos = scan_checkpoints()
    vae = next(i for i in infos if i.name == DEFAULT_VAE)
    return read_scores(vae.path), read_scores(find_twin(infos, vae).path)


@pytest.fixture(scope="module")
def page():
    at = AppTest.from_file(PAGE, default_timeout=120).run()
    assert not at.exception, at.exception
    return at


def test_the_default_pair_is_the_typical_pair_of_the_default_models(page, files):
    assert None not in files, "the shipped metrics files are up to date (python -m vae_core.cli.metrics --all)"
    t = typical_pair(*files)
    assert (page.session_state.interp_a, page.session_state.interp_b) == t.pair
    note = next(c.value for c in page.caption if "A typical pair, chosen by measurement" in c.value)
    assert SPECS["path_max_step"].format(t.values[0]) in note and SPECS["path_max_step"].format(t.values[1]) in note
    assert f"{round(t.percentiles[0])}" in note


def test_the_comparison_over_all_pairs_quotes_the_files(page, files):
    vae, ae = files
    spec = SPECS["path_max_step"]
    sentence = next(i.value for i in page.info if i.value.startswith("**Over"))
    assert f"{spec.format(vae.values['path_max_step'])} vs {spec.format(ae.values['path_max_step'])}" in sentence
    assert f"Over {len(vae.paths['pairs'])} random pairs" in sentence


def test_a_pair_outside_the_scored_pairs_says_so():
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.query_params.update(a="0", b="0")
    at.run()
    assert any("same image" in w.value for w in at.warning)
    at = AppTest.from_file(PAGE, default_timeout=120)
    pairs = {tuple(sorted(p)) for p in read_scores(SHIPPED_DIR / f"{DEFAULT_VAE}.safetensors").paths["pairs"]}
    a, b = next((i, i + 1) for i in range(499) if (i, i + 1) not in pairs)
    at.query_params.update(a=str(a), b=str(b))
    at.run()
    assert any("not among the pairs in the metrics files" in c.value for c in at.caption)
