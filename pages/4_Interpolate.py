"""Interpolate: walk between two images' codes in a straight (or spherical) line and decode every step."""

from __future__ import annotations

from functools import partial

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from ui import contrast_text as text
from ui import url_params
from ui.figures import PALETTE, PrebuiltFigure, download_csv, download_png, png, show_image
from ui.loaders import dataset, latents, model_key
from ui.map_component import Mark, marks_at
from ui.marked_maps import marked_maps
from ui.page import page
from ui.safe_text import escape_markdown
from ui.scoreboard_view import saved_scores
from ui.sidebar import ModelPair
from vae_core.evaluation.contrast import pair_index, pair_standing
from vae_core.evaluation.scoreboard import Scores
from vae_core.latent.codes import decode_codes, tile_images
from vae_core.latent.interpolation import PATHS, DecodedPath, decode_path
from vae_core.model import VAE

PATH_CHOICES = {"linear": "Linear", "spherical": "Spherical", "both": "Both"}
STEPS = (5, 24, 10)  # min, max, default number of images on a path, endpoints included
LINE_STYLE = {"linear": "solid", "spherical": "dot"}
# The default pair, chosen by measurement: vae_core.evaluation.contrast.typical_pair on the default models'
# metrics files (mnist5k-vae-16, mnist5k-ae-16) - of the 200 scored pairs whose ends both models reconstruct as their
# own digit, the one whose largest step is nearest the median for the VAE, the autoencoder and their difference.
# tests/test_page_interpolate.py checks it against the files, so a rescore cannot leave it stale.
DEFAULT_PAIR = (1, 16)
THUMB = 72  # pixels: the two end images, small enough that the strips stay above the fold at 1280x720
ON_THE_MAP = {  # what hovering along the drawn path decodes, by latent size
    True: "The latent is 2-D, so each map is the latent plane itself: every place on a path is exactly its code.",
    False: "On a square, both models decode exactly that step's code (the strips' images). Between the squares the "
    "map is a PCA view of a larger latent: the path runs off the map's plane, and hovering decodes the code on the "
    "plane, not one of the path.",
}


def initial_state(n_images: int, labels: np.ndarray) -> None:
    """First visit: take the pair, the steps and the path from the URL (?a=&b=&steps=&path=) or the defaults; a
    value that is not one of them is ignored with a warning saying why (ui.url_params)."""

    def number(key: str, default: int, lo: int, hi: int) -> int:
        value = url_params.read(key, partial(url_params.whole_number, lo=lo, hi=hi), then=f"using {default}")
        return default if value is None else value

    a, b = (min(v, n_images - 1) for v in DEFAULT_PAIR)
    if "interp_a" not in st.session_state:
        st.session_state.interp_a = number("a", a, 0, n_images - 1)
    if "interp_b" not in st.session_state:
        st.session_state.interp_b = number("b", b, 0, n_images - 1)
    for key in ("interp_a", "interp_b"):  # another dataset may have fewer test images
        if st.session_state[key] >= n_images:
            st.session_state[key] = n_images - 1
    if "interp_steps" not in st.session_state:
        st.session_state.interp_steps = number("steps", STEPS[2], STEPS[0], STEPS[1])
    if "interp_path" not in st.session_state:
        path = st.query_params.get("path")
        st.session_state.interp_path = path if path in PATH_CHOICES else "both"


def random_pair(labels: np.ndarray) -> None:
    """on_click: two random test images, of different labels when the data has more than one."""
    rng = np.random.default_rng()
    a = int(rng.integers(len(labels)))
    others = np.flatnonzero(labels != labels[a])
    b = int(rng.choice(others)) if len(others) else int(rng.integers(len(labels)))
    st.session_state.interp_a, st.session_state.interp_b = a, b


def saved_pair_scores(pair: ModelPair) -> tuple[Scores, Scores] | None:
    """Both models' saved scoreboards (never computed here: the Smoothness page does that), or None."""
    if pair.ae_info is None:
        return None
    vae, ae = saved_scores(pair.vae_info), saved_scores(pair.ae_info)
    return (vae, ae) if vae is not None and ae is not None else None


def pair_note(pair: ModelPair, a: int, b: int) -> None:
    """Where this pair stands among the pairs in the metrics files (and why the default pair is the default)."""
    measured = saved_pair_scores(pair)
    if measured is None:
        return  # no metrics files for these models yet (the Smoothness page computes them)
    i = pair_index(measured[0], a, b)
    if i is None:
        st.caption("This pair is not among the pairs in the metrics files; the numbers below are about all of them.")
        return
    st.caption(text.standing(pair_standing(*measured, i), measured[0], default=(a, b) == DEFAULT_PAIR))


