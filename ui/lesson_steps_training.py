"""Lesson steps 6-7: training. The two forces (reconstruction against KL) in the beta series at latent 2, and both
models learning, replayed from the snapshots saved while they trained (``ui.replay``)."""

from __future__ import annotations

import streamlit as st

from vae_core.latent.codes import manifold_grid
from vae_core.latent.snapshots import Snapshots, inside_share, opening_epoch
from vae_core.model import VAE

from .figures import png
from .lesson_data import NOT_MEASURED, beta_series, scores, value_text
from .lesson_figures import plane_map, prior_circles, show_map
from .lesson_nav import judged, predict
from .loaders import load_model, model_key
from .replay import pair_replay
from .sidebar import ModelPair

STAY = ("The VAE's", "The autoencoder's", "The same share")


def stayed(vae: Snapshots, ae: Snapshots) -> str:
    """Which model ends with more of its test codes inside the prior's 3-sigma circle (to the whole percent)."""
    v, a = round(100 * inside_share(vae)), round(100 * inside_share(ae))
    return STAY[0] if v > a else STAY[1] if a > v else STAY[2]


def what_happened(vae: Snapshots, ae: Snapshots) -> str:
    """What the replay shows, read from the snapshot files themselves."""
    opened = opening_epoch(vae)
    start = (
        f"The VAE keeps every code near the centre, where KL costs nothing, until about epoch {opened:.0f}; then "
        "spreading the clouds starts to pay for itself in reconstruction and its clusters open up. "
        if opened is not None and opened >= 0.5
        else "The VAE spreads its codes from the start. "
    )
    return (
        start + f"At the end, {inside_share(vae):.0%} of the VAE's test codes lie inside the 3σ circle and "
        f"{inside_share(ae):.0%} of the autoencoder's, whose codes go wherever reconstruction pulls them."
    )


def step_training(pair: ModelPair) -> None:
    text, view = st.columns([4, 8], gap="large")
    text.markdown(
        "Both models started from random weights and saw the same training digits, round after round (epochs). "
        "This replays their real training: every dot is a test digit's code, saved often in the first epoch and "
        "then every half epoch. Dashed circles: where N(0, I) draws its samples."
    )
    with text:
        guess = predict(
            "training", "at the end of training, which model keeps more of its codes inside the dashed circles?", STAY
        )
        st.caption("Keys: Tab to ▶ Play, Space to play or pause; the slider takes the arrow keys.")
    if guess is None:
        return
    with view:
        models = pair_replay(pair, key="lesson_replay")
    if len(models) == 2 and all(m.snaps.axes == "latent" for m in models):
        text.markdown(judged(guess, stayed(models[0].snaps, models[1].snaps)))
        text.markdown(what_happened(models[0].snaps, models[1].snaps))
    else:
        text.markdown(f"You predicted **{guess}**.")
    text.caption(
        "Under each map: the training loss terms at the same moment. On the last frame, point at a map to "
        "decode that place."
    )


@st.cache_data(show_spinner=False, max_entries=16)
def _grid(version: str, _model: VAE) -> bytes:
    return png(manifold_grid(_model, n=10), 1)


def step_forces(pair: ModelPair) -> None:
    series = beta_series()
    text, view = st.columns([5, 7], gap="large")
    text.markdown(
        "Now two forces pull on the codes. **Reconstruction** wants every digit's cloud small and apart, so the "
        "decoder can tell them apart. **KL** wants every cloud to be N(0, I), on top of all the others. The weight β "
        "of the KL term sets the balance. These five models were trained with the same networks and data:"
    )
    with text:
        guess = predict(
            "forces",
            "trained on the KL term alone, where do the digits' codes go?",
            ["Spread out, by digit", "All on top of each other", "Into separate islands"],
        )
    if guess is None or not series:
        if not series:
            text.info("The beta series is not on this server (`python -m vae_core.cli.zoo` trains it).")
        return
    labels = [label for label, _ in series]
    with text:
        choice = st.select_slider("Slide the balance", labels, value=labels[min(2, len(labels) - 1)], key="lesson_beta")
    info = dict(series)[choice]
    with view:
        left, right = st.columns(2)
        with left:
            show_map(plane_map(info, prior_circles(), title=f"{choice}: the codes", height=300), key="lesson_map_beta")
        right.image(
            _grid(model_key(info), load_model(info).model),
            caption="Decoded on a grid over N(0, I) (Kingma & Welling's manifold)",
            width=300,
        )
    s = scores(info)
    with text:
        st.markdown(
            f"You predicted **{guess}**. With KL alone every cloud becomes N(0, I) itself: all codes on top "
            "of each other, and the decoder can only draw one average blur. With reconstruction alone the "
            "codes spread far past the circles, like the autoencoder's. The VAE sits between."
        )
        if s is None:
            st.info(NOT_MEASURED)
        else:
            st.markdown(
                f"**Measured** for *{choice}*: reconstruction error {value_text('recon_mse', _t(s, 'recon_mse'))}"
                f", holes under N(0, I) {value_text('prior_holes', _t(s, 'prior_holes'))}."
            )


def _t(s, key: str) -> tuple[float | None, float | None, float | None]:
    return (s.values.get(key), *s.interval(key))
