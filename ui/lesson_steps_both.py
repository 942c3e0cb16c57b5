"""Lesson steps 8-10: the VAE and the autoencoder side by side - between clusters, sampling the prior, and the
scoreboard that measures the difference (numbers from the metrics files only, a difference inside the noise a tie)."""

from __future__ import annotations

import streamlit as st
from streamlit.errors import StreamlitAPIException

from vae_core.evaluation.measures import SPECS

from .lesson_data import NOT_MEASURED, decode, measured, prior_codes, value_text
from .lesson_figures import digit_row, line, plane_map, points, prior_circles, show_map
from .lesson_hover import hover_maps
from .lesson_nav import judged, predict
from .lesson_steps_ae import BETWEEN, N_PRIOR, PATH_STEPS, between_pair, path_between
from .loaders import dataset
from .sidebar import ModelPair

WHO = ("The VAE", "The autoencoder", "A tie (within the noise)")
SAMPLING_WHY = {  # why, for each verdict on confident digits under N(0, I)
    "VAE better": "Why: the KL term pulled the VAE's clouds onto N(0, I), so its random codes land where it learned "
    "to draw digits.",
    "AE better": "Why the autoencoder wins this one: two dimensions hold ten digits, and the VAE packs them all into "
    "N(0, I), so many random codes fall *between* two clusters and decode to a **blend** of two digits - not a "
    "confident digit, and not a smudge either (compare the smudges).",
    "tie": "Within the noise, neither model makes confident digits more often.",
}
VERDICT_ANSWER = {"VAE better": WHO[0], "AE better": WHO[1], "tie": WHO[2]}
# The scoreboard rows step 10 shows, in its order: holes, smudges, paths, then the autoencoder's home game.
LESSON_ROWS = (
    "prior_holes",
    "fitted_holes",
    "prior_smudges",
    "prior_valid",
    "path_max_step",
    "path_smudges",
    "recon_mse",
)


def _verdict_line(key: str, pair: ModelPair) -> str | None:
    row = measured(key, pair.vae_info, pair.ae_info)
    if row is None:
        return None
    label = SPECS[key].label
    return f"**{label}**: VAE {value_text(key, row.a)}, autoencoder {value_text(key, row.b)} → **{row.verdict}**"


def step_between_vae(pair: ModelPair) -> None:
    vae, ae = pair.vae_info, pair.ae_info
    a, b, how = between_pair(pair)
    labels = dataset(vae.dataset).test_y
    text, view = st.columns([5, 7], gap="large")
    text.markdown(
        f"Back to the gap of step 2: the same **{labels[a]}** and **{labels[b]}** ({how}), the same straight walk, "
        "now through the **VAE's** code space, where every code had to decode to something near its cloud's digit."
    )
    with text:
        guess = predict("between_vae", "what does the VAE decode halfway?", BETWEEN)
    if guess is None:
        return
    z_vae, vae_images = path_between(vae, a, b)
    z_ae, ae_images = path_between(ae, a, b)
    with view:
        digit_row(vae_images, f"The VAE's {PATH_STEPS} steps", scale=2)
        digit_row(ae_images, f"The autoencoder's {PATH_STEPS} steps (step 2)", scale=2)
        left, right = st.columns(2)
        with left:
            show_map(plane_map(vae, [line(z_vae, "path", markers=True)], title="VAE", height=270), key="lesson_bv_vae")
        with right:
            show_map(
                plane_map(ae, [line(z_ae, "path", markers=True)], title="Autoencoder", height=270), key="lesson_bv_ae"
            )
    with st.expander("Explore: point anywhere on the maps, and both models decode under the pointer"):
        middle = PATH_STEPS // 2
        pins = {"VAE": z_vae[middle], "Autoencoder": z_ae[middle]}
        hover_maps([("VAE", vae), ("Autoencoder", ae)], pins, key="lesson_hover_between")
        st.caption("Pinned: the middle of each path. Hovering sends nothing to the server.")
    lines = [_verdict_line(k, pair) for k in ("path_smudges", "path_max_step")]
    with text:
        st.markdown(f"You predicted **{guess}**. One path proves little; the scoreboard walked 200 random ones:")
        if None in lines:
            st.info(NOT_MEASURED)
        else:
            st.markdown("\n".join(f"- {line_}" for line_ in lines))
            st.caption("95 % intervals. A difference whose interval contains 0 is a tie.")


