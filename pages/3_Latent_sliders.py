"""Latent sliders: move a code z through the latent space and watch the VAE and the autoencoder decode it."""

from __future__ import annotations

from functools import partial

import numpy as np
import streamlit as st
import torch

from ui import digit_reader, url_params
from ui.figures import download_png, png
from ui.live_pad import PadModel, decoder_payload, live_pad
from ui.loaders import dataset, latents
from ui.page import page
from ui.safe_text import escape_markdown
from vae_core.export import ExportError
from vae_core.latent.axes import latent_axes, nearest_codes
from vae_core.latent.codes import decode_codes, manifold_grid, tile_images
from vae_core.model import VAE

pair = page("Latent sliders", "🎚️", default_vae="mnist5k-vae-2")  # a 2-D pair: the pad is the whole latent plane
if pair is None:
    st.stop()
st.title("Latent sliders")
st.markdown(
    "Drag the point $z$ on a pad: both decoders turn it into an image as you move. The **VAE** was trained so that "
    "the whole prior $\\mathcal{N}(0, I)$ decodes to something meaningful; the **autoencoder** only learned its "
    "training codes, so between them it draws smudges."
)

COLUMNS = pair.both()  # [(label, info, checkpoint)]: the VAE, then its autoencoder twin
DIM = pair.latent_dim
N_SLIDERS = 6  # beside a larger model's pad: its next most informative dimensions
URL_KEY = {"VAE": "z", "Autoencoder": "z_ae"}  # ?z=0.12,-1.3&z_ae=... reproduces the codes
Z_LIMIT = 1e4  # far beyond every slider (they span the test codes): a larger number in ?z= was not written here
# The first image students see, chosen by measurement (tests/test_page_sliders.py measures it again): of the test
# images whose reconstructions by all four default models (mnist5k-vae-2, -ae-2, -vae-16, -ae-16) the shipped
# classifier reads as their own digit with p >= 0.9, the most typical one: nearest (pixel distance) the mean image
# of its digit, relative to that digit's median distance. It is #188, a 1. (#0, a 3, was rebuilt as a 2 and a 6.)
START_IMAGE = {"mnist5k": 188}
MODES = ["Live (in browser)", "Server"]
SHOWS = ["Decoder mean E[x|z]", "A sample x ~ p(x|z)"]
data = dataset(pair.dataset)
codes = {label: latents(info) for label, info, _ in COLUMNS}
axes = {label: latent_axes(codes[label]) for label, _, _ in COLUMNS}
n_test = min(len(data.test_x), *(len(c.mu) for c in codes.values()))  # codes i <-> test image i


def state_key(name: str) -> str:
    return f"lp_z::{name}"


def url_code(label: str) -> np.ndarray | None:
    """The code in the URL (?z=0.1,-1.2), or None: a code for a model of another size is dropped silently, a
    malformed one with a warning saying why (ui.url_params)."""
    parse = partial(url_params.code, dim=DIM, limit=Z_LIMIT)
    return url_params.read(URL_KEY[label], parse, then="starting from a test image")


# A number past this dataset's test split was written for another dataset: moved inside it without a word.
URL_IMG = url_params.read("img", partial(url_params.whole_number, lo=0, hi=10**9), "starting from the default image")


def start_index() -> int:
    """The start image: the widget's value, else the URL's ?img=, else the measured default (within the split)."""
    default = URL_IMG if URL_IMG is not None else START_IMAGE.get(pair.dataset, 0)
    return int(np.clip(st.session_state.get("lp_img", default), 0, n_test - 1))


def set_codes(zs: dict[str, np.ndarray], python_changed_z: bool) -> None:
    """Store codes by column label; bump the revision when Python (not the browser) moved z."""
    for label, info, _ in COLUMNS:
        if label in zs:
            st.session_state[state_key(info.name)] = [round(float(v), 4) for v in axes[label].clip(zs[label])]
    if python_changed_z:
        st.session_state["lp_rev"] = st.session_state.get("lp_rev", 0) + 1


def sample_prior() -> None:
    """z ~ N(0, I), the same draw for both models (the autoencoder was never asked to make sense of it)."""
    seed = int(np.random.default_rng().integers(2**31))
    z = pair.vae.model.sample_prior(1, generator=torch.Generator().manual_seed(seed))[0].numpy()
    set_codes({label: z for label, _, _ in COLUMNS}, python_changed_z=True)


def start_from_image() -> None:
    idx = start_index()
    set_codes({label: codes[label].mu[idx] for label, _, _ in COLUMNS}, python_changed_z=True)


def slider_moved(label: str, name: str, d: int, widget: str) -> None:
    z = np.array(st.session_state[state_key(name)])
    z[d] = st.session_state[widget]
    set_codes({label: z}, python_changed_z=True)


