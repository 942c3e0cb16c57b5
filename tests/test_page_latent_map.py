"""The Latent map page as a user sees it: two maps of the same test images, PCA vs t-SNE, and a click that decodes.

The page runs on a tiny zoo of untrained models (tests/tiny_zoo.py), so it never depends on the shipped ones.
A click is simulated the way the browser sends it: a plotly selection as the chart's widget value."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np
import pytest
from streamlit.proto.WidgetStates_pb2 import WidgetState
from streamlit.testing.v1 import AppTest

from tests.tiny_zoo import open_page as open_tiny_zoo_page
from tests.tiny_zoo import tiny_checkpoints, zoo  # noqa: F401 (fixtures)

PAGE = str(Path(__file__).resolve().parents[1] / "pages" / "2_Latent_map.py")


pytestmark = pytest.mark.usefixtures("tiny_checkpoints")


def open_page(**query: str) -> AppTest:
    return open_tiny_zoo_page(PAGE, **query)


def chart(at: AppTest, key: str):
    return next(c for c in at.get("plotly_chart") if c.key == key)


def array(value) -> np.ndarray:
    """A plotly JSON array: a list, or numpy's bytes in base64 ({"dtype", "bdata", "shape"})."""
    if isinstance(value, dict):
        flat = np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
        shape = value.get("shape")
        return flat.reshape([int(n) for n in str(shape).split(",")]) if shape else flat
    return np.asarray(value)


def map_points(at: AppTest, key: str) -> dict[int, tuple[float, float]]:
    """test image index -> (x, y) as drawn on the map with this key."""
    spec = json.loads(chart(at, key).proto.spec)
    out = {}
    for trace in spec["data"]:
        if "customdata" not in trace:
            continue
        for x, y, custom in zip(array(trace["x"]), array(trace["y"]), array(trace["customdata"]), strict=True):
            out[int(custom[0])] = (float(x), float(y))
    return out


def images(at: AppTest) -> dict[str, str]:
    """caption -> image url (the url is a hash of the image bytes: it changes when the image does)."""
    return {im.proto.imgs[0].caption: im.proto.imgs[0].url for im in at.get("image")}


def click(at: AppTest, key: str, x: float, y: float, index: int | None = None) -> AppTest:
    """Send what the browser sends when a point of the map is clicked (a test image, or the invisible grid)."""
    point = {"curve_number": 1, "point_number": 0, "point_index": 0, "x": x, "y": y}
    if index is not None:
        point["customdata"] = [index, 0]
    states = at._tree.get_widget_states()
    states.widgets.append(
        WidgetState(
            id=chart(at, key).proto.id,
            string_value=json.dumps({"selection": {"points": [point], "point_indices": [0], "box": [], "lasso": []}}),
        )
    )
    at._run(states)
    assert not at.exception, at.exception
    return at


def test_what_a_click_means():
    from ui.latent_map import click_target, parse_target

    # the browser sends a point's customdata [index, label] as {"0": index, "1": label}
    assert click_target({"points": [{"x": 1.0, "y": 2.0, "customdata": {"0": 41, "1": 3}}]}) == "41"
    assert click_target({"points": [{"x": 1.0, "y": 2.0, "customdata": [41, 3]}]}) == "41"
    assert click_target({"points": [{"x": 1.25, "y": -2.5}]}) == "1.25,-2.5"  # the invisible grid: a place
    assert click_target({"points": []}) is None and click_target(None) is None
    assert parse_target("41", 500) == 41 and parse_target("1.25,-2.5", 500) == (1.25, -2.5)
    assert parse_target("500", 500) is None and parse_target("nan,1", 500) is None and parse_target("x", 500) is None


def test_two_maps_of_the_same_test_images_coloured_by_label():
    at = open_page()
    vae, ae = map_points(at, "vae_map"), map_points(at, "ae_map")
    assert len(vae) == 500 and set(vae) == set(ae)  # every test image, in both maps
    spec = json.loads(chart(at, "vae_map").proto.spec)
    assert "VAE" in spec["layout"]["title"]["text"] and "PCA" in spec["layout"]["title"]["text"]
    assert {t["name"] for t in spec["data"]} >= {str(d) for d in range(10)}  # a legend entry per digit
    assert "Autoencoder" in json.loads(chart(at, "ae_map").proto.spec)["layout"]["title"]["text"]
    assert any("Click a dot" in i.value for i in at.info)
    assert at.query_params["map"] == ["pca"] or at.query_params["map"] == "pca"


