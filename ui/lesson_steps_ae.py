"""Lesson steps 1-3: the plain autoencoder. It rebuilds digits through two numbers; between its clusters and under
random codes it decodes what it was never trained on."""

from __future__ import annotations

import numpy as np
import streamlit as st

from vae_core.evaluation.contrast import typical_pair
from vae_core.latent.interpolation import lerp

from .lesson_data import NOT_MEASURED, codes, decode, encode, measured, prior_codes, scores, typical, value_text
from .lesson_figures import digit_row, line, plane_map, points, prior_circles, show_map
from .lesson_hover import hover_maps
from .lesson_nav import SHARE_EDGES, SHARES, bucket, judged, predict
from .loaders import dataset
from .sidebar import ModelPair

PATH_STEPS = 9  # images on a straight path between two codes, endpoints included
N_PRIOR = 16  # prior samples a step shows (the measured share comes from 2,000 in the metrics files)
BETWEEN = ("One of the two digits", "A morph of the two", "A smudge, no digit", "Another digit")


def between_pair(pair: ModelPair) -> tuple[int, int, str]:
    """The two test images a path joins, and how they were chosen: the scoreboards' typical pair (its largest step is
    nearest the median for both models and their difference), else the two models' typical 0 and 1."""
    vae_scores, ae_scores = scores(pair.vae_info), scores(pair.ae_info)
    if vae_scores is not None and ae_scores is not None:
        try:
            t = typical_pair(vae_scores, ae_scores)
            return t.pair[0], t.pair[1], "a typical pair of the 200 the scoreboard walked (median largest step)"
        except ValueError:
            pass
    picks = typical(pair.ae_info)
    return picks[0], picks[1], "the autoencoder's typical 0 and 1 (median reconstruction error)"


def path_between(info, a: int, b: int) -> tuple[np.ndarray, np.ndarray]:
    """The straight path between test images a and b in this model's code space, and its decoded images."""
    images = dataset(info.dataset).test_x
    mu, _ = encode(info, images[[a, b]])
    z = lerp(mu[0], mu[1], PATH_STEPS)
    return z, decode(info, z)


def step_reconstruct(pair: ModelPair) -> None:
    ae = pair.ae_info
    text, view = st.columns([5, 7], gap="large")
    text.markdown(
        "An **autoencoder** has two networks. The **encoder** squeezes a 28 × 28 digit (784 numbers) into a code of "
        "just **two numbers**, z = (z1, z2); the **decoder** rebuilds the digit from those two numbers alone. It is "
        "trained only to rebuild its inputs."
    )
    with text:
        guess = predict(
            "reconstruct",
            "with only two numbers, how do the rebuilt digits look?",
            ["Sharp copies", "Readable but blurry", "Mostly unreadable"],
        )
    picks = typical(ae)
    index = np.array([picks[c] for c in sorted(picks)])
    images = dataset(ae.dataset).test_x[index]
    mu, _ = encode(ae, images)
    with view:
        digit_row(images, "Test digits: a typical one of each class (median reconstruction error)", scale=2)
        if guess is None:
            return
        digit_row(decode(ae, mu), f"Rebuilt by the autoencoder from two numbers each ({ae.name})", scale=2)
        show_map(
            plane_map(
                ae,
                [points(mu, "these ten digits", symbol="star", size=14, colour="#FFC20A")],
                title="Where the autoencoder put all 500 test digits (colour = digit)",
                height=280,
            ),
            key="lesson_map_reconstruct",
        )
    text.markdown(
        f"You predicted **{guess}**. Two numbers keep *which* digit it is and its rough shape, not every stroke. "
        "The map on the right is the whole code space: each dot is one test digit's code, and digits of a kind "
        "cluster together."
    )


