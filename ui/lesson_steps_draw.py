"""Lesson step 11: your turn. Draw a digit (or pick a test digit from the keyboard) and see where each model puts
it: the autoencoder at one point, the VAE at a cloud."""

from __future__ import annotations

import numpy as np
import streamlit as st

from vae_core.image_reader import ImageRejected
from vae_core.preprocess import preprocess_upload

from .draw_canvas import draw_canvas, png_from_data_url
from .lesson_data import decode, encode, typical
from .lesson_figures import cloud_traces, digit_row, plane_map, points, show_map
from .loaders import dataset
from .safe_text import escape_markdown
from .sidebar import ModelPair


@st.cache_data(show_spinner=False, max_entries=32)
def _prepared(data: bytes) -> tuple[np.ndarray | None, str]:
    try:
        return preprocess_upload(data).image, ""
    except (ImageRejected, ValueError) as e:
        return None, str(e)


def your_digit(pair: ModelPair) -> np.ndarray | None:
    """The drawn digit as a 28x28 MNIST-like image, else the test digit picked from the keyboard, else None."""
    drawing = draw_canvas(key="lesson_canvas")
    names = dataset(pair.vae_info.dataset).class_names
    picked = st.pills("…or take a typical test digit (keyboard)", names, key="lesson_pick", wrap=True)
    if drawing is not None:
        try:
            image, error = _prepared(png_from_data_url(drawing))
        except ValueError as e:
            image, error = None, str(e)
        if error:
            st.warning(escape_markdown(error, 300))
        return image
    if picked is not None:
        return dataset(pair.vae_info.dataset).test_x[typical(pair.vae_info)[names.index(picked)]]
    return None


def step_your_turn(pair: ModelPair) -> None:
    vae, ae = pair.vae_info, pair.ae_info
    text, view = st.columns([4, 8], gap="large")
    with text:
        st.markdown("**Your turn.** Draw one digit, large, in the middle of the black square. Both encoders read it.")
        image = your_digit(pair)
    if image is None:
        view.info("Draw a digit (or pick one): its codes appear on both maps here.")
        return
    mu_v, logvar_v = encode(vae, image[None])
    mu_a, _ = encode(ae, image[None])
    with view:
        digit_row(
            np.stack([image, decode(vae, mu_v)[0], decode(ae, mu_a)[0]]),
            "Your digit (28 × 28) · rebuilt by the VAE · rebuilt by the autoencoder",
            scale=3,
        )
        left, right = st.columns(2)
        with left:
            show_map(
                plane_map(
                    vae, cloud_traces(mu_v[0], logvar_v[0]), title="VAE: your digit's cloud", height=290, include=mu_v
                ),
                key="lesson_yours_vae",
            )
        with right:
            show_map(
                plane_map(
                    ae,
                    [points(mu_a, "your digit", symbol="star", size=16, colour="#FFC20A")],
                    title="Autoencoder: one point",
                    height=290,
                    include=mu_a,
                ),
                key="lesson_yours_ae",
            )
    text.markdown(
        f"The VAE put it at μ = ({mu_v[0][0]:.2f}, {mu_v[0][1]:.2f}) with a cloud of σ = "
        f"({np.exp(0.5 * logvar_v[0][0]):.2f}, {np.exp(0.5 * logvar_v[0][1]):.2f}); the autoencoder at "
        f"({mu_a[0][0]:.2f}, {mu_a[0][1]:.2f}). Does it land among its own digit's dots?"
    )
