"""The latent map component's Python side: what travels to the browser (once per tab, under 1.5 MB per shipped
model), what comes back (a pin, checked; a request for lost assets), run through AppTest on the shipped models."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.proto.WidgetStates_pb2 import WidgetState
from streamlit.testing.v1 import AppTest

from ui.map_component import Pin, read_pin, unpack_message

BUDGET = 1_500_000  # bytes per model on a tab's first load (issue 13)
CHECKPOINTS = Path(__file__).resolve().parents[1] / "checkpoints"


def _host() -> None:
    """A page with nothing but the component, for the models named in ?models=vae,ae."""
    import numpy as np
    import streamlit as st

    from ui.latent_map import latent_map
    from ui.loaders import checkpoint_catalog, dataset, latents, load_model
    from ui.map_component import MapModel, latent_map_component

    infos = {i.name: i for i in checkpoint_catalog()}
    models = []
    for role, name in zip(("vae", "ae"), st.query_params["models"].split(","), strict=True):
        info = infos[name]
        lmap = latent_map(latents(info).mu, st.query_params.get("map", "pca"), latents(info).tsne)
        models.append(MapModel(role, role.upper(), info, load_model(info), lmap, name, prior=role == "vae"))
    ds = dataset(models[0].info.dataset)
    pins = st.session_state.setdefault("pins", [])
    latent_map_component(
        models,
        dataset_name=models[0].info.dataset,
        labels=np.asarray(latents(models[0].info).labels),
        class_names=ds.class_names,
        images=ds.test_x,
        on_pin=pins.append,
    )


def _open(models: str, method: str = "pca") -> AppTest:
    at = AppTest.from_function(_host, default_timeout=120)
    at.query_params.update(models=models, map=method)
    at.run()
    assert not at.exception, at.exception
    return at


def _sent(at: AppTest) -> tuple[dict, bytes, str]:
    (element,) = at.get("bidi_component")
    header, blobs = unpack_message(element.proto.bytes)
    return header, blobs, element.proto.id


def _trigger(at: AppTest, event: str, value) -> AppTest:
    """What the browser sends for ``setTriggerValue(event, value)``."""
    _, _, element_id = _sent(at)
    states = at._tree.get_widget_states()
    states.widgets.append(
        WidgetState(
            id=f"$$STREAMLIT_INTERNAL_KEY_{element_id}__events",
            json_trigger_value=json.dumps([{"event": event, "value": value}]),
        )
    )
    at._run(states)
    assert not at.exception, at.exception
    return at


@pytest.mark.parametrize("models", ["mnist5k-vae-16,mnist5k-ae-16", "mnist5k-vae-2,mnist5k-ae-2"])
def test_each_model_travels_once_per_tab_and_under_the_budget(models):
    at = _open(models)
    header, blobs, _ = _sent(at)
    assets = header["assets"]
    assert sum(a["length"] for a in assets.values()) == len(blobs)
    shared = sum(assets[header[k]]["length"] for k in ("labels", "atlas", "worker"))
    for m in header["maps"]:
        own = sum(assets[m[k]]["length"] for k in ("decoder", "codes", "points"))
        assert own + shared / 2 < BUDGET, f"{m['role']}: {own + shared / 2:,.0f} bytes on the first load"
        assert m["dim"] in (2, 16) and m["n"] == 500
    assert header["maps"][0]["prior"] is not None and header["maps"][1]["prior"] is None  # the VAE's prior only
    at.run()  # the next rerun of the same tab: only the header
    again, blobs, _ = _sent(at)
    assert again["assets"] == {} and blobs == b""
    assert len(at.get("bidi_component")[0].proto.bytes) < 10_000


def test_a_2d_latent_is_its_own_map_and_its_inverse_is_exact():
    header, _, _ = _sent(_open("mnist5k-vae-2,mnist5k-ae-2"))
    vae = header["maps"][0]
    assert vae["method"] == "plane" and vae["axes"] == ["z1", "z2"]
    assert vae["inverse"] == {"kind": "linear", "mean": [0.0, 0.0], "components": [[1.0, 0.0], [0.0, 1.0]]}
    assert vae["prior"] == [0.0, 0.0]


def test_tsne_maps_decode_through_the_nearest_codes():
    header, _, _ = _sent(_open("mnist5k-vae-16,mnist5k-ae-16", "tsne"))
    assert [m["inverse"] for m in header["maps"]] == [{"kind": "neighbours", "k": 5}] * 2
    assert [m["method_name"] for m in header["maps"]] == ["t-SNE", "t-SNE"]
    assert all(m["prior"] is None for m in header["maps"]), "the prior's circles belong on PCA maps only"


def test_a_pin_from_the_browser_reaches_the_page_and_nonsense_does_not():
    at = _open("mnist5k-vae-16,mnist5k-ae-16")
    _trigger(at, "pin", {"role": "vae", "index": 7})
    _trigger(at, "pin", {"role": "ae", "xy": [1.5, -0.25]})
    for bad in ({"role": "vae", "index": 500}, {"role": "x", "index": 1}, {"role": "vae", "xy": [1e9, 0]}, "7"):
        _trigger(at, "pin", bad)
    assert at.session_state["pins"] == [Pin("vae", 7), Pin("ae", (1.5, -0.25))]


def test_assets_the_browser_lost_are_sent_again():
    at = _open("mnist5k-vae-16,mnist5k-ae-16")
    header, _, _ = _sent(at)
    lost = [header["maps"][1]["decoder"], header["atlas"]]
    _trigger(at, "missing", lost)
    assert sorted(_sent(at)[0]["assets"]) == sorted(lost)


def test_read_pin():
    class Map:
        points_ = [0] * 10

    class Model:
        role = "vae"
        lmap = Map()

    models = [Model()]
    assert read_pin({"role": "vae", "index": 3}, models) == Pin("vae", 3)
    assert read_pin({"role": "vae", "xy": [1, -2.5]}, models) == Pin("vae", (1.0, -2.5))
    for bad in (None, [], {"role": "vae"}, {"role": "vae", "index": True}, {"role": "vae", "index": 10},
                {"role": "vae", "index": -1}, {"role": "vae", "xy": [1]}, {"role": "vae", "xy": ["1", 2]},
                {"role": "vae", "xy": [float("nan"), 0]}, {"role": "ae", "index": 1}):  # fmt: skip
        assert read_pin(bad, models) is None, bad


def _marked_host() -> None:
    """The models named in ?models= with marks: a code far outside the test codes, two samples around the first test
    code and a path between two test codes; ``on_pin=None`` (a page with nothing to follow a pin)."""
    import numpy as np
    import streamlit as st

    from ui.latent_map import latent_map
    from ui.loaders import checkpoint_catalog, dataset, latents, load_model
    from ui.map_component import MapModel, latent_map_component, marks_at

    infos = {i.name: i for i in checkpoint_catalog()}
    models = []
    for role, name in zip(("vae", "ae"), st.query_params["models"].split(","), strict=True):
        info = infos[name]
        mu = latents(info).mu
        lmap = latent_map(mu, "pca", None)
        far = lmap.code_at(2 * lmap.points_.max(0) + 1)  # a code whose place is beyond every test code's
        marks = (
            marks_at(lmap, np.stack([(1 - t) * mu[3] + t * mu[9] for t in np.linspace(0, 1, 5)]), "path", "the path")
            + marks_at(lmap, mu[0] + 0.1 * np.ones((2, mu.shape[1])) * [[1], [-1]], "sample", "a sample")
            + marks_at(lmap, far, "code", "your image")
        )
        models.append(MapModel(role, role.upper(), info, load_model(info), lmap, name, marks=marks))
    ds = dataset(models[0].info.dataset)
    latent_map_component(
        models,
        dataset_name=ds.name,
        labels=np.asarray(latents(models[0].info).labels),
        class_names=ds.class_names,
        images=ds.test_x,
        on_pin=None,
        key="marked",
    )


def _open_marked(models: str) -> AppTest:
    at = AppTest.from_function(_marked_host, default_timeout=120)
    at.query_params.update(models=models)
    at.run()
    assert not at.exception, at.exception
    return at


@pytest.mark.parametrize("models", ["mnist5k-vae-16,mnist5k-ae-16", "mnist5k-vae-2,mnist5k-ae-2"])
def test_marks_travel_in_the_header_where_the_map_places_their_codes(models):
    import numpy as np

    from vae_core.latent.codes import load_latents
    from vae_core.latent.map_decoding import LatentMap

    at = _open_marked(models)
    header, _, _ = _sent(at)
    assert header["pins"] is False, "no pin reaches a page that passed on_pin=None"
    for m, name in zip(header["maps"], models.split(","), strict=True):
        mu = load_latents(CHECKPOINTS / f"{name}.safetensors")["mu"]
        lmap = LatentMap("pca").fit(mu)  # the map the browser draws, computed afresh
        assert [k["kind"] for k in m["marks"]] == ["path"] * 5 + ["sample"] * 2 + ["code"]
        assert {k["label"] for k in m["marks"]} == {"the path", "a sample", "your image"}
        star = m["marks"][-1]
        far = lmap.code_at(2 * lmap.points_.max(0) + 1)
        want = lmap.transform(far[None])[0]
        assert np.abs(np.array([star["x"], star["y"]]) - want).max() < 1e-5
        assert np.abs(np.array(star["code"]) - far).max() < 1e-5, "hovering the star decodes its code itself"
        ends = np.array([[k["x"], k["y"]] for k in m["marks"][:5]])[[0, -1]]
        assert np.abs(ends - lmap.points_[[3, 9]]).max() < 1e-5, "a path from test code 3 lands on its dot"
        if mu.shape[1] == 2:  # the latent plane: the mark is the code itself
            assert np.abs(want - far).max() < 1e-5
        lo, hi = lmap.bounds(0.0)
        assert np.any((want < lo) | (want > hi)), "the star lies outside the test codes: the camera must fit it"
    at.run()
    again, _, _ = _sent(at)
    assert again["assets"] == {} and again["maps"][0]["marks"] == header["maps"][0]["marks"], "marks ride each rerun"


def test_a_pin_sent_to_a_page_without_pins_is_ignored():
    at = _open_marked("mnist5k-vae-2,mnist5k-ae-2")
    _trigger(at, "pin", {"role": "vae", "index": 7})  # a browser that sent one anyway: no callback, no error
    assert _sent(at)[0]["maps"][0]["pin"] is None


def test_a_mark_is_one_of_three_kinds_at_a_finite_place():
    from ui.map_component import Mark

    with pytest.raises(ValueError, match="code, sample, path"):
        Mark(0.0, 0.0, "star", "your image")
    with pytest.raises(ValueError, match="finite place"):
        Mark(float("nan"), 0.0, "code", "your image")


def test_a_marks_code_must_fit_its_map():
    import numpy as np

    from ui.map_component import MapModel, Mark
    from vae_core.latent.map_decoding import LatentMap

    lmap = LatentMap("pca").fit(np.random.default_rng(0).standard_normal((20, 16)))
    fits = Mark(1.0, 2.0, "code", "your image", tuple(np.zeros(16)))
    assert MapModel("vae", "VAE", None, None, lmap, "PCA", marks=(fits,)).marks == (fits,)
    with pytest.raises(ValueError, match=r"the map's 16 numbers \(got 2\)"):
        MapModel("vae", "VAE", None, None, lmap, "PCA", marks=(Mark(1.0, 2.0, "code", "your image", (0.0, 0.0)),))


FIT = """
const marks = input.marks, size = 300;
const cam = fitCamera(Float32Array.from(input.points), input.n, size, marks);
const view = { cam, size };
return { marks: marks.map((m) => toScreen(view, m.x, m.y)), points: Array.from({ length: input.n },
  (_, i) => toScreen(view, input.points[2 * i], input.points[2 * i + 1])) };
