"""The Smoothness lab page through AppTest: the scoreboard compares both models with intervals and verdicts, the
sentences that compare them quote the metrics files, the beta scrubber changes the model shown, and the shapes
section appears for the shapes models. Runs on the shipped checkpoints and
their precomputed NAME.metrics.json (so each run takes seconds, not minutes)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

PAGE = str(Path(__file__).resolve().parents[1] / "pages" / "6_Smoothness.py")
WITH_INTERVAL = re.compile(r"^-?\d+(\.\d+)?( %)? \[-?\d+(\.\d+)?, -?\d+(\.\d+)?\]( %)?$")
WON = re.compile(r"^:green-background\[\*\*(.*)\*\*\]$")  # how a winning cell is marked (Markdown in st.table)


def plain(cell: str) -> str:
    """A table cell's text without the winner's marking."""
    m = WON.match(cell)
    return (m.group(1) if m else cell).replace("\u00a0", " ")


def _page(**params: str) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=180)
    at.query_params.update(params)
    return at.run()


def _chart_titles(at: AppTest) -> list[str]:
    titles = []
    for chart in at.get("plotly_chart"):
        layout = json.loads(chart.proto.spec).get("layout", {})
        titles.append(str(layout.get("title", {}).get("text", "")))
    return titles


@pytest.fixture(scope="module")
def digits_page() -> AppTest:
    return _page(dataset="mnist5k", vae="mnist5k-vae-16", ae="mnist5k-ae-16")


def _files(*names: str) -> list:
    from vae_core.evaluation.results import read_scores
    from vae_core.store.catalog import SHIPPED_DIR

    return [read_scores(SHIPPED_DIR / f"{n}.safetensors") for n in names]


def test_the_scoreboard_shows_each_measure_with_its_interval_and_a_verdict(digits_page):
    at = digits_page
    assert not at.exception
    groups = [t.value for t in at.table if "Measure" in t.value.columns]
    assert len(groups) == 4, "holes, smudges, paths, fit"
    board = pd.concat(groups).set_index("Measure")
    assert {"VAE", "Autoencoder", "VAE − AE", "Verdict", "Seeds agree"} <= set(board.columns)
    assert any("Holes under a fitted Gaussian** (lower is better" in e.value for e in at.markdown), "the glossary"
    for measure in ("Holes under a fitted Gaussian", "Smudges under N(0, I)", "Path: largest step"):
        for who in ("VAE", "Autoencoder"):
            assert WITH_INTERVAL.match(plain(board.loc[measure, who])), (measure, who, board.loc[measure, who])
    for measure, row in board.iterrows():  # the better model named in the verdict is the cell marked green
        marked = [who for who in ("VAE", "Autoencoder") if WON.match(row[who])]
        assert marked == ([row["Verdict"].removesuffix(" better")] if row["Verdict"].endswith("better") else []), (
            measure
        )
    assert board.loc["Test NLL (IWAE bound)", "Autoencoder"] == "n/a", "an autoencoder has no likelihood"
    assert board.loc["Active units", "Verdict"] == "not a contest"
    assert "Of the measures that are a contest" in at.success[0].value


def test_every_number_in_the_comparing_sentences_is_quoted_from_the_metrics_files(digits_page):
    from vae_core.evaluation.measures import SCOREBOARD

    vae, ae = _files("mnist5k-vae-16", "mnist5k-ae-16")
    runs = len(vae.seeds.get("runs", {})) + 1
    quoted = {str(len(vae.paths["pairs"]))} | {str(k) for k in range(runs + 1)}  # "only k of n training seeds agree"
    for s in (vae, ae):
        for spec in SCOREBOARD:
            quoted |= {spec.format(s.values.get(spec.key)), spec.format_interval(*s.interval(spec.key))}
        for shares in s.details["judge"]["held_out"].values():
            quoted |= {SCOREBOARD[0].format(v) for v in shares.values()}
    sentences = [i.value for i in digits_page.info if i.value.startswith(("**Holes", "**A smudge", "**Over"))]
    assert len(sentences) == 3
    for sentence in sentences:
        text = sentence.replace("N(0, I)", "")
        for number in re.findall(r"\d+(?:\.\d+)?(?: %)?", text):
            assert any(number in q for q in quoted), (number, sentence)
    fair = sentences[0]
    row = f"{SCOREBOARD[1].format(vae.values['fitted_holes'])} vs {SCOREBOARD[1].format(ae.values['fitted_holes'])}"
    assert row in fair


def _mounts(at: AppTest) -> list[dict]:
    """The latent map components on the page, in order: what each was told this run."""
    from ui.map_component import unpack_message

    return [unpack_message(element.proto.bytes)[0] for element in at.get("bidi_component")]


def test_one_component_shows_both_models_over_their_validity_maps(digits_page):
    import numpy as np

    assert not any("mnist5k-vae-16" in t for t in _chart_titles(digits_page)), "no plotly map any more"
    maps = _mounts(digits_page)[0]["maps"]
    assert [(m["role"], m["label"], m["title"]) for m in maps] == [
        ("vae", "VAE", "PCA · mnist5k-vae-16"),
        ("ae", "Autoencoder", "PCA · mnist5k-ae-16"),
    ], "the VAE and the autoencoder side by side, in one mount"
    for m, vmap in zip(maps, (s.validity_map for s in _files("mnist5k-vae-16", "mnist5k-ae-16")), strict=True):
        assert m["background"]["name"] == "confidence" and "smudge" in m["background"]["legend"]
        np.testing.assert_allclose(m["background"]["corners"], vmap.corners(), atol=1e-4)  # the map's own plane
        assert m["prior"] is not None, "the prior's circles: where the scoreboard's samples come from"
    assert _mounts(digits_page)[0]["pins"] is False, "nothing on this page follows a pin"
    notes = [c.value for c in digits_page.caption if "Each cell of the background" in c.value]
    assert len(notes) == 2, "under the two maps, and under the beta scrubber's map"
    assert "(and the other map the place among the same test images)" in notes[0] and "other map" not in notes[1]
    assert "principal components" in notes[0]
    assert any("**white** = a confident digit" in m.value for m in digits_page.markdown), "what the colours mean"
    assert any("shapes" in i.value for i in digits_page.info), "on digits, the shapes section says where to find it"


def test_beta_scrubber_changes_the_model_and_its_map(digits_page):
    at = digits_page
    slider = at.select_slider(key="beta_model_slider")
    assert slider.value == "mnist5k-vae-2"
    beta = _mounts(at)[1]["maps"]
    assert [m["title"] for m in beta] == ["latent plane · mnist5k-vae-2"] and beta[0]["background"] is not None
    slider.set_value("mnist5k-klonly-2").run()
    assert at.query_params["beta_model"] in ("mnist5k-klonly-2", ["mnist5k-klonly-2"]), "the choice is in the URL"
    beta = _mounts(at)[1]["maps"]
    assert [m["title"] for m in beta] == ["latent plane · mnist5k-klonly-2"], "the latent map follows the slider"
    assert beta[0]["background"]["grid"] != _mounts(at)[0]["maps"][0]["background"]["grid"]
    assert any("collapses onto the prior" in m.value for m in at.markdown)
    series = next(t.value for t in at.table if "Model" in t.value.columns)
    assert [plain(m) for m in series["Model"]][-2:] == ["KL only", "autoencoder (reference)"]
    assert [plain(m) for m in series["Model"] if WON.match(m)] == ["KL only"], "the chosen row is marked"


def test_shapes_section_shows_factors_and_traversals():
    at = _page(dataset="shapes", vae="shapes-vae-8", ae="shapes-ae-8")
    assert not at.exception
    assert "Traversals next to the true factors" in [s.value for s in at.subheader]
    factor_tables = [t.value for t in at.table if "Factor" in t.value.columns]
    assert len(factor_tables) == 2, "one table per model"
    assert list(factor_tables[0]["Factor"]) == ["shape", "scale", "rotation", "x", "y"]
    assert all(t.startswith("z") for t in factor_tables[0]["Best dimension"])
    assert len(at.image) >= 10, "a true-factor strip and a latent traversal per factor"


def test_a_users_checkpoint_is_scored_on_demand_and_remembered(tmp_path, monkeypatch):
    """A model trained in the app has no precomputed scoreboard: the page computes it and saves it beside it."""
    import torch

    from ui.loaders import checkpoint_catalog
    from vae_core.config import ModelConfig
    from vae_core.evaluation.results import metrics_path
    from vae_core.model import build_model
    from vae_core.store.catalog import user_checkpoint_dir
    from vae_core.store.checkpoints import save_checkpoint

    torch.manual_seed(0)
    model = build_model(ModelConfig(latent_dim=2, channels=(4, 4, 4), hidden=8))
    path = save_checkpoint(model, user_checkpoint_dir() / "my-tiny-vae.safetensors", {"dataset": "mnist5k"})
    checkpoint_catalog.clear()  # the sidebar's catalog is cached for 5 s; the new model must be listed now
    at = _page(dataset="mnist5k", vae="my-tiny-vae", ae="mnist5k-ae-2")
    assert not at.exception
    board = pd.concat([t.value for t in at.table if "Measure" in t.value.columns]).set_index("Measure")
    assert WITH_INTERVAL.match(plain(board.loc["Confident digits under N(0, I)", "VAE"]))
    assert WITH_INTERVAL.match(plain(board.loc["Test NLL (IWAE bound)", "VAE"]))
    assert metrics_path(path).is_file(), "the numbers are kept beside the user's checkpoint for next time"
