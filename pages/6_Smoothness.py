"""Smoothness lab: the numbers behind "a VAE's latent space is smooth, an autoencoder's has holes": a scoreboard,
the classifier's confidence behind the latent map, a beta scrubber and, on shapes, which latent dimension follows
which true factor."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from ui.figures import png
from ui.loaders import checkpoint_catalog, dataset, latents, model_key
from ui.safe_text import escape_markdown
from ui.scoreboard_view import (
    NO_BAR,
    factor_heatmap,
    highlight_row,
    kl_bars,
    label_bars,
    saved_scores,
    scoreboard_table,
    scores,
    traversal_strip,
    validity_chart,
)
from ui.sidebar import ModelPair, model_sidebar
from vae_core.evaluation.disentanglement import best_dimensions
from vae_core.evaluation.scoreboard import QUESTIONS, SPECS, Scores, question_winners, winner
from vae_core.latent.codes import tile_images
from vae_core.shapes import factor_sweep
from vae_core.store.catalog import CheckpointInfo, beta_series

st.set_page_config(page_title="Smoothness lab · VAE explorer", page_icon="📏", layout="wide")
IMAGE_WIDTH = 42  # pixels per 28x28 image in the traversal strips, so strips of 3 and of 9 images line up


def latent_view(info: CheckpointInfo, label: str, height: int = 430) -> None:
    """One model's validity map with its test codes on top, and what plane it shows."""
    vmap = scores(info).validity_map
    st.plotly_chart(
        validity_chart(info, f"<b>{label}</b> · {info.name}", height), key=f"map_{label}_{info.name}", config=NO_BAR
    )
    if vmap is None:
        st.info(
            f"No classifier for {escape_markdown(info.dataset)}: the codes are shown without the confidence behind "
            "them."
        )
    elif info.latent_dim == 1:
        st.caption("A 1-D latent: its one dimension runs along the horizontal axis.")
    elif vmap.plane == "pca":
        st.caption(
            f"Latent dim {info.latent_dim} > 2: this is the plane through the codes' mean spanned by their first two "
            f"principal components ({100 * vmap.explained:.0f} % of their variance). Each grid point is mapped back "
            "to a code with `LatentPCA.inverse_transform` and decoded."
        )
    else:
        st.caption(
            "The latent space itself. Dashed circle: |z| = 2, inside which N(0, I) puts 86 % of its samples. "
            "Yellow line: classifier confidence 0.9."
        )


def verdict(vae: Scores, ae: Scores) -> str:
    """One sentence: who wins which question, with the headline numbers."""
    wins: dict[int, list[str]] = {0: [], 1: []}
    for question, who in question_winners(vae.values, ae.values).items():
        if who is not None:
            spec = SPECS[QUESTIONS[question][-1] if question == "path smoothness" else QUESTIONS[question][0]]
            a, b = spec.format(vae.values.get(spec.key)), spec.format(ae.values.get(spec.key))
            wins[who].append(f"**{question}** ({spec.label.lower()}: {a} vs {b})")
    parts = [f"the **{name}** wins on " + ", ".join(wins[i]) for i, name in ((0, "VAE"), (1, "autoencoder")) if wins[i]]
    return ("On these two models, " + "; ".join(parts) + ".") if parts else "No clear winner on these two models."


