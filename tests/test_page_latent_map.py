"""The Latent map page as a user sees it: two maps of the same test images, PCA vs t-SNE, and a pin that decodes.

The page runs on a tiny zoo of untrained models (tests/tiny_zoo.py), so it never depends on the shipped ones. The
maps are a browser component (ui/map_component.py); what it shows is read from the data the page sends it, and a
pin is simulated the way the browser sends it: the component's "pin" trigger."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from streamlit.proto.WidgetStates_pb2 import WidgetState
from streamlit.testing.v1 import AppTest

from tests.tiny_zoo import open_page as open_tiny_zoo_page
from tests.tiny_zoo import tiny_checkpoints, zoo  # noqa: F401 (fixtures)
from ui.loaders import checkpoint_catalog, latents
from ui.map_component import unpack_message
from vae_core.latent.map_decoding import LatentMap

PAGE = str(Path(__file__).resolve().parents[1] / "pages" / "2_Latent_map.py")
ASSETS: dict[str, np.ndarray] = {}  # every array asset a page sent (keys are content hashes: safe to share)

pytestmark = pytest.mark.usefixtures("tiny_checkpoints")


def open_page(**query: str) -> AppTest:
    return open_tiny_zoo_page(PAGE, **query)


def maps(at: AppTest) -> dict[str, dict]:
    """role -> what the component was told about that map this run; keeps the arrays it was sent."""
    (element,) = at.get("bidi_component")
    header, blobs = unpack_message(element.proto.bytes)
    for key, asset in header["assets"].items():
        if asset["kind"] in ("f32", "u8"):
            raw = blobs[asset["offset"] : asset["offset"] + asset["length"]]
            ASSETS[key] = np.frombuffer(raw, "<f4" if asset["kind"] == "f32" else np.uint8).reshape(asset["shape"])
    return {m["role"]: m | {"labels": header["labels"], "classes": header["classes"]} for m in header["maps"]}


def points(at: AppTest, role: str) -> np.ndarray:
    return ASSETS[maps(at)[role]["points"]]


def images(at: AppTest) -> dict[str, str]:
    """caption -> image url (the url is a hash of the image bytes: it changes when the image does)."""
    return {im.proto.imgs[0].caption: im.proto.imgs[0].url for im in at.get("image")}


def pin(at: AppTest, role: str, index: int | None = None, xy: tuple[float, float] | None = None) -> AppTest:
    """Send what the browser sends when a map is clicked: on a test image (index) or a place (xy)."""
    (element,) = at.get("bidi_component")
    value = {"role": role, "index": index} if index is not None else {"role": role, "xy": list(xy)}
    states = at._tree.get_widget_states()
    states.widgets.append(
        WidgetState(
            id=f"$$STREAMLIT_INTERNAL_KEY_{element.proto.id}__events",
            json_trigger_value=json.dumps([{"event": "pin", "value": value}]),
        )
    )
    at._run(states)
    assert not at.exception, at.exception
    return at


def param(at: AppTest, key: str) -> str | None:
    value = at.query_params.get(key)
    return value[0] if isinstance(value, list) else value


def test_two_maps_of_the_same_test_images_coloured_by_label():
    at = open_page()
    shown = maps(at)
    assert list(shown) == ["vae", "ae"]
    vae, ae = shown["vae"], shown["ae"]
    assert (vae["label"], ae["label"]) == ("VAE", "Autoencoder")
    assert vae["title"] == "PCA · mnist5k-vae-16" and ae["title"] == "PCA, aligned to the VAE · mnist5k-ae-16"
    assert points(at, "vae").shape == points(at, "ae").shape == (500, 2)  # every test image, in both maps
    ae_info = next(i for i in checkpoint_catalog() if i.name == "mnist5k-ae-16")
    own = LatentMap("pca").fit(latents(ae_info).mu).points_
    vae_points, ae_points = points(at, "vae"), points(at, "ae")
    gap = lambda p: np.linalg.norm((p - p.mean(0)) - (vae_points - vae_points.mean(0)))  # noqa: E731
    assert gap(ae_points) < gap(own), "the autoencoder's map is turned to put its images where the VAE's are"
    radius = lambda p: np.linalg.norm(p - p.mean(0), axis=1)  # noqa: E731
    np.testing.assert_allclose(radius(ae_points), radius(own), atol=1e-3)  # turned, never scaled
    assert len(ASSETS[vae["labels"]]) == 500 and vae["classes"] == [str(d) for d in range(10)]  # a legend entry each
    assert vae["prior"] is not None and ae["prior"] is None  # the prior's circles on the VAE's PCA map
    assert any("PCA plane through the mean code" in c.value for c in at.caption)
    assert any("Click the VAE's map to pin" in i.value for i in at.info)
    assert param(at, "map") == "pca"


def test_switching_to_tsne_changes_the_map_and_says_what_its_inverse_cannot_show():
    at = open_page()
    pca = points(at, "vae")
    at.radio(key="map_method").set_value("tsne").run()
    assert not at.exception
    tsne = points(at, "vae")
    assert tsne.shape == pca.shape and not np.allclose(tsne[:20], pca[:20])
    assert maps(at)["vae"]["title"] == "t-SNE precomputed · mnist5k-vae-16"
    assert maps(at)["vae"]["inverse"] == {"kind": "neighbours", "k": 5}
    assert any("stays inside the cloud of codes" in c.value for c in at.caption)


def test_pinning_the_plane_decodes_that_place_and_another_place_decodes_differently():
    at = open_page()
    assert "VAE: decoded" not in images(at)
    x, y = points(at, "vae").mean(axis=0)
    pin(at, "vae", xy=(float(x), float(y)))
    first = images(at)["VAE: decoded"]
    assert any("PCA inverse transform" in c.value for c in at.caption)  # says how the code was obtained
    assert "Autoencoder: decoded" not in images(at)  # a place belongs to the map that was pinned
    assert maps(at)["vae"]["pin"]["xy"] == pytest.approx([x, y], rel=1e-4) and maps(at)["ae"]["pin"] is None
    pin(at, "vae", xy=(float(x) + 3.0, float(y) - 3.0))
    assert images(at)["VAE: decoded"] != first
    assert param(at, "vae_at") == f"{x + 3:.5g},{y - 3:.5g}"


def test_pinning_a_test_image_selects_it_in_both_maps():
    at = open_page()
    pin(at, "ae", index=7)
    shown = images(at)
    assert "VAE: decoded" in shown and "Autoencoder: decoded" in shown
    assert "test image #7" in shown
    assert any("Test image #7" in c.value and "reconstruction" in c.value for c in at.caption)
    assert [m["pin"] for m in maps(at).values()] == [{"index": 7}, {"index": 7}]  # ringed in both maps
    assert param(at, "vae_at") == param(at, "ae_at") == "7"


def test_a_pin_reruns_without_sending_the_maps_again():
    at = open_page()
    (element,) = at.get("bidi_component")
    first = len(element.proto.bytes)
    pin(at, "vae", index=3)
    (element,) = at.get("bidi_component")
    assert first > 1_000_000 and len(element.proto.bytes) < 10_000, "weights and codes travel once per tab"


def test_a_shared_url_reproduces_the_decoded_point():
    a = open_page(vae_at="1.5,-0.5")
    b = open_page(vae_at="1.5,-0.5")
    c = open_page(vae_at="-2,2")
    assert images(a)["VAE: decoded"] == images(b)["VAE: decoded"] != images(c)["VAE: decoded"]
    assert maps(a)["vae"]["pin"] == {"xy": [1.5, -0.5]}
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
    assert list(maps(at)) == ["vae"] and points(at, "vae").shape == (500, 2)
    assert any("VAE is shown alone" in i.value for i in at.info)
    # a fresh t-SNE with chosen settings
    at.slider[0].set_value(12)
    at.button[0].click().run()
    assert not at.exception
    assert any(s is not None and s.perplexity == 12 for s in calls)
    assert param(at, "perplexity") == "12"
    assert maps(at)["vae"]["title"] == "t-SNE fresh · mnist5k-vae-3"
