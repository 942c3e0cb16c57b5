"""The Interpolate page as a user sees it: decoded strips for the VAE and the autoencoder, the step-change chart,
a random pair that changes the endpoints, and a URL that reproduces the view. Runs on tests/tiny_zoo.py."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from tests.tiny_zoo import open_page as open_tiny_zoo_page
from tests.tiny_zoo import tiny_checkpoints, zoo  # noqa: F401 (fixtures)

PAGE = str(Path(__file__).resolve().parents[1] / "pages" / "4_Interpolate.py")


pytestmark = pytest.mark.usefixtures("tiny_checkpoints")


def open_page(**query: str) -> AppTest:
    return open_tiny_zoo_page(PAGE, **query)


def captions(at: AppTest) -> list[str]:
    return [im.proto.imgs[0].caption for im in at.get("image")]


def strips(at: AppTest) -> list[str]:
    return [c for c in captions(at) if "total change" in c]


def step_chart(at: AppTest) -> dict:
    return json.loads(next(c for c in at.get("plotly_chart") if c.key == "step_changes").proto.spec)


def array(value) -> np.ndarray:
    """A plotly JSON array: a list, or numpy's bytes in base64 ({"dtype", "bdata"})."""
    if isinstance(value, dict):
        return np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
    return np.asarray(value)


def endpoints(at: AppTest) -> list[str]:
    return [c for c in captions(at) if c.startswith(("start #", "end #"))]


def test_strips_for_the_vae_and_the_autoencoder_and_the_step_change_chart():
    at = open_page()
    assert [s.split(":")[0] for s in strips(at)] == ["VAE", "Autoencoder", "VAE", "Autoencoder"]  # linear, spherical
    assert [m.value for m in at.markdown if m.value.endswith(" path**")] == ["**Linear path**", "**Spherical path**"]
    names = [t["name"] for t in step_chart(at)["data"]]
    assert names == ["VAE · linear", "Autoencoder · linear", "VAE · spherical", "Autoencoder · spherical"]
    assert len(endpoints(at)) == 2
    labels = [b.proto.label for b in at.get("download_button")]
    assert {"Linear strips (PNG)", "Spherical strips (PNG)", "Step changes (CSV)"} <= set(labels)


def test_random_pair_changes_the_endpoints_and_the_url():
    at = open_page()
    before = endpoints(at), strips(at)
    at.button[0].click().run()
    assert not at.exception
    after = endpoints(at), strips(at)
    assert after[0] != before[0]
    assert at.query_params["a"] in (str(at.session_state.interp_a), [str(at.session_state.interp_a)])
    assert at.session_state.interp_a != at.session_state.interp_b


def test_a_url_reproduces_the_pair_the_steps_and_the_path():
    at = open_page(a="5", b="17", steps="7", path="linear")
    assert endpoints(at)[0].startswith("start #5") and endpoints(at)[1].startswith("end #17")
    assert len(strips(at)) == 2  # linear only: VAE and autoencoder
    chart = step_chart(at)
    assert len(chart["data"]) == 2
    assert len(array(chart["data"][0]["y"])) == 6  # 7 images, 6 steps between them


def test_the_same_image_at_both_ends_says_so():
    at = open_page(a="3", b="3")
    assert any("same image" in w.value for w in at.warning)
    assert all("total change 0.0" in s for s in strips(at))


def test_a_vae_without_twin_is_shown_alone_with_a_note():
    at = open_page(vae="mnist5k-vae-3")
    assert strips(at) and all(s.startswith("VAE") for s in strips(at))
    assert any("VAE is shown alone" in i.value for i in at.info)


def test_the_path_on_the_latent_map_opens_on_demand_with_both_ends_as_stars():
    import os

    from ui.map_component import unpack_message
    from vae_core.latent.codes import load_latents
    from vae_core.latent.interpolation import latent_path
    from vae_core.latent.map_decoding import LatentMap

    at = open_page(a="5", b="17", steps="7", path="both")
    assert [e.label for e in at.expander][0] == "The path on the latent map"
    assert not at.get("bidi_component"), "closed, it sends nothing to the browser"
    at.session_state["interp_map"] = True  # what opening it does
    at.run()
    assert not at.exception
    (element,) = at.get("bidi_component")
    header, _ = unpack_message(element.proto.bytes)
    reference = None
    for m, name in zip(header["maps"], ["mnist5k-vae-16", "mnist5k-ae-16"], strict=True):
        assert [k["kind"] for k in m["marks"]] == ["path"] * 14 + ["code"] * 2, "linear and spherical, then both ends"
        assert [k["label"] for k in m["marks"][:14:7]] == ["the linear path", "the spherical path"]
        assert m["marks"][-2]["label"].startswith("start #5 (") and m["marks"][-1]["label"].startswith("end #17 (")
        mu = load_latents(Path(os.environ["VAE_EXPLORER_CHECKPOINTS"]) / f"{name}.safetensors")["mu"]
        lmap = LatentMap("pca").fit(mu)  # the map the browser draws: the autoencoder's turned onto the VAE's
        lmap = lmap if reference is None else lmap.aligned_to(reference)
        reference = lmap.points_ if reference is None else reference
        want = lmap.transform(latent_path(mu[5], mu[17], 7, "spherical"))
        got = np.array([[k["x"], k["y"]] for k in m["marks"][7:14]])
        assert np.abs(got - want).max() < 1e-5
        codes = np.array([k["code"] for k in m["marks"][7:14]])  # a step hovered decodes the strip's own code
        assert np.abs(codes - latent_path(mu[5], mu[17], 7, "spherical")).max() < 1e-5
        start = m["marks"][-2]
        assert np.abs(np.array([start["x"], start["y"]]) - lmap.points_[5]).max() < 1e-5, "on test image 5's dot"
    text = " ".join(c.value for c in at.expander[0].caption)
    assert "Hover along the path" in text and "decodes the code on the plane, not one of the path" in text, (
        "a 16-D map is a PCA view: it says so"
    )


def test_a_link_opens_the_path_on_the_map_and_closing_it_forgets():
    """Opening the maps writes ?path_map=1, so a teacher's shared link opens on them; closing drops it."""
    at = open_page(a="5", b="17", steps="7")
    assert "path_map" not in at.query_params
    at.session_state["interp_map"] = True  # what opening it does
    at.run()
    assert at.query_params.get("path_map") in ("1", ["1"])
    linked = open_page(a="5", b="17", steps="7", path_map="1")
    assert len(linked.get("bidi_component")) == 1, "the link opens the maps"
    assert not linked.warning and not linked.exception
    linked.session_state["interp_map"] = False  # the student closes it
    linked.run()
    assert not linked.get("bidi_component") and "path_map" not in linked.query_params
