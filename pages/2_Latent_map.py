"""Latent map: the codes of the test images in 2-D, the VAE beside the autoencoder; hover anywhere to decode, click
to pin."""

from __future__ import annotations

from functools import partial

import numpy as np
import streamlit as st

from ui import url_params
from ui.figures import download_csv, download_png, png
from ui.latent_map import (
    ALIGNED,
    code_bars_svg,
    code_caption,
    latent_map,
    map_csv_columns,
    method_name,
    tsne_points,
    turned_onto,
)
from ui.loaders import dataset, latents
from ui.map_component import ROLE, MapModel, Pin, latent_map_component
from ui.page import page
from ui.sidebar import ModelPair
from vae_core.latent.codes import decode_codes, tile_images
from vae_core.latent.map_decoding import METHODS, LatentMap
from vae_core.latent.projection import TSNESettings
from vae_core.store.catalog import CheckpointInfo
from vae_core.store.checkpoints import Checkpoint

TSNE_ITERATIONS = [250, 350, 500, 750, 1000]
TSNE_URL = {  # TSNESettings field: (query parameter, its parser)
    "perplexity": ("perplexity", partial(url_params.number, lo=2, hi=100)),
    "max_iter": ("iters", partial(url_params.whole_number, lo=250, hi=5000)),
    "seed": ("seed", partial(url_params.whole_number, lo=0, hi=url_params.SEED_MAX)),
}
IMAGE_PX = 112  # the pinned images: as large as the maps' decoded images; two and a caption fit a map's column
PLACE_LIMIT = 1e4  # far beyond any map's edge (maps span the test codes): a larger ?vae_at= was not written here
HOW_HOVER_DECODES = {  # what a place on the map decodes to, by map (ui.map_component's methods)
    "plane": "The latent is 2-D, so each map is the latent plane itself: every place decodes exactly to its code, "
    "and holes show where they are.",
    "pca": "A place decodes to the code on the PCA plane through the mean code; the other directions of the latent "
    "stay at their mean. The autoencoder's map is turned (never scaled) to put its test images where the VAE's are.",
    "tsne": "t-SNE has no inverse: a place decodes to the distance-weighted mean of the codes of its 5 nearest test "
    "images, so the image stays inside the cloud of codes, even over empty map. A t-SNE map cannot show holes. "
    "The autoencoder's map is turned (never scaled) to put its test images where the VAE's are.",
}


def fresh_tsne_settings() -> TSNESettings | None:
    """The t-SNE asked for in the URL (?perplexity=&iters=&seed=), or None for the precomputed one. Every value is
    checked here, with the ranges the form offers and the seeds scikit-learn takes: TSNESettings checks nothing."""
    if "perplexity" not in st.query_params and "iters" not in st.query_params:
        return None
    asked = {}
    for field, (key, parse) in TSNE_URL.items():
        value = url_params.read(key, parse, then="showing the precomputed t-SNE")
        if value is None and st.query_params.get(key):  # refused, and the warning said why
            return None
        if value is not None:
            asked[field] = value
    return TSNESettings(**asked)


def model_map(info: CheckpointInfo, method: str, fresh: TSNESettings | None) -> LatentMap:
    """PCA of the test codes, or their t-SNE: precomputed beside the checkpoint unless fresh settings are asked."""
    lat = latents(info)
    if method == "pca":
        return latent_map(lat.mu, "pca", None)
    if fresh is None and lat.tsne is not None:
        return latent_map(lat.mu, "tsne", lat.tsne)
    s = fresh or TSNESettings()
    return latent_map(lat.mu, "tsne", tsne_points(lat.mu, s.perplexity, s.max_iter, s.seed))


def remember_pin(pin: Pin, roles: list[str]) -> None:
    """on_pin: a pinned test image is pinned in every map; a pinned place belongs to the map it was pinned on."""
    if isinstance(pin.target, int):
        for r in roles:
            st.query_params[f"{r}_at"] = str(pin.target)
    else:
        st.query_params[f"{pin.role}_at"] = f"{pin.target[0]:.5g},{pin.target[1]:.5g}"


def forget_places() -> None:
    """on_change of the map choice: places on the old map mean nothing on the new one (test images still do)."""
    for role in ROLE.values():
        if "," in st.query_params.get(f"{role}_at", ""):
            del st.query_params[f"{role}_at"]


def compute_fresh_tsne(pair: ModelPair) -> None:
    """The form for a fresh t-SNE with chosen settings; computes it for every model with a progress bar."""
    with st.expander("Compute a fresh t-SNE with other settings"):
        with st.form("fresh_tsne", border=False):
            c1, c2, c3 = st.columns(3)
            perplexity = c1.slider("Perplexity", 5, 50, 30, help="About how many neighbours each point keeps close.")
            iters = c2.select_slider("Iterations", TSNE_ITERATIONS, value=500)
            seed = c3.number_input("Seed", 0, 9999, 0)
            go = st.form_submit_button("Compute t-SNE")
        if go:
            models = pair.both()
            bar = st.progress(0.0, text="Starting t-SNE...")
            for i, (label, info, _ckpt) in enumerate(models):
                mu = latents(info).mu
                bar.progress(i / len(models), text=f"t-SNE of the {label}'s {len(mu)} codes ({i + 1}/{len(models)})...")
                tsne_points(mu, float(perplexity), int(iters), int(seed))
            bar.progress(1.0, text="Done: the maps below use the fresh t-SNE.")
            st.query_params.update(perplexity=str(perplexity), iters=str(iters), seed=str(seed))
    asked = "perplexity" in st.query_params or "iters" in st.query_params
    if asked and st.button("Back to the precomputed t-SNE"):
        for k in ("perplexity", "iters", "seed"):
            st.query_params.pop(k, None)
        forget_places()
        st.rerun(scope="fragment")