for label, info, _ in COLUMNS:  # first visit of this model: the URL's code, else the start image's encoding
    if state_key(info.name) not in st.session_state:
        z = url_code(label)
        set_codes({label: codes[label].mu[start_index()] if z is None else z}, python_changed_z=True)


def pad_dims(where: st.delta_generator.DeltaGenerator) -> dict[str, tuple[int, int]]:
    """The pad's two dimensions per model: a 2-D model's own plane; for a larger one its two most informative
    dimensions, or the two the user picks (in a popover in ``where``)."""
    if DIM == 2:
        return {label: (0, 1) for label, _, _ in COLUMNS}
    chosen = {}
    with where.popover("Pad axes", icon=":material/grid_on:", help="Which two dimensions the pad and the grid span"):
        for label, info, _ in COLUMNS:
            order, name = axes[label].order, axes[label].label
            a, b = st.columns(2)
            d0 = a.selectbox(f"{label}: across", order, key=f"lp_gx::{info.name}", format_func=name)
            d1 = b.selectbox(f"{label}: up", [d for d in order if d != d0], key=f"lp_gy::{info.name}", format_func=name)
            chosen[label] = (int(d0), int(d1))
    return chosen


def slider_dims(label: str, pad: tuple[int, int]) -> tuple[int, ...]:
    """A 2-D model's two dimensions; otherwise the next most informative ones after the pad's."""
    return (0, 1) if DIM == 2 else tuple(d for d in axes[label].order if d not in pad)[:N_SLIDERS]


def server_sliders(current: dict[str, np.ndarray], sample: bool, rev: int, pads: dict) -> None:
    """The fallback: st.slider per dimension, decoded on the server (updates when the slider is released)."""
    for col, (label, info, ckpt) in zip(st.columns(len(COLUMNS)), COLUMNS, strict=True):
        with col, st.container(border=True):
            st.markdown(f"**{label}** · {escape_markdown(info.name)}")
            left, right = st.columns([1, 2])
            image = decode_codes(ckpt.model, current[label][None], sample=sample, seed=0)[0]
            left.image(png(image, 6), caption="a sample x ~ p(x|z)" if sample else "decoder mean E[x|z]")
            dims = tuple(dict.fromkeys((*pads[label], *slider_dims(label, pads[label]))))
            for d in dims:
                widget = f"lp_s::{info.name}::{d}::{rev}"  # a new rev makes fresh sliders at Python's z
                lo, hi = axes[label].lo[d], axes[label].hi[d]
                right.slider(axes[label].label(d), lo, hi, float(current[label][d]), 0.01, key=widget,
                             on_change=slider_moved, args=(label, info.name, d, widget), format="%.2f")  # fmt: skip


def nearest_images(current: dict[str, np.ndarray]) -> None:
    """The test images whose codes are nearest to each model's z: what this region of the space holds."""
    for col, (label, _, _) in zip(st.columns(len(COLUMNS)), COLUMNS, strict=True):
        z = current[label]
        shown = ", ".join(f"{v:.2f}" for v in z[:4]) + (", …" if DIM > 4 else "")
        idx = nearest_codes(codes[label].mu[:n_test], z, k=8)
        dist = float(np.linalg.norm(codes[label].mu[idx[0]] - z))
        col.image(png(tile_images(data.test_x[idx], 8, pad=2), 2))
        col.caption(f"{label}: the 8 test images with codes nearest to z = ({shown}); the nearest is {dist:.2f} away.")