def test_switching_to_tsne_changes_the_map():
    at = open_page()
    pca = map_points(at, "vae_map")
    at.radio(key="map_method").set_value("tsne").run()
    assert not at.exception
    tsne = map_points(at, "vae_map")
    assert set(tsne) == set(pca)
    assert not np.allclose([tsne[i] for i in range(20)], [pca[i] for i in range(20)])
    assert "t-SNE" in json.loads(chart(at, "vae_map").proto.spec)["layout"]["title"]["text"]


def test_clicking_the_plane_decodes_that_place_and_another_place_decodes_differently():
    at = open_page()
    assert "VAE: decoded" not in images(at)
    x, y = np.mean(list(map_points(at, "vae_map").values()), axis=0)
    click(at, "vae_map", float(x), float(y))
    first = images(at)["VAE: decoded"]
    assert any("PCA inverse transform" in c.value for c in at.caption)  # says how the code was obtained
    assert "Autoencoder: decoded" not in images(at)  # a place belongs to the map that was clicked
    click(at, "vae_map", float(x) + 3.0, float(y) - 3.0)
    assert images(at)["VAE: decoded"] != first
    assert "," in at.query_params["vae_at"][0] if isinstance(at.query_params["vae_at"], list) else True


def test_clicking_a_test_image_selects_it_in_both_maps():
    at = open_page()
    click(at, "ae_map", 0.0, 0.0, index=7)
    shown = images(at)
    assert "VAE: decoded" in shown and "Autoencoder: decoded" in shown
    assert "test image #7" in shown
    assert any("Test image #7" in c.value and "reconstruction" in c.value for c in at.caption)
    # the clicked image is ringed in both maps
    for key in ("vae_map", "ae_map"):
        ring = [t for t in json.loads(chart(at, key).proto.spec)["data"] if t.get("name") == "clicked"]
        assert ring and np.allclose([array(ring[0]["x"])[0], array(ring[0]["y"])[0]], map_points(at, key)[7], atol=1e-4)


def test_a_shared_url_reproduces_the_decoded_point():
    a = open_page(vae_at="1.5,-0.5")
    b = open_page(vae_at="1.5,-0.5")
    c = open_page(vae_at="-2,2")
    assert images(a)["VAE: decoded"] == images(b)["VAE: decoded"] != images(c)["VAE: decoded"]
    bad = open_page(vae_at="nonsense")
    assert any("Ignored ?vae_at=nonsense" in w.value for w in bad.warning)


def test_tsne_decodes_through_the_nearest_mapped_points():
    at = open_page(map="tsne", vae_at="5,5")
    assert any("t-SNE has no inverse" in c.value for c in at.caption)
    assert "VAE: decoded" in images(at)


def test_a_vae_without_twin_or_precomputed_tsne(monkeypatch):
    import ui.latent_map

    calls = []

    def quick_tsne(codes, settings=None, progress=None):  # real t-SNE takes seconds: only the page is tested here
        calls.append(settings)
        return np.asarray(codes)[:, :2] * 10

    monkeypatch.setattr(ui.latent_map, "fit_tsne", quick_tsne)
    at = open_page(vae="mnist5k-vae-3", map="tsne")
    assert calls, "the missing t-SNE was not computed"
    assert len(map_points(at, "vae_map")) == 500
    assert [c.key for c in at.get("plotly_chart")] == ["vae_map"]
    assert any("VAE is shown alone" in i.value for i in at.info)
    # a fresh t-SNE with chosen settings
    at.slider[0].set_value(12)
    at.button[0].click().run()
    assert not at.exception
    assert any(s is not None and s.perplexity == 12 for s in calls)
    assert at.query_params["perplexity"] in ("12", ["12"])