def scoreboard_section(pair: ModelPair) -> None:
    columns = [(label, scores(info)) for label, info, _ in pair.both()]
    st.caption(" · ".join(f"{label}: {escape_markdown(info.name)}" for label, info, _ in pair.both()))
    if len(columns) == 2:
        st.success(verdict(columns[0][1], columns[1][1]))
    st.table(scoreboard_table(columns))
    if columns[0][1].values.get("prior_valid") is None:
        st.info(
            f"There is no classifier for {escape_markdown(pair.dataset)}, so validity is not scored. Build one with "
            "`python -m vae_core.cli.metrics --only NAME` (it trains the missing classifier first)."
        )
    if len(columns) == 2:
        ae = columns[1][1].values
        fitted, prior = (SPECS[k].format(ae.get(k)) for k in ("fitted_valid", "prior_valid"))
        helps = winner(SPECS["fitted_valid"], ae.get("fitted_valid"), ae.get("prior_valid")) == 0
        st.info(
            f"**Be fair to the autoencoder.** Sampled from a Gaussian fitted to its own codes, it scores {fitted} "
            f"valid samples, against {prior} from N(0, I)"
            + (": where its codes are, it can generate passable images. " if helps else ". ")
            + "The lesson is about the **prior** every point is drawn from - a VAE is trained so that any "
            "z ~ N(0, I) decodes to something, while nothing tells an autoencoder where its codes should be - and "
            f"about the **gaps between its clusters**: even under the fitted Gaussian, "
            f"{SPECS['fitted_holes'].format(ae.get('fitted_holes'))} of its samples land in a hole."
        )
    st.plotly_chart(label_bars(columns, dataset(pair.dataset).class_names), config=NO_BAR)
    with st.expander("How these numbers were computed"):
        for label, s in columns:
            p, d, cfg = s.provenance, s.details, s.provenance.get("settings", {})
            st.markdown(
                f"**{label}** {escape_markdown(s.name)}: {cfg.get('n_prior')} prior samples, "
                f"{cfg.get('n_pairs')} paths of {cfg.get('n_steps')} steps, {d.get('n_test')} test images; "
                f"test NLL {d.get('test_nll_source')}; "
                f"classifier test accuracy {p.get('classifier_accuracy')}; computed in {p.get('seconds')} s."
            )


def short_label(info: CheckpointInfo) -> str:
    if info.kind == "ae":
        return "autoencoder (reference)"
    if info.config.recon_weight == 0:
        return "KL only"
    return "reconstruction only" if info.beta == 0 else f"β = {info.beta:g}"


def stage_story(info: CheckpointInfo) -> str:
    if info.config.recon_weight == 0:
        return "No reconstruction term: every code collapses onto the prior and the decoder draws one average image."
    if info.beta == 0:
        return "Nothing pulls the codes towards N(0, I): separated clusters with gaps, as in an autoencoder."
    if info.beta < 1:
        return "A little KL: the clusters move in and start to fill the space around the origin."
    if info.beta == 1:
        return "The VAE: smooth, packed clusters that fill the prior; the space between them still decodes."
    return "Strong KL: the codes crowd towards the origin and overlap; reconstructions blur and lose detail."


@st.fragment
def beta_scrubber(infos: list[CheckpointInfo]) -> None:
    series = beta_series(infos)
    if len(series) < 2:
        st.info(
            "The shipped beta series (mnist5k, latent dim 2) is not in `checkpoints/`; rebuild it with "
            "`python -m vae_core.cli.zoo`."
        )
        return
    names = [i.name for i in series]
    wanted = st.query_params.get("beta_model")
    default = wanted if wanted in names else ("mnist5k-vae-2" if "mnist5k-vae-2" in names else names[0])
    choice = st.select_slider(
        "Weight of the KL term (β)",
        names,
        value=default,
        key="beta_model_slider",
        format_func=lambda n: short_label(series[names.index(n)]),
    )
    st.query_params["beta_model"] = choice
    info = series[names.index(choice)]
    st.markdown(f"**{short_label(info)}** ({escape_markdown(info.name)}): {stage_story(info)}")
    left, right = st.columns([3, 2])
    with left:
        latent_view(info, short_label(info), height=460)
    sc = scores(info)
    with right:
        st.plotly_chart(kl_bars(sc.details.get("kl_per_dim") or []), key=f"kl_{info.name}", config=NO_BAR)
        cols = st.columns(2)
        tiles = {"prior_valid": "Valid prior samples", "path_max_step": "Largest path step",
                 "prior_holes": "Holes under the prior", "recon_mse": "Reconstruction error"}  # fmt: skip
        for col, (key, title) in zip(cols * 2, tiles.items(), strict=True):
            col.metric(title, SPECS[key].format(sc.values.get(key)), help=SPECS[key].explanation)
    rows = series + [i for i in infos if i.shipped and i.name == "mnist5k-ae-2"]
    keys = ("prior_valid", "path_max_step", "prior_holes", "aggregate_kl", "recon_mse")
    table = []
    for i in rows:  # only the chosen model is computed now if its numbers are missing; the others wait their turn
        known = sc if i is info else saved_scores(i)
        shown = {k: SPECS[k].format(known.values.get(k)) if known else "not scored yet" for k in keys}
        table.append({"Model": short_label(i)} | {SPECS[k].label: v for k, v in shown.items()})
    st.table(highlight_row(pd.DataFrame(table), "Model", short_label(info)))


