"""Latent map: the codes of the test images in 2-D, the VAE beside the autoencoder; click anywhere to decode."""

from __future__ import annotations

from functools import partial

import numpy as np
import streamlit as st

from ui import url_params
from ui.figures import download_csv, download_png, png, show_image
from ui.latent_map import (
    click_target,
    code_figure,
    latent_map,
    map_csv_columns,
    map_figure,
    method_name,
    tsne_points,
)
from ui.loaders import dataset, latents
from ui.sidebar import ModelPair, model_sidebar
from vae_core.latent.codes import decode_codes, tile_images
from vae_core.latent.map_decoding import METHODS, LatentMap
from vae_core.latent.projection import TSNESettings
from vae_core.store.catalog import CheckpointInfo
from vae_core.store.checkpoints import Checkpoint

st.set_page_config(page_title="Latent map - VAE explorer", page_icon="🗺️", layout="wide")

ROLE = {"VAE": "vae", "Autoencoder": "ae"}  # which query parameter (?vae_at=, ?ae_at=) holds a map's last click
TSNE_ITERATIONS = [250, 350, 500, 750, 1000]
TSNE_URL = {  # TSNESettings field: (query parameter, its parser)
    "perplexity": ("perplexity", partial(url_params.number, lo=2, hi=100)),
    "max_iter": ("iters", partial(url_params.whole_number, lo=250, hi=5000)),
    "seed": ("seed", partial(url_params.whole_number, lo=0, hi=url_params.SEED_MAX)),
}
PLACE_LIMIT = 1e4  # far beyond any map's edge (maps span the test codes): a larger ?vae_at= was not written here


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


def remember_click(chart_key: str, role: str, roles: list[str]) -> None:
    """on_select: a click on a test image selects it in every map; a click on the plane belongs to this map."""
    target = click_target(st.session_state[chart_key].selection)
    if target is None:  # a deselection (double click) keeps the last decoded point
        return
    for r in [role] if "," in target else roles:
        st.query_params[f"{r}_at"] = target


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
    left, right = st.columns([1, 2])
    with left:
        show_image(image, caption=f"{label}: decoded", width=150)
    with right:
        st.caption(how)
        if isinstance(target, int):
            show_image(ds.test_x[target], caption=f"test image #{target}", width=104)
        strip = tile_images(np.asarray(ds.test_x[neighbours]), n_cols=len(neighbours), pad=2)
        st.image(
            png(strip, 2),
            caption="nearest test images on the map: " + ", ".join(names[ds.test_y[i]] for i in neighbours),
            output_format="PNG",
        )
    st.plotly_chart(code_figure(code), key=f"{role}_code", config={"displayModeBar": False})
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
    """Map choice, the maps side by side, and what each map's last click decodes to. Clicks rerun only this."""
    if "map_method" not in st.session_state:
        st.session_state.map_method = st.query_params.get("map") if st.query_params.get("map") in METHODS else "pca"
    top = st.columns([2, 2, 3])
    method = top[0].radio(
        "Map",
        list(METHODS),
        format_func=METHODS.get,
        horizontal=True,
        key="map_method",
        on_change=forget_places,
        help="PCA: the best flat view (linear, distances kept along 2 directions). t-SNE: keeps neighbours "
        "together, but distances between clusters mean little.",
    )
    st.query_params["map"] = method
    draw_images = top[1].toggle("Draw test images on the map", value=True)
    with top[2]:
        if method == "tsne":
            compute_fresh_tsne(pair)
    fresh = fresh_tsne_settings() if method == "tsne" else None

    ds = dataset(pair.dataset)
    models = pair.both()
    maps = {ROLE[label]: model_map(info, method, fresh) for label, info, _ in models}
    roles = list(maps)
    labels = np.asarray(latents(pair.vae_info).labels)
    columns = st.columns(2)
    for column, (label, info, ckpt) in zip(columns, models, strict=False):
        role, lmap = ROLE[label], maps[ROLE[label]]
        place = partial(url_params.map_place, n_images=len(lmap.points_), limit=PLACE_LIMIT)
        target = url_params.read(f"{role}_at", place, then="click the map to choose a point", where=column)
        marked = None if target is None else (lmap.points_[target] if isinstance(target, int) else np.array(target))
        with column:
            where = "fresh" if fresh else "precomputed" if method == "tsne" else ""
            title = f"{label} · {method_name(method)} {where} · {info.name}"
            map_slot = st.container()  # filled last: the decoded image reaches the browser before the redrawn map
            if target is None:
                st.info("Click a dot to decode that test image, or anywhere on the empty plane to decode that place.")
            else:
                decoded_point(role, label, ckpt, lmap, target, pair)
            map_slot.plotly_chart(
                map_figure(lmap, labels, ds.class_names, title, marked, ds.test_x if draw_images else None),
                key=f"{role}_map",
                on_select=partial(remember_click, f"{role}_map", role, roles),
                selection_mode="points",
                config={"scrollZoom": False, "displaylogo": False},
            )
    if pair.ae is None:
        columns[1].info(
            "There is no autoencoder with this latent size on this dataset, so the VAE is shown alone. "
            "Train one on the Train page to compare."
        )
    download_csv(
        map_csv_columns(maps, labels), f"{pair.vae_info.name}-{method}-map.csv", "Map coordinates (CSV)", key="map_csv"
    )
    st.caption("The camera button above each map (it shows on hover) saves the map as a PNG.")


st.title("Latent map")
st.markdown(
    "Every dot is a **test image**, placed by its code: the VAE's map on the left, the plain autoencoder's on the "
    "right, the same images in both, coloured by label. **Click a dot** to decode that image's code; **click the "
    "empty plane** to decode a code no image has, and compare: the VAE's space between clusters still decodes to "
    "something plausible, the autoencoder's often to a smudge."
)
pair = model_sidebar()
if pair is None:
    st.stop()
latent_maps(pair)