def step_between(pair: ModelPair) -> None:
    ae = pair.ae_info
    a, b, how = between_pair(pair)
    labels = dataset(ae.dataset).test_y
    z, images = path_between(ae, a, b)
    text, view = st.columns([5, 7], gap="large")
    text.markdown(
        f"Take a **{labels[a]}** and a **{labels[b]}** ({how}) and walk in a straight line from one's code to the "
        "other's, through the space between their clusters. Every step is a code the decoder can turn into an image."
    )
    with text:
        guess = predict("between_ae", "what does the autoencoder decode halfway?", BETWEEN)
    with view:
        if guess is None:
            hidden = images.copy()
            hidden[1:-1] = 0.15  # grey: the steps between are shown once a prediction is made
            digit_row(hidden, f"Start: test image {a} · {PATH_STEPS - 2} hidden steps · end: test image {b}", scale=2)
            return
        digit_row(images, f"The autoencoder's {PATH_STEPS} steps from test image {a} to test image {b}", scale=2)
        show_map(
            plane_map(ae, [line(z, "the straight path", markers=True)], title="The path on the autoencoder's map"),
            key="lesson_map_between_ae",
        )
    with st.expander("Explore: point anywhere on the autoencoder's map, and it decodes under the pointer"):
        hover_maps([("Autoencoder", ae)], {"Autoencoder": z[PATH_STEPS // 2]}, key="lesson_hover_ae")
        st.caption("Pinned: the middle of the path. Try the empty space between the clusters.")
    smudges, holes = measured("path_smudges", pair.vae_info, ae), measured("path_holes", pair.vae_info, ae)
    with text:
        st.markdown(
            f"You predicted **{guess}**. Why: nothing in the autoencoder's training ever decodes a code *between* "
            "two digits' codes, so along the way it draws whatever its decoder happens to make of them: other "
            "digits where the path crosses their clusters, something else in the empty space. One path proves "
            "little, though."
        )
        if smudges is None or holes is None:
            st.info(NOT_MEASURED)
        else:
            st.markdown(
                f"**Measured** over the scoreboard's random paths: {value_text('path_smudges', smudges.b)} "
                f"of the autoencoder's in-between images are smudges, and "
                f"{value_text('path_holes', holes.b)} of the path lies in holes (95 % intervals)."
            )


def step_prior_ae(pair: ModelPair) -> None:
    ae = pair.ae_info
    text, view = st.columns([5, 7], gap="large")
    text.markdown(
        "To **make new digits** we need codes to decode. The simplest choice: draw them at random from "
        "z ~ N(0, I), a bell curve around (0, 0) with spread 1 in each direction (dashed circles: 1, 2 and 3 σ)."
    )
    z = prior_codes(N_PRIOR, ae.latent_dim)
    with text:
        guess = predict(
            "prior_ae", "what share of random codes does the autoencoder decode to a confident digit?", SHARES
        )
    mu, _ = codes(ae)
    overlays = [*prior_circles()] + (
        [points(z, "z ~ N(0, I)", symbol="x-thin", size=8, colour="#111")] if guess else []
    )
    with view:
        show_map(
            plane_map(ae, overlays, title="The autoencoder's codes and the prior N(0, I)", include=z),
            key="lesson_map_prior_ae",
        )
        if guess is None:
            return
        digit_row(decode(ae, z), f"{N_PRIOR} codes z ~ N(0, I) (the crosses), decoded by the autoencoder", n_cols=8)
    valid, code_kl = measured("prior_valid", pair.vae_info, ae), measured("code_kl", pair.vae_info, ae)
    with text:
        if valid is None or valid.b[0] is None:
            st.info(NOT_MEASURED)
            return
        st.markdown(judged(guess, bucket(valid.b[0], SHARE_EDGES, SHARES)))
        st.markdown(
            f"**Measured** on 2,000 codes z ~ N(0, I): {value_text('prior_valid', valid.b)} decode to a digit "
            "the classifier names with at least 90 % confidence."
        )
        if code_kl is not None and code_kl.b[0] is not None:
            st.markdown(
                f"Why: nothing asked the autoencoder to put its codes where N(0, I) draws them. A Gaussian "
                f"fitted to its codes is {value_text('code_kl', code_kl.b)} nats away from N(0, I) "
                f"(the VAE's: {value_text('code_kl', code_kl.a)})."
            )