def shapes_section(pair: ModelPair) -> None:
    ds = dataset(pair.dataset)
    if not ds.factor_names:
        st.info(
            "This part needs data whose generative factors are known: choose the **shapes** dataset in the "
            "sidebar, or [open the page with the shipped shapes models]"
            "(?dataset=shapes&vae=shapes-vae-8&ae=shapes-ae-8)."
        )
        return
    models = [(label, info, ckpt, scores(info).factors) for label, info, ckpt in pair.both()]
    models = [m for m in models if m[3]]
    for col, (label, _info, _ckpt, fac) in zip(st.columns(len(models)), models, strict=True):
        with col:
            mi, rho = np.asarray(fac["mi"]), np.asarray(fac["spearman"])
            st.plotly_chart(
                factor_heatmap(
                    mi, fac["names"], f"<b>{label}</b>: normalised mutual information I(z; factor) / H(factor)"
                ),
                key=f"mi_{label}",
                config=NO_BAR,
            )
            matches = best_dimensions(mi, fac["names"])
            st.table(
                pd.DataFrame(
                    [
                        {
                            "Factor": m.factor,
                            "Best dimension": f"z{m.dimension + 1}",
                            "Normalised MI": f"{m.score:.2f}",
                            "|Spearman|": f"{rho[m.dimension, f]:.2f}",
                            "Lead over runner-up": f"{m.gap:.2f}",
                        }
                        for f, m in enumerate(matches)
                    ]
                )
            )
            st.metric(
                "Mutual information gap (MIG)",
                f"{fac['mig']:.2f}",
                help="Chen et al. 2018: the mean over "
                "factors of (best - runner-up); 1 = every factor has a latent dimension of its own.",
            )
    st.subheader("Traversals next to the true factors")
    label = st.radio("Model", [m[0] for m in models], horizontal=True, key="traversal_model")
    _, info, ckpt, fac = next(m for m in models if m[0] == label)
    mu = np.asarray(latents(info).mu)
    base = int(st.number_input("Start from test image #", 0, len(mu) - 1, 0, key="traversal_base"))
    st.caption(
        "Left: the true generative process, only this factor changing. Right: the latent dimension that "
        "follows it best, walked from -2.5 to +2.5 standard deviations of its codes, the others fixed."
    )
    for m in best_dimensions(np.asarray(fac["mi"]), fac["names"]):
        name_col, true_col, latent_col = st.columns([1, 4, 4], vertical_alignment="center")
        name_col.markdown(f"**{m.factor}**  \nz{m.dimension + 1} (MI {m.score:.2f})")
        swept = factor_sweep(ds.test_factors[base], m.factor, ds.factor_names)
        sweep = tile_images(swept, n_cols=len(swept), pad=2)
        true_col.image(png(sweep, 2), width=IMAGE_WIDTH * (sweep.shape[1] + 2) // 30)
        strip = traversal_strip(str(info.path), model_key(info), m.dimension, base, ckpt.model, mu)
        latent_col.image(png(strip, 2), width=IMAGE_WIDTH * (strip.shape[1] + 2) // 30)


st.title("Smoothness lab")
st.markdown(
    "The other pages *show* that a VAE's latent space is smooth and an autoencoder's has holes. Here the difference "
    "is **measured**: a small classifier trained on the same data judges whether decoded codes look real, straight "
    "paths between codes are checked for jumps, and random codes are checked for how far they fall from every real "
    "image's code."
)
pair = model_sidebar()
if pair is None:
    st.stop()

st.header("Scoreboard")
scoreboard_section(pair)

st.header("Where the latent space decodes to something")
st.markdown(
    "Behind each map, the classifier's confidence on the image decoded at that point: **light** = a clear "
    "example of a class, **dark** = nothing recognisable. The dots are the test images' codes."
)
for col, (label, info, _) in zip(st.columns(len(pair.both())), pair.both(), strict=True):
    with col:
        latent_view(info, label)

st.header("The beta scrubber")
st.markdown(
    "One knob, β, weighs the KL term against reconstruction. Slide from reconstruction only to KL only: "
    "separated clusters with gaps → smooth, packed clusters → everything collapsed at the origin."
)
beta_scrubber(checkpoint_catalog())

st.header("Which latent dimension follows which factor")
shapes_section(pair)