"""


def test_the_first_view_fits_the_test_codes_and_a_mark_far_outside_them():
    """map_draw.js's fitCamera (run in node): a star far from the test codes is on the canvas, so are the codes."""
    import shutil
    import subprocess

    import numpy as np

    node = shutil.which("node")
    if not node:
        pytest.skip("node is not installed (the browser test on the Upload page checks the star on the canvas)")
    rng = np.random.default_rng(0)
    points = rng.standard_normal((200, 2))
    marks = [{"x": 30.0, "y": -12.0, "kind": "code", "label": "far"}, {"x": 0.1, "y": 0.2, "kind": "sample"}]
    source = (Path(__file__).resolve().parents[1] / "ui" / "map_draw.js").read_text(encoding="utf-8")
    script = f"const input = JSON.parse(require('fs').readFileSync(0, 'utf8'));\n{source}\n"
    script += f"process.stdout.write(JSON.stringify((() => {{{FIT}}})()));"
    payload = {"points": points.ravel().tolist(), "n": len(points), "marks": marks}
    done = subprocess.run([node, "-e", script], input=json.dumps(payload), capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    shown = json.loads(done.stdout)
    for x, y in shown["marks"] + shown["points"]:
        assert 0 < x < 300 and 0 < y < 300, (x, y)
    assert shown["marks"][0][0] > 250, "the far mark sets the right edge of the view, with a margin"