def decoded_point(
    role: str, label: str, ckpt: Checkpoint, lmap: LatentMap, target: int | tuple[float, float], pair: ModelPair
) -> None:
    """The decoded image, where its code came from, the nearest test images and the code itself."""
    ds = dataset(pair.dataset)
    names = ds.class_names
    if isinstance(target, int):
        code, xy = lmap.codes_[target], lmap.points_[target]
        neighbours = lmap.nearest(xy, 6)[1:]
        how = f"Test image #{target} (label {names[ds.test_y[target]]}): its own code, decoded: a reconstruction."
    else:
        point = lmap.decode_point(np.array(target))
        code, neighbours, how = point.code, point.neighbours, point.how
    image = decode_codes(ckpt.model, np.array(code)[None])[0]
    row = st.container(horizontal=True, gap="small")  # fixed-size images that wrap, never over each other
    row.image(png(image, 4), caption=f"{label}: decoded", width=IMAGE_PX)
    if isinstance(target, int):
        row.image(png(ds.test_x[target], 4), caption=f"test image #{target}", width=IMAGE_PX)
    row.caption(how, width="stretch")
    strip = tile_images(np.asarray(ds.test_x[neighbours]), n_cols=len(neighbours), pad=2)
    st.image(
        png(strip, 2),
        caption="nearest test images on the map: " + ", ".join(names[ds.test_y[i]] for i in neighbours),
        output_format="PNG",
    )
    st.image(code_bars_svg(code), caption=code_caption(code), width="stretch")
    d1, d2 = st.columns(2)
    with d1:
        download_png(image, f"{ckpt.name}-decoded.png", label="Decoded image (PNG)", key=f"{role}_decoded_png")
    with d2:
        download_csv(
            {"dim": np.arange(1, len(code) + 1), "z": code},
            f"{ckpt.name}-code.csv",
            "Decoded code (CSV)",
            key=f"{role}_code_csv",
        )


@st.fragment
def latent_maps(pair: ModelPair) -> None:
    """Map choice, the maps side by side (decoding under the cursor in the browser), and what each map's pin
    decodes to. A pin reruns only this."""
    if "map_method" not in st.session_state:
        st.session_state.map_method = st.query_params.get("map") if st.query_params.get("map") in METHODS else "pca"
    top = st.columns([1, 3, 2], vertical_alignment="center")
    method = top[0].radio(
        "Map",
        list(METHODS),
        format_func=METHODS.get,
        horizontal=True,
        key="map_method",
        on_change=forget_places,
        label_visibility="collapsed",
        help="PCA: the best flat view (linear, distances kept along 2 directions). t-SNE: keeps neighbours "
        "together, but distances between clusters mean little.",
    )
    st.query_params["map"] = method
    shown = "plane" if method == "pca" and pair.latent_dim == 2 else method
    top[1].caption(HOW_HOVER_DECODES[shown])
    with top[2]:
        if method == "tsne":
            compute_fresh_tsne(pair)
    fresh = fresh_tsne_settings() if method == "tsne" else None

    ds = dataset(pair.dataset)
    models = pair.both()
    maps = {ROLE[label]: model_map(info, method, fresh) for label, info, _ in models}
    own = dict(maps)
    if "ae" in maps:
        maps["ae"] = turned_onto(maps["ae"], maps["vae"])  # turned, never scaled: compare place for place
    roles = list(maps)
    labels = np.asarray(latents(pair.vae_info).labels)
    targets, shown_maps = {}, []
    for label, info, ckpt in models:
        role, lmap = ROLE[label], maps[ROLE[label]]
        place = partial(url_params.map_place, n_images=len(lmap.points_), limit=PLACE_LIMIT)
        targets[role] = url_params.read(f"{role}_at", place, then="click the map to pin a place")
        where = " fresh" if fresh else " precomputed" if method == "tsne" else ""
        turned = ALIGNED if lmap is not own[role] else ""
        title = f"{'latent plane' if shown == 'plane' else method_name(method)}{where}{turned} · {info.name}"
        prior = label == "VAE" and method == "pca"  # N(0, I)'s circles: a VAE's codes are drawn towards its prior
        shown_maps.append(MapModel(role, label, info, ckpt, lmap, title, pin=targets[role], prior=prior))
    latent_map_component(
        shown_maps,
        dataset_name=pair.dataset,
        labels=labels,
        class_names=ds.class_names,
        images=ds.test_x,
        on_pin=partial(remember_pin, roles=roles),
    )
    if pair.ae is None:
        st.info(
            "There is no autoencoder with this latent size on this dataset, so the VAE is shown alone. "
            "Train one on the Train page to compare."
        )
    columns = st.columns(2)
    for column, (label, _info, ckpt) in zip(columns, models, strict=False):
        role = ROLE[label]
        with column:
            if targets[role] is None:
                st.info(f"Click the {label}'s map to pin a place, or a test image: what it decodes to shows here.")
            else:
                decoded_point(role, label, ckpt, maps[role], targets[role], pair)
    download_csv(
        map_csv_columns(maps, labels), f"{pair.vae_info.name}-{method}-map.csv", "Map coordinates (CSV)", key="map_csv"
    )


pair = page("Latent map", "🗺️")
st.title("Latent map")
st.markdown(
    "Every dot is a **test image**, placed by its code: the VAE's map on the left, the plain autoencoder's on the "
    "right. **Hover** anywhere: both models decode under the cursor (+ marks the same place on the other map). "
    "**Click** to pin a place or a test image; the details below follow. Drag to pan, scroll to zoom."
)
if pair is None:
    st.stop()
latent_maps(pair)