def step_sampling(pair: ModelPair) -> None:
    vae, ae = pair.vae_info, pair.ae_info
    z = prior_codes(N_PRIOR, vae.latent_dim)
    text, view = st.columns([5, 7], gap="large")
    text.markdown(
        "A VAE is a **generative model**: training pulled its clouds toward N(0, I), so new digits come from decoding "
        "z ~ N(0, I). Here are the same random codes as in step 3, decoded by both models."
    )
    with text:
        guess = predict("sampling", "whose random codes decode to confident digits more often?", WHO)
    if guess is None:
        return
    with view:
        digit_row(decode(vae, z), "VAE: 16 codes z ~ N(0, I) decoded", n_cols=8)
        digit_row(decode(ae, z), "Autoencoder: the same 16 codes decoded", n_cols=8)
        left, right = st.columns(2)
        for col, info, name in ((left, vae, "VAE"), (right, ae, "Autoencoder")):
            with col:
                overlays = [*prior_circles(), points(z, "z ~ N(0, I)", symbol="x-thin", size=7, colour="#111")]
                show_map(plane_map(info, overlays, title=name, height=250, include=z), key=f"lesson_sample_{name}")
    valid = measured("prior_valid", vae, ae)
    with text:
        if valid is None:
            st.info(NOT_MEASURED)
            return
        st.markdown(judged(guess, VERDICT_ANSWER.get(valid.verdict, WHO[2])))
        st.markdown(
            "\n".join(
                f"- {x}" for k in ("prior_valid", "prior_smudges", "prior_blends") if (x := _verdict_line(k, pair))
            )
        )
        st.markdown(SAMPLING_WHY.get(valid.verdict, ""))
        st.caption("Measured on 2,000 codes z ~ N(0, I) per model; 95 % intervals.")


def step_measure(pair: ModelPair) -> None:
    vae, ae = pair.vae_info, pair.ae_info
    text, view = st.columns([5, 7], gap="large")
    text.markdown(
        "Pictures of a few codes can mislead, so the app **measures**: **holes** (samples farther from every test "
        "code than 95 % of test codes are from their nearest neighbour), **smudges** (decoded images that look like "
        "no digit and no blend), and **paths** (how much a straight walk jumps). Each number has a 95 % interval; a "
        "difference inside the noise is a **tie**."
    )
    with text:
        guess = predict(
            "measure", "in its own region (a Gaussian fitted to its codes), which model has fewer holes?", WHO
        )
    if guess is None:
        return
    holes, prior_holes = measured("fitted_holes", vae, ae), measured("prior_holes", vae, ae)
    if holes is None or prior_holes is None:
        text.info(NOT_MEASURED)
        return
    text.markdown(judged(guess, VERDICT_ANSWER.get(holes.verdict, WHO[2])))
    text.markdown(f"- {_verdict_line('fitted_holes', pair)}\n- {_verdict_line('prior_holes', pair)}")
    if prior_holes.verdict != holes.verdict:
        text.markdown(
            "Under N(0, I) the verdict changes: the autoencoder's codes reach far beyond N(0, I) (step 3), and "
            "N(0, I) samples only their crowded middle, never the empty stretches further out. Each model is judged "
            "fairest in its own region."
        )
    rows = [measured(k, vae, ae) for k in LESSON_ROWS]
    table = {
        "measure": [SPECS[k].label for k in LESSON_ROWS],
        f"VAE ({vae.name})": [value_text(k, r.a) if r else "n/a" for k, r in zip(LESSON_ROWS, rows, strict=True)],
        f"Autoencoder ({ae.name})": [
            value_text(k, r.b) if r else "n/a" for k, r in zip(LESSON_ROWS, rows, strict=True)
        ],
        "verdict": [r.verdict if r else "n/a" for r in rows],
    }
    with view:
        st.dataframe(table, hide_index=True, width="stretch")
        st.caption("From the metrics files beside the checkpoints; the Smoothness page shows every measure.")
        try:
            st.page_link("pages/6_Smoothness.py", label="The whole scoreboard: Smoothness", icon=":material/table:")
        except StreamlitAPIException:  # the page run on its own (tests) has no other pages to link
            pass
