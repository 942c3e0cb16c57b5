"""What the Upload page shows for one image (a file or a drawing): how it was prepared, which digit the shipped
classifier sees in it and in each reconstruction, how the VAE and the autoencoder rebuild it and at what cost in nats,
where it lands on both latent maps (the latent map component, marked with its code and the VAE's samples of q(z|x):
hovering around it decodes in the browser), and (VAE) what q(z|x) means.

Everything slow is cached: preprocessing by the file's bytes, each model's verdict by the 28x28 image, the PCA of
the test codes by checkpoint. A new upload costs one preprocess and two small forward passes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import streamlit as st

from vae_core.latent.posterior import ImagePosterior, image_posterior, posterior_samples
from vae_core.model import VAE
from vae_core.preprocess import ImageRejected, PreprocessResult, preprocess_upload

from . import digit_reader
from .figures import png
from .loaders import model_key
from .map_component import Mark, marks_at
from .marked_maps import marked_maps
from .posterior_figures import zoom_figure
from .safe_text import escape_markdown
from .sidebar import ModelPair

N_SAMPLES = 8
STEP_WIDTH = 112  # CSS pixels of one preprocessing step's thumbnail
STEP_SIDE = 2 * STEP_WIDTH  # pixels kept per step: sharp on a high-density screen
YOURS = "your image"  # the star's label on both maps
LANDS = (
    "★ your image's code (the VAE's: the mean of q(z|x)); hollow dots: {n} codes drawn from q(z|x) (the autoencoder "
    "has none: it maps an image to one point). **Hover around your digit**: both models decode the place under the "
    "cursor, in your browser. How far can you go before it stops being your digit? "
)
AROUND = {  # what hovering around the star decodes, by latent size
    True: "The latent is 2-D, so each map is the latent plane itself: every place is exactly a code.",
    False: "The map is a PCA view of the {d}-D codes: around the star, hovering moves your code along the map's two "
    "directions and keeps its other {rest} numbers as they are.",
}


@dataclass(frozen=True)
class Prepared:
    """A file's preprocessing, or the reason it was refused (a message for the user)."""

    result: PreprocessResult | None
    error: str | None


@st.cache_data(max_entries=64, show_spinner=False)
def prepare(data: bytes) -> Prepared:
    """Read and normalise an uploaded file (cached by its bytes, so reruns cost nothing). The steps are kept at
    thumbnail size: a class's phone photos would otherwise hold ~7 MB each in this cache (450 MB when full)."""
    try:
        return Prepared(preprocess_upload(data).for_display(STEP_SIDE), None)
    except ImageRejected as e:
        return Prepared(None, str(e))


@st.cache_data(max_entries=512, show_spinner=False)
def judge(model_key: str, image: np.ndarray, _model: VAE) -> ImagePosterior:
    """One model's reconstruction and loss terms for one 28x28 image (``model_key`` names the model in the cache)."""
    return image_posterior(_model, image)


def square(img: np.ndarray, fill: float | None = None) -> np.ndarray:
    """Pad an image to a square (with ``fill``, default the median of its border) for same-sized thumbnails."""
    h, w = img.shape
    side = max(h, w)
    if fill is None:
        fill = float(np.median(np.concatenate([img[0], img[-1], img[:, 0], img[:, -1]])))
    out = np.full((side, side), fill, dtype=np.float32)
    top, left = (side - h) // 2, (side - w) // 2
    out[top : top + h, left : left + w] = img
    return out