@st.fragment
def explorer(pads: dict[str, tuple[int, int]]) -> None:
    """The pads (or server-side sliders) first, so they are the first thing under the title on any screen; the
    controls below them; then the test images nearest to z. Reruns alone when one of its own widgets changes."""
    panels = st.container()
    c1, c2, c3 = st.columns([1.5, 1, 1.3], vertical_alignment="bottom")
    show = c1.radio(
        "Show",
        SHOWS,
        horizontal=True,
        key="lp_show",
        index=int(st.query_params.get("show") == "sample"),
        help="The decoder's mean is the average image for z; a sample draws every pixel from p(x|z).",
    )
    c2.button("Sample z from the prior", icon=":material/casino:", on_click=sample_prior, width="stretch")
    mode = c3.radio(
        "Decoding",
        MODES,
        horizontal=True,
        key="lp_mode",
        index=int(st.query_params.get("mode") == "server"),
        help="Live decodes in your browser on every frame of a drag; Server decodes in Python when you release.",
    )
    sample, rev = show == SHOWS[1], st.session_state.get("lp_rev", 0)
    current = {label: np.array(st.session_state[state_key(info.name)]) for label, info, _ in COLUMNS}
    if mode == MODES[0]:
        models = [
            PadModel(
                label,
                info,
                ckpt,
                current[label],
                pads[label],
                slider_dims(label, pads[label]),
                axes[label],
                codes[label].mu[:n_test],
                codes[label].labels[:n_test],
            )  # fmt: skip
            for label, info, ckpt in COLUMNS
        ]
        try:
            with panels:
                sent = live_pad(models, rev=rev, sample=sample, on_release=lambda zs: set_codes(zs, False))
        except ExportError as e:
            panels.error(f"This model cannot be decoded in the browser ({escape_markdown(e, 300)}): choose **Server**.")
            return
        weights = len(decoder_payload(COLUMNS[0][1], COLUMNS[0][2]).blob)
        st.caption(
            f"Decoded in your browser: each decoder's weights ({weights / 1e6:.2f} MB) go to this tab once, and "
            f"this rerun sent {sent.data_bytes / 1e3:.1f} kB. Let go of the pad or a slider to update the rest of "
            "the page."
        )
    else:
        with panels:
            server_sliders(current, sample, rev, pads)
    nearest_images(current)
    for label, _, _ in COLUMNS:
        st.query_params[URL_KEY[label]] = ",".join(f"{v:.3f}" for v in current[label])
    st.query_params["mode"] = "server" if mode == MODES[1] else "live"
    st.query_params["show"] = "sample" if sample else "mean"


def start_note(img: int) -> str:
    """What the start image is, and a note for each reconstruction the classifier reads as another digit."""
    truth = data.class_names[int(data.test_y[img])]
    recons = np.stack([decode_codes(ckpt.model, codes[label].mu[img][None].copy())[0] for label, _, ckpt in COLUMNS])
    readings = digit_reader.read(pair.dataset, recons) or [None] * len(COLUMNS)
    notes = [digit_reader.misread(f"The {label.lower()}'s reconstruction", r, truth) for (label, _, _), r in
             zip(COLUMNS, readings, strict=True)]  # fmt: skip
    text = f"z starts at the codes of test image #{img}, a {truth}. The link in your address bar keeps z."
    return text + "".join(f"  \n:orange[:material/warning: {n}]" for n in notes if n)


if st.session_state.get("lp_img") != start_index():  # the first visit, or a value outside this dataset's test split
    st.session_state["lp_img"] = start_index()
explorer_box = st.container()  # above the start image, filled once the pad's dimensions are known
pick, thumb, note, *more = st.columns([1.4, 0.45, 4] + [1.4] * (DIM > 2), vertical_alignment="bottom")
img = pick.number_input(
    "Start image #",
    0,
    n_test - 1,
    key="lp_img",
    on_change=start_from_image,
    help="Sets z to this image's code: the VAE's mean mu(x) and the autoencoder's code.",
)
st.query_params["img"] = str(img)
thumb.image(png(data.test_x[img], 2), width=56)
note.caption(start_note(img))
pads = pad_dims(more[0] if more else st)
with explorer_box:
    explorer(pads)


@st.cache_data(max_entries=32, show_spinner="Decoding the grid...")
def manifold(_model: VAE, model_key: str, n: int, dims: tuple[int, int], base: tuple[float, ...]) -> np.ndarray:
    return manifold_grid(_model, n=n, dims=dims, base=np.array(base, dtype=np.float32))


st.header("The manifold: a grid of codes, decoded")
st.markdown(
    "The same grid of codes for both models, spaced evenly in *probability* under $\\mathcal{N}(0, 1)$ through "
    "the inverse normal CDF (Kingma & Welling 2014, Figure 4). The VAE's codes fill the prior, so every cell is "
    "a plausible image and neighbours morph smoothly; the autoencoder's codes sit wherever training put them, so "
    "parts of its grid are smudges or one shape repeated: the **holes** in its latent space."
    + (" The grid spans the pad's two dimensions; the others stay at the start image's code." if DIM > 2 else "")
)
n = st.slider("Grid size (n x n codes)", 8, 24, 15, key="lp_grid_n")
for col, (label, info, ckpt) in zip(st.columns(len(COLUMNS)), COLUMNS, strict=True):
    with col:
        dims = pads[label]
        base = tuple(float(v) for v in codes[label].mu[img]) if DIM > 2 else (0.0,) * DIM
        grid = manifold(ckpt.model, decoder_payload(info, ckpt).key, n, dims, base)
        caption = f"{label} ({info.name}): z{dims[0] + 1} across, z{dims[1] + 1} up"
        st.image(png(grid, 2), caption=caption, output_format="PNG")
        download_png(grid, f"{info.name}-manifold-{n}x{n}.png", label=f"Download the {label} grid (PNG)",
                     key=f"lp_dl::{info.name}")  # fmt: skip
