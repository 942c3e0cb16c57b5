"""The Smoothness lab page through AppTest: the scoreboard compares both models with numbers, the beta scrubber
changes the model shown, and the shapes section appears for the shapes models. Runs on the shipped checkpoints and
their precomputed NAME.metrics.json (so each run takes seconds, not minutes)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

PAGE = str(Path(__file__).resolve().parents[1] / "pages" / "6_Smoothness.py")
NUMBER = re.compile(r"^-?\d+(\.\d+)?( %)?$")
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


def test_scoreboard_puts_numbers_for_both_models_side_by_side(digits_page):
    at = digits_page
    assert not at.exception
    board = at.table[0].value
    assert {"Metric", "VAE", "Autoencoder", "Winner", "What it shows"} <= set(board.columns)
    rows = board.set_index("Metric")
    for metric in ("Valid prior samples", "Path smoothness: largest step", "Holes under the prior"):
        assert NUMBER.match(plain(rows.loc[metric, "VAE"])), metric
        assert NUMBER.match(plain(rows.loc[metric, "Autoencoder"])), metric
    for metric, row in rows.iterrows():  # the winner named in the last columns is the cell marked green
        marked = [who for who in ("VAE", "Autoencoder") if WON.match(row[who])]
        assert marked == ([row["Winner"]] if row["Winner"] != "–" else []), metric
    assert rows.loc["Test NLL (IWAE bound)", "Autoencoder"] == "n/a", "an autoencoder has no likelihood"
    assert "On these two models" in at.success[0].value
    assert any("Be fair to the autoencoder" in i.value for i in at.info)


def test_validity_maps_are_drawn_for_both_models(digits_page):
    titles = _chart_titles(digits_page)
    assert any("VAE" in t and "mnist5k-vae-16" in t for t in titles)
    assert any("Autoencoder" in t and "mnist5k-ae-16" in t for t in titles)
    assert any("shapes" in i.value for i in digits_page.info), "on digits, the shapes section says where to find it"


def test_beta_scrubber_changes_the_model_and_its_map(digits_page):
    at = digits_page
    slider = at.select_slider(key="beta_model_slider")
    assert slider.value == "mnist5k-vae-2"
    assert not any("mnist5k-klonly-2" in t for t in _chart_titles(at))
    slider.set_value("mnist5k-klonly-2").run()
    assert at.query_params["beta_model"] in ("mnist5k-klonly-2", ["mnist5k-klonly-2"]), "the choice is in the URL"
    assert any("mnist5k-klonly-2" in t for t in _chart_titles(at)), "the latent map follows the slider"
    assert any("collapses onto the prior" in m.value for m in at.markdown)
    series = at.table[1].value
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
    board = at.table[0].value.set_index("Metric")
    assert NUMBER.match(plain(board.loc["Valid prior samples", "VAE"]))
    assert NUMBER.match(plain(board.loc["Test NLL (IWAE bound)", "VAE"]))
    assert metrics_path(path).is_file(), "the numbers are kept beside the user's checkpoint for next time"