def step_change_figure(paths: dict[str, DecodedPath]) -> go.Figure:
    """One line per (model, path): the pixel distance between each decoded image and the next (plotly's dict,
    ``PrebuiltFigure``: this small figure is new on every change of the pair, and plotly's checking cost more
    than drawing it)."""
    traces = []
    for i, (name, path) in enumerate(paths.items()):
        model = name.split(" · ")[0]
        linear = path.kind == "linear"
        traces.append(
            {
                "type": "scatter",
                "x": list(range(1, len(path.changes) + 1)),
                "y": [float(v) for v in path.changes],
                "mode": "lines+markers",
                "name": name,
                "line": {
                    "color": PALETTE[0] if model == "VAE" else PALETTE[3],
                    "dash": LINE_STYLE[path.kind],
                    "width": 3 if linear else 2,
                },
                "marker": {"size": 7, "symbol": "circle" if linear else "diamond"},
                "hovertemplate": f"{name}<br>step %{{x}} to %{{x}}+1: %{{y:.2f}}<extra></extra>",
                "legendrank": i,
            }
        )
    layout = {
        "height": 340,
        "margin": {"l": 10, "r": 10, "t": 40, "b": 10},
        "hovermode": "closest",
        "title": {"text": "How much each step changes the image (L2 distance between consecutive images)", "x": 0},
        "xaxis": {"title": {"text": "step"}, "dtick": 1},
        "yaxis": {"title": {"text": "pixel distance"}, "rangemode": "tozero"},
        "legend": {"orientation": "h", "y": -0.2},
    }
    return PrebuiltFigure({"data": traces, "layout": layout})


@st.cache_data(show_spinner=False, max_entries=256)
def walk(model_key: str, a: int, b: int, steps: int, kind: str, _model: VAE, _codes: np.ndarray) -> DecodedPath:
    """The decoded path between test images ``a`` and ``b`` (cached: ``model_key`` names the model's file)."""
    return decode_path(lambda z: decode_codes(_model, z), _codes[a], _codes[b], steps, kind)


def path_strips(kind: str, decoded: dict[str, DecodedPath], a: int, b: int) -> None:
    """Each model's decoded images along one path, one strip per model, and one PNG with all the strips."""
    st.markdown(f"**{PATH_CHOICES[kind]} path**")
    for label, path in decoded.items():
        st.image(
            png(tile_images(path.images, n_cols=len(path.images), pad=2), 3),
            caption=f"{label}: total change {path.total_change:.1f}, biggest step {path.jumpiness:.1f}x the mean step",
            output_format="PNG",
        )
    rows = tile_images(
        np.concatenate([p.images for p in decoded.values()]), n_cols=len(next(iter(decoded.values())).images), pad=2
    )
    download_png(
        rows, f"interpolation-{kind}-{a}-to-{b}.png", label=f"{PATH_CHOICES[kind]} strips (PNG)", key=f"png_{kind}"
    )


def path_on_maps(models: list, paths: dict[str, DecodedPath], start: str, end: str) -> None:
    """Each model's paths on its latent map, the two images' codes as stars; hovering decodes in the browser."""
    kinds = list(dict.fromkeys(p.kind for p in paths.values()))

    def marks(label: str, lmap) -> tuple[Mark, ...]:
        mine = [paths[f"{label} · {kind}"] for kind in kinds]
        drawn = sum((marks_at(lmap, p.codes, "path", f"the {p.kind} path") for p in mine), ())
        ends = marks_at(lmap, mine[0].codes[0], "code", f"start {start}") + marks_at(
            lmap, mine[0].codes[-1], "code", f"end {end}"
        )
        return drawn + ends

    style = " (solid: linear, dashed: spherical)" if len(kinds) > 1 else ""
    st.caption(
        f"The path{style} on each model's map of the test codes; a square marks each image of the strips. **Hover "
        "along the path**: both models decode the place under the cursor, in your browser; where it crosses empty "
        "map, see what lives there. " + ON_THE_MAP[models[0][1].latent_dim == 2]
    )
    marked_maps(models, marks, key="interp_maps")


