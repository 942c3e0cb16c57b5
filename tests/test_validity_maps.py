"""The validity map as the latent map component's background (ui/validity_maps.py, ui/map_layers.py): the grid lies on
the map's own plane, cell for cell (the code hovering decodes at a cell's centre is the code that cell was judged
at), and it travels to the browser once, as a uint8 asset with its corners in map coordinates."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ui.map_layers import CONFIDENCE_RAMP, Background, ramp_colour
from ui.validity_maps import validity_layer
from vae_core.evaluation.results import read_scores
from vae_core.latent.codes import load_latents
from vae_core.latent.map_decoding import LatentMap

CHECKPOINTS = Path(__file__).resolve().parents[1] / "checkpoints"


def shipped(name: str):
    """A shipped model's validity map, its test codes, and the component's map of them (computed afresh)."""
    vmap = read_scores(CHECKPOINTS / f"{name}.safetensors").validity_map
    mu = load_latents(CHECKPOINTS / f"{name}.safetensors")["mu"]
    return vmap, mu, LatentMap("pca").fit(mu)


def grid_axes(vmap) -> tuple[np.ndarray, np.ndarray]:
    """The grid's points along each axis as they were decoded (``np.linspace``); the metrics file keeps them rounded
    to 4 decimals."""
    xs, ys = (np.linspace(v[0], v[-1], len(v), dtype=np.float64) for v in (vmap.xs, vmap.ys))
    assert np.abs(xs - vmap.xs).max() < 1.5e-4 and np.abs(ys - vmap.ys).max() < 1.5e-4
    return xs, ys


def cell_places(background: Background, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Where the centres of image cells (row 0 at the top) land on the map, through the background's corners, as
    map_layer.js draws them."""
    o, r, b = np.asarray(background.corners)
    n_rows, n_cols = np.shape(background.values)
    return o + ((cols + 0.5) / n_cols)[:, None] * (r - o) + ((rows + 0.5) / n_rows)[:, None] * (b - o)


@pytest.mark.parametrize("name", ["mnist5k-vae-16", "mnist5k-ae-16", "mnist5k-vae-2", "mnist5k-ae-2"])
def test_each_cell_is_drawn_where_the_map_decodes_the_code_it_was_judged_at(name):
    vmap, mu, lmap = shipped(name)
    drawn, background = validity_layer(vmap, lmap, mu)
    assert drawn is lmap, "the validity grid's plane is the map's own: the map is kept"
    np.testing.assert_allclose(background.corners, vmap.corners(), atol=1e-4)  # same coordinates, no turn
    rng = np.random.default_rng(0)
    rows, cols = rng.integers(0, 40, 25), rng.integers(0, 40, 25)
    xs, ys = grid_axes(vmap)
    judged = vmap.codes_at(np.column_stack([xs[cols], ys[::-1][rows]]))  # the codes the grid's cells were judged at
    decoded = np.stack([lmap.code_at(p) for p in cell_places(background, rows, cols)])
    np.testing.assert_allclose(decoded, judged, atol=1e-5)
    np.testing.assert_array_equal(background.values, vmap.confidence[::-1])  # image row 0 is the top (largest y)
    if mu.shape[1] == 2:
        np.testing.assert_allclose(decoded, np.column_stack([xs[cols], ys[::-1][rows]]), atol=1e-5)


def test_a_turned_map_gets_a_turned_grid_and_another_plane_gets_the_grids_own():
    vmap, mu, lmap = shipped("mnist5k-vae-16")
    flipped = LatentMap("pca").fit(mu)
    flipped.inverse_.components_ = flipped.inverse_.components_[::-1] * [[1], [-1]]  # a quarter turn of the plane
    flipped.points_ = flipped.inverse_.transform(mu)
    drawn, background = validity_layer(vmap, flipped, mu)
    assert drawn is flipped
    places = cell_places(background, np.array([0, 7, 39]), np.array([3, 20, 39]))
    xs, ys = grid_axes(vmap)
    judged = vmap.codes_at(np.column_stack([xs[[3, 20, 39]], ys[::-1][[0, 7, 39]]]))
    np.testing.assert_allclose([flipped.code_at(p) for p in places], judged, atol=1e-5)
    other = LatentMap("pca").fit(mu[:, ::-1] * np.linspace(1, 3, 16))  # another span: the grid is not on it
    assert vmap.corners_on(other) is None
    drawn, background = validity_layer(vmap, other, mu)
    assert drawn is not other and vmap.corners_on(drawn) is not None
    np.testing.assert_allclose(drawn.points_, vmap.pca.transform(mu), atol=1e-5)


def test_a_background_is_a_grid_in_0_1_with_three_corners():
    corners = ((0.0, 1.0), (1.0, 1.0), (0.0, 0.0))
    with pytest.raises(ValueError, match=r"values in \[0, 1\]"):
        Background(np.full((4, 4), 1.5), corners, "confidence", "legend")
    with pytest.raises(ValueError, match="3 finite corners"):
        Background(np.zeros((4, 4)), corners[:2], "confidence", "legend")
    assert Background(np.array([[0.0, 1.0]]), corners, "c", "l").grid_bytes().tolist() == [[0, 255]]
    assert ramp_colour(CONFIDENCE_RAMP, 0.0) == (0x14, 0x12, 0x20) and ramp_colour(CONFIDENCE_RAMP, 1.0) == (255,) * 3
    assert ramp_colour(CONFIDENCE_RAMP, 0.85) == (0xD0, 0xC6, 0xED), "halfway between the 0.8 and 0.9 stops"


def _host() -> None:
    import streamlit as st

    from ui.loaders import checkpoint_catalog, load_model
    from ui.validity_maps import validity_maps

    infos = {i.name: i for i in checkpoint_catalog()}
    names = st.query_params["models"].split(",")
    models = [(r, r.upper(), infos[n], load_model(infos[n])) for r, n in zip(("vae", "ae"), names, strict=True)]
    validity_maps(models, key="validity")


def test_the_header_carries_each_maps_background_and_the_grid_travels_once():
    from streamlit.testing.v1 import AppTest

    from ui.map_component import unpack_message

    at = AppTest.from_function(_host, default_timeout=120)
    at.query_params.update(models="mnist5k-vae-16,mnist5k-ae-16")
    at.run()
    assert not at.exception, at.exception
    (element,) = at.get("bidi_component")
    header, blobs = unpack_message(element.proto.bytes)
    for m, name in zip(header["maps"], ("mnist5k-vae-16", "mnist5k-ae-16"), strict=True):
        vmap, _, _ = shipped(name)
        bg = m["background"]
        assert (bg["rows"], bg["cols"], bg["name"]) == (40, 40, "confidence") and "smudge" in bg["legend"]
        np.testing.assert_allclose(bg["corners"], vmap.corners(), atol=1e-4)
        asset = header["assets"][bg["grid"]]
        assert asset["kind"] == "u8" and asset["shape"] == [40, 40]
        grid = np.frombuffer(blobs[asset["offset"] : asset["offset"] + asset["length"]], np.uint8).reshape(40, 40)
        np.testing.assert_array_equal(grid, np.round(vmap.confidence[::-1].astype(np.float64) * 255))
    at.run()
    (element,) = at.get("bidi_component")
    again, _ = unpack_message(element.proto.bytes)
    assert again["assets"] == {} and again["maps"][0]["background"] == header["maps"][0]["background"]
