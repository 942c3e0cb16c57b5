"""The latent map component's Python side: what travels to the browser (once per tab, under 1.5 MB per shipped
model), what comes back (a pin, checked; a request for lost assets), run through AppTest on the shipped models."""

from __future__ import annotations

import json

import pytest
from streamlit.proto.WidgetStates_pb2 import WidgetState
from streamlit.testing.v1 import AppTest

from ui.map_component import Pin, read_pin, unpack_message

BUDGET = 1_500_000  # bytes per model on a tab's first load (issue 13)


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
    assert vae["method"] == "plane" and vae["axes"] == ["z0", "z1"]
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