@st.fragment
def interpolation(pair: ModelPair) -> None:
    """Pick the two images and the path; show each model's decoded walk and the step-change curve."""
    ds = dataset(pair.dataset)
    labels = np.asarray(ds.test_y)
    n_images = len(labels)
    initial_state(n_images, labels)

    c = st.columns([1.4, 1.4, 1.3, 2.0, 3.0], vertical_alignment="bottom")
    a = c[0].number_input("First image", 0, n_images - 1, key="interp_a", help=f"Test image 0-{n_images - 1}")
    b = c[1].number_input("Second image", 0, n_images - 1, key="interp_b", help=f"Test image 0-{n_images - 1}")
    c[2].button("Random pair", on_click=random_pair, args=(labels,), help="Two random test images of different labels.")
    steps = c[3].slider("Images on the path", STEPS[0], STEPS[1], key="interp_steps")
    choice = c[4].radio(
        "Path",
        list(PATH_CHOICES),
        format_func=PATH_CHOICES.get,
        horizontal=True,
        key="interp_path",
        help="Linear: z = (1-t) z0 + t z1. Spherical: along the great circle between the two codes, "
        "keeping their length (White 2016).",
    )
    st.query_params.update(a=str(a), b=str(b), steps=str(steps), path=choice)
    kinds = list(PATHS) if choice == "both" else [choice]

    ends = st.columns([1, 1, 5.5], vertical_alignment="center")
    with ends[0]:
        show_image(ds.test_x[a], caption=f"start #{a} ({ds.class_names[labels[a]]})", width=THUMB)
    with ends[1]:
        show_image(ds.test_x[b], caption=f"end #{b} ({ds.class_names[labels[b]]})", width=THUMB)
    with ends[2]:
        if a == b:
            st.warning("Both ends are the same image: every step decodes the same code. Pick another second image.")
        else:
            pair_note(pair, int(a), int(b))

    models = pair.both()
    paths: dict[str, DecodedPath] = {}
    for kind in kinds:
        decoded = {}
        for label, info, ckpt in models:
            decoded[label] = walk(model_key(info), int(a), int(b), int(steps), kind, ckpt.model, latents(info).mu)
            paths[f"{label} · {kind}"] = decoded[label]
        path_strips(kind, decoded, a, b)
    st.caption(
        f"Both images are encoded (the VAE's code is the mean of $q(z \\mid x)$), then {steps} codes evenly spaced "
        "between the two codes are decoded; the first and last images of each strip are reconstructions. "
        + " · ".join(
            f"{label}: {escape_markdown(info.name)} ({escape_markdown(info.description)}, latent dim {info.latent_dim})"
            for label, info, _ in models
        )
    )
    if pair.ae is None:
        st.info(
            "There is no autoencoder with this latent size on this dataset, so the VAE is shown alone. Train one on "
            "the Train page to compare."
        )

    if "interp_map" not in st.session_state and st.query_params.get("path_map") == "1":
        st.session_state["interp_map"] = True  # a shared link opens it (once: then the student's clicks decide)
    with st.expander("The path on the latent map", key="interp_map", on_change="rerun") as box:
        if box.open:  # the maps travel to the browser only when asked for; the link then keeps it open
            st.query_params["path_map"] = "1"
            path_on_maps(models, paths, f"#{a} ({ds.class_names[labels[a]]})", f"#{b} ({ds.class_names[labels[b]]})")
        elif "path_map" in st.query_params:
            del st.query_params["path_map"]

    st.subheader("Step by step")
    st.markdown(
        "A smooth latent space changes the image **a little at every step**: a flat curve. A jump (one tall "
        "step) means the walk crossed a region the decoder never learned, or leapt from one class to the other."
    )
    measured = saved_pair_scores(pair)
    if measured is not None:
        st.info(text.paths(*measured) + " One pair proves nothing; these are the numbers to quote.")
    st.plotly_chart(step_change_figure(paths), key="step_changes")
    download_csv(
        {"step": np.arange(1, steps)} | {name.replace(" · ", "_"): p.changes for name, p in paths.items()},
        f"step-change-{a}-to-{b}.csv",
        "Step changes (CSV)",
        key="step_csv",
    )


pair = page("Interpolate", "〰️")
st.title("Interpolate")
st.markdown(
    "Walk from one test image's code to another's, decoding every step. The **VAE** was trained so that nearby codes "
    "decode to similar images, the **autoencoder** only to reconstruct: its walks can cross holes (measured below)."
)
if pair is None:
    st.stop()
interpolation(pair)
