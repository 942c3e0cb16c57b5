"""Lesson steps 4-6: the VAE's two changes. Each code becomes a cloud (the reparameterization trick), the KL term
pulls every cloud toward the prior, and the two forces balance (the beta series at latent 2)."""

from __future__ import annotations

import ast
import inspect
import textwrap

import numpy as np
import streamlit as st
import torch

from vae_core.latent.tiles import tile_images
from vae_core.model import VAE
from vae_core.objectives import kl_divergence, kl_per_dimension

from .figures import PrebuiltFigure, png
from .lesson_data import NOT_MEASURED, cloud, scores, typical
from .lesson_figures import cloud_traces, plane_map, show_map
from .lesson_nav import judged, predict
from .loaders import dataset
from .sidebar import ModelPair

N_CLOUD = 8  # codes drawn from one digit's cloud
KL_CHOICES = ("A tiny cloud (σ = 0.1) at μ = 2", "A wide cloud (σ = 1) at μ = 0", "Both the same")
DIGIT_KEY = "lesson_digit"  # the digit whose cloud steps 4 and 5 show (the widget)
DIGIT_MEMORY = "_lesson_digit"  # ... and the choice, kept while step 4 is not on screen
CLOUD_CHOICES = ("8 identical images", "8 versions of the same digit", "8 different digits")


def chosen_digit(vae, picker: bool = True) -> int:
    """The test image of the digit class the student picked in step 4 (default 0): that class's typical image
    under the VAE. ``picker`` draws the choice; without it the step uses the choice made before."""
    picks = typical(vae)
    names = [dataset(vae.dataset).class_names[c] for c in sorted(picks)]
    remembered = st.session_state.get(DIGIT_MEMORY, names[0])
    if picker:
        if st.session_state.get(DIGIT_KEY) not in names:
            st.session_state[DIGIT_KEY] = remembered if remembered in names else names[0]
        st.pills("Whose cloud?", names, key=DIGIT_KEY, required=True, on_change=_remember_digit, wrap=True)
        remembered = st.session_state.get(DIGIT_KEY, remembered)
    return picks[sorted(picks)[names.index(remembered)]] if remembered in names else picks[min(picks)]


def _remember_digit() -> None:
    st.session_state[DIGIT_MEMORY] = st.session_state.get(DIGIT_KEY)


def without_docstring(source: str) -> str:
    """A function's source with its docstring replaced by a one-line note (the lesson shows the code, not the prose)."""
    lines = source.splitlines()
    body = ast.parse(textwrap.dedent(source)).body[0].body
    doc = body[0] if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) else None
    if doc is None:
        return source
    indent = lines[doc.lineno - 1][: len(lines[doc.lineno - 1]) - len(lines[doc.lineno - 1].lstrip())]
    return "\n".join([*lines[: doc.lineno - 1], f"{indent}# (docstring omitted)", *lines[doc.end_lineno :]])


def step_cloud(pair: ModelPair) -> None:
    vae = pair.vae_info
    text, view = st.columns([5, 7], gap="large")
    with text:
        st.markdown(
            "The **VAE** keeps both networks and changes one thing: the encoder predicts a little **cloud** of codes "
            "for each digit, a Gaussian q(z|x) with centre μ and spread σ. Training decodes a random code from the "
            "cloud, drawn by the **reparameterization trick**. The code this app runs:"
        )
        st.code(
            without_docstring(textwrap.dedent(inspect.getsource(VAE.reparameterize))),
            language="python",
            wrap_lines=True,
        )
    with view:
        guess = predict("cloud", "decode 8 codes drawn from one digit's cloud. What comes out?", CLOUD_CHOICES)
        left, right = st.columns([3, 1], vertical_alignment="bottom")
        with left:
            index = chosen_digit(vae)
        draws = st.session_state.setdefault("_lesson_draws", 0)
        right.button(
            "New draws",
            key="lesson_redraw",
            disabled=guess is None,
            width="stretch",
            help="Draw 8 new codes from the cloud",
            on_click=lambda: st.session_state.update(_lesson_draws=draws + 1),
        )
        c = cloud(vae, index, N_CLOUD, seed=draws)
        r = float(max(3 * np.exp(0.5 * c.logvar).max(), 0.3))
        overlays = cloud_traces(c.mu, c.logvar, c.z if guess else None)
        title = f"Test image {index}'s cloud on the VAE's map (zoomed in)"
        show_map(plane_map(vae, overlays, title=title, zoom=(c.mu, r), height=260), key="lesson_map_cloud")
        if guess is None:
            return
        st.image(
            png(tile_images(np.stack([dataset(vae.dataset).test_x[index], *c.images]), N_CLOUD + 1, pad=2), 2),
            caption="The digit, then its 8 codes z = μ + σ·ε (the white dots) decoded",
        )
        st.markdown(
            f"You predicted **{guess}**. Every code in the cloud has to decode to this digit, so the decoder learns "
            "that a whole *region* means this digit, not a single point."
        )