def steps_row(result: PreprocessResult) -> None:
    """Each preprocessing step as a small square image with its name, left to right. The steps after cropping
    are white ink on black, so they are padded with black."""
    cols = st.columns(len(result.steps) + 1)
    for col, (name, img) in zip(cols, result.steps, strict=False):
        with col:
            fill = None if name in ("grayscale", "inverted") else 0.0
            st.image(
                png(square(img, fill), max(1, STEP_WIDTH // max(img.shape))),
                caption=name,
                width=STEP_WIDTH,
                output_format="PNG",
            )
    if result.note:
        st.caption(escape_markdown(result.note.capitalize()))


def _terms(post: ImagePosterior, is_vae: bool) -> str:
    if is_vae:
        return (
            f"reconstruction **{post.recon_nll:.1f}** nats · KL **{post.kl:.1f}** nats  \n"
            f"-ELBO **{-post.elbo:.1f}** nats"
        )
    return f"reconstruction **{post.recon_nll:.1f}** nats  \n(no KL term: not a probabilistic model)"


def image_report(title: str, result: PreprocessResult, pair: ModelPair, class_names: tuple[str, ...], key: str) -> None:
    """The whole verdict for one prepared image, inside a bordered box titled with the (escaped) file name."""
    with st.container(border=True):
        st.markdown(f"**{escape_markdown(title)}**")
        steps_row(result)
        models = pair.both()
        verdicts = [
            (label, info, ckpt, judge(model_key(info), result.image, ckpt.model)) for label, info, ckpt in models
        ]
        images = np.stack([result.image] + [post.reconstruction for *_, post in verdicts])
        seen, *rebuilt = digit_reader.read(pair.dataset, images) or [None] * len(images)
        cols = st.columns([1] + [2] * len(verdicts))
        with cols[0]:
            st.image(png(result.image, 4), caption="what the models see (28x28)", width=STEP_WIDTH, output_format="PNG")
            if seen is not None:
                st.markdown(f"The classifier sees **{seen.name}** ({seen.p:.0%} sure).")
        for col, (label, _info, ckpt, post), reading in zip(cols[1:], verdicts, rebuilt, strict=True):
            with col:
                st.markdown(f"**{label} reconstruction**")
                st.image(png(post.reconstruction, 4), width=112, output_format="PNG")
                st.markdown(_terms(post, ckpt.config.is_vae))
                if seen is not None and reading is not None:
                    note = digit_reader.misread("It", reading, seen.name)
                    st.markdown(f":orange[:material/warning: {note}]" if note else f"It reads as **{seen.name}** too.")
        _posterior_fragment(verdicts, class_names, key)


@st.fragment
def _posterior_fragment(verdicts: list, class_names: tuple[str, ...], key: str) -> None:
    """Where the image lands on both maps, samples z ~ q(z|x) and (2-D VAE) the close-up; 'Draw other samples'
    reruns only this part. ``key`` tells this image's maps from another image's on the same page."""
    seed_key = f"_samples_seed_{key}"
    seed = st.session_state.get(seed_key, 0)
    vae = next(((info, ckpt, post) for _, info, ckpt, post in verdicts if post.logvar is not None), None)
    samples = images = None
    if vae is not None:
        samples, images = posterior_samples(vae[1].model, vae[2], N_SAMPLES, seed)
    posts = {label: post for label, _info, _ckpt, post in verdicts}

    def marks(label: str, lmap) -> tuple[Mark, ...]:  # the samples first: the star is drawn over them
        drawn = marks_at(lmap, samples, "sample", "a code drawn from q(z|x)") if posts[label].logvar is not None else ()
        return drawn + marks_at(lmap, posts[label].mu, "code", YOURS)

    d = len(verdicts[0][3].mu)
    st.markdown("**Where it lands**")
    st.caption(LANDS.format(n=N_SAMPLES) + AROUND[d == 2].format(d=d, rest=d - 2))
    models = [(label, info, ckpt) for label, info, ckpt, _ in verdicts]
    marked_maps(models, marks, key=f"lands-{key}", through={label: post.mu for label, post in posts.items()})
    if vae is None:
        return
    info, _ckpt, post = vae
    left, right = st.columns(2)
    with left:
        st.image(
            png(np.concatenate(list(images), axis=1), 3),
            caption=f"{N_SAMPLES} codes drawn from q(z|x), decoded: slightly different codes, the same digit",
            output_format="PNG",
        )
        if st.button("Draw other samples", key=f"resample-{key}"):
            st.session_state[seed_key] = seed + 1
            st.rerun(scope="fragment")
    if len(post.mu) == 2:
        with right:
            st.plotly_chart(zoom_figure(info, post, samples, class_names), key=f"zoom-{key}",
                            config={"displayModeBar": False})  # fmt: skip
