"""The lesson: the VAE's story in eleven steps, each with the real shipped models live and, where it fits, a
prediction to make before the answer shows. Back / Next (or the arrow keys) walk it; ?step=N reopens a step."""

import streamlit as st

from ui.lesson_nav import Step, current_step, nav_bar, projector_layout
from ui.lesson_steps_ae import step_between, step_prior_ae, step_reconstruct
from ui.lesson_steps_both import step_between_vae, step_measure, step_sampling
from ui.lesson_steps_draw import step_your_turn
from ui.lesson_steps_training import step_forces, step_training
from ui.lesson_steps_vae import step_cloud, step_kl
from ui.page import page

STEPS = (
    Step("An autoencoder rebuilds digits from two numbers", step_reconstruct),
    Step("What lives between two clusters?", step_between),
    Step("Random codes for the autoencoder", step_prior_ae),
    Step("The VAE: each code a little cloud", step_cloud),
    Step("Pulling the clouds to the prior: the KL term", step_kl),
    Step("Two forces: reconstruction against KL", step_forces),
    Step("Both models learning, replayed", step_training),
    Step("The VAE between two clusters", step_between_vae),
    Step("Sampling both models", step_sampling),
    Step("Measuring smoothness", step_measure),
    Step("Your turn: draw a digit", step_your_turn),
)

# The lesson's models are a 2-D pair: the map of the codes is then the latent plane itself, nothing projected.
pair = page("Lesson", "🎓", default_vae="mnist5k-vae-2", latent_dim=2)
st.set_page_config(initial_sidebar_state="collapsed")  # a projector needs the width; the sidebar is one click away
if pair is None:
    st.stop()
if pair.ae_info is None:
    st.error("The lesson compares a 2-D VAE with its autoencoder twin, and this server has no 2-D autoencoder. "
             "Train one with `python -m vae_core.cli.zoo --only mnist5k-ae-2`.")  # fmt: skip
    st.stop()
projector_layout()
step = current_step(len(STEPS))
nav_bar(step, STEPS)
STEPS[step - 1].draw(pair)