def _bars(per_dim: np.ndarray, mean: list[float] | None, index: int) -> PrebuiltFigure:
    """KL per latent dimension: one digit's cloud, and the mean over the test images from the metrics file."""
    names = [f"z{j}" for j in range(len(per_dim))]
    series = [(f"test image {index}", per_dim, "#0072B2")]
    if mean:
        series.append(("mean over the test images (metrics file)", np.asarray(mean), "#E69F00"))
    data = [
        {
            "type": "bar",
            "x": names,
            "y": [float(v) for v in values],
            "name": name,
            "marker": {"color": colour},
            "text": [f"{v:.2f}" for v in values],
            "textposition": "auto",
            "hoverinfo": "skip",
        }
        for name, values, colour in series
    ]
    layout = {
        "height": 230,
        "margin": {"l": 44, "r": 8, "t": 30, "b": 24},
        "barmode": "group",
        "title": {"text": "KL per latent dimension (nats)", "font": {"size": 14}, "x": 0.02},
        "legend": {"orientation": "h", "y": 1.12, "x": 0.35, "font": {"size": 12}},
        "showlegend": True,
        "yaxis": {"rangemode": "tozero"},
        "plot_bgcolor": "white",
    }
    return PrebuiltFigure({"data": data, "layout": layout})


def _densities(mu: float, sigma: float) -> PrebuiltFigure:
    """The cloud N(mu, sigma^2) against the prior N(0, 1), in one dimension."""
    x = np.linspace(-4, 4, 161)
    pdf = [
        (
            f"N({mu:.1f}, {sigma:.2f}²)",
            np.exp(-0.5 * ((x - mu) / sigma) ** 2) / (sigma * np.sqrt(2 * np.pi)),
            "#0072B2",
            "solid",
        ),
        ("prior N(0, 1)", np.exp(-0.5 * x**2) / np.sqrt(2 * np.pi), "#555555", "dash"),
    ]
    data = [
        {
            "type": "scatter",
            "x": x.round(3).tolist(),
            "y": y.round(4).tolist(),
            "mode": "lines",
            "name": name,
            "line": {"color": colour, "dash": dash, "width": 2.5},
            "hoverinfo": "skip",
        }
        for name, y, colour, dash in pdf
    ]
    layout = {
        "height": 170,
        "margin": {"l": 30, "r": 8, "t": 8, "b": 24},
        "plot_bgcolor": "white",
        "legend": {"x": 0.01, "y": 0.98, "font": {"size": 12}},
        "yaxis": {"rangemode": "tozero"},
    }
    return PrebuiltFigure({"data": data, "layout": layout})


def kl_of(mu: float, sigma: float) -> float:
    """KL(N(mu, sigma^2) || N(0, 1)) in nats, by the app's own kl_divergence."""
    return float(kl_divergence(torch.tensor([[mu]]), torch.tensor([[2 * np.log(sigma)]]))[0])


def step_kl(pair: ModelPair) -> None:
    vae = pair.vae_info
    text, view = st.columns([5, 7], gap="large")
    with text:
        st.markdown(
            "Clouds alone are not enough: the encoder could shrink every cloud to a dot far from the others, and we "
            "are back to an autoencoder. So the objective adds a second term that pulls every cloud toward the "
            "prior N(0, I): the **KL divergence**, exact for two Gaussians (Kingma & Welling 2014, appendix B):"
        )
        st.latex(r"\mathrm{KL} = \tfrac12 \sum_j \left(\mu_j^2 + \sigma_j^2 - 1 - \log \sigma_j^2\right)")
        guess = predict("kl", "which cloud costs more KL?", KL_CHOICES)
    if guess is None:
        return
    tiny, wide = kl_of(2.0, 0.1), kl_of(0.0, 1.0)
    with text:
        st.markdown(judged(guess, KL_CHOICES[0] if tiny > wide else KL_CHOICES[1] if wide > tiny else KL_CHOICES[2]))
        st.markdown(
            f"By the app's `kl_divergence`: {tiny:.2f} nats against {wide:.2f}. Moving away from 0 costs μ²/2, "
            "shrinking the cloud costs -log σ: KL wants every cloud as wide as the prior and on top of it."
        )
    with view:
        a, b, value = st.columns([2, 2, 3], vertical_alignment="bottom")
        mu = a.slider("Try it: μ", -3.0, 3.0, 1.0, 0.1, key="lesson_kl_mu")
        sigma = b.slider("σ", 0.05, 2.0, 0.5, 0.05, key="lesson_kl_sigma")
        value.markdown(f"KL(N({mu:.1f}, {sigma:.2f}²) ‖ N(0, 1))  \n= **{kl_of(mu, sigma):.2f} nats**")
        show_map(_densities(mu, sigma), key="lesson_kl_densities")
        index = chosen_digit(vae, picker=False)
        c = cloud(vae, index, N_CLOUD)
        per_dim = kl_per_dimension(torch.as_tensor(c.mu)[None], torch.as_tensor(c.logvar)[None])[0].numpy()
        s = scores(vae)
        mean_kl = s.details.get("kl_per_dim") if s is not None else None
        show_map(_bars(per_dim, mean_kl, index), key="lesson_kl_bars")
        if not mean_kl:
            st.caption(NOT_MEASURED)
