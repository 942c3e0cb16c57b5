"""Smoothness lab: the numbers behind "a VAE's latent space is smooth, an autoencoder's has holes": a scoreboard,
the classifier's confidence behind the latent map, a beta scrubber and, on shapes, which latent dimension follows
which true factor."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from ui import contrast_text as text
from ui.figures import png
from ui.loaders import checkpoint_catalog, dataset, latents, load_model, model_key
from ui.map_component import ROLE
from ui.page import page
from ui.safe_text import escape_markdown
from ui.scoreboard_view import (
    NO_BAR,
    factor_heatmap,
    highlight_row,
    kl_bars,
    label_bars,
    measure_glossary,
    saved_scores,
    scoreboard_tables,
    scores,
    traversal_strip,
)
from ui.sidebar import ModelPair
from ui.validity_maps import validity_maps
from vae_core.evaluation.disentanglement import best_dimensions
from vae_core.evaluation.measures import SPECS
from vae_core.evaluation.scoreboard import Scores
from vae_core.latent.codes import tile_images
from vae_core.shapes import factor_sweep
from vae_core.store.catalog import CheckpointInfo, beta_series

IMAGE_WIDTH = 42  # pixels per 28x28 image in the traversal strips, so strips of 3 and of 9 images line up
# The beta scrubber's tiles (the first four) and table: holes and smudges in the model's own region, paths, fit.
BETA_MEASURES = ("fitted_holes", "prior_smudges", "path_max_step", "recon_mse", "aggregate_kl")


def with_interval(scores: Scores, key: str) -> str:
    """'8.2 % [7.0, 9.3] %': a measure and its interval, as the metrics file holds them."""
    spec = SPECS[key]
    return f"{spec.format(scores.values.get(key))} {spec.format_interval(*scores.interval(key))}".strip()


def plane_notes(models: list[tuple[str, CheckpointInfo]]) -> None:
    """Under the maps: what each model's plane is, and what to do when there is no classifier to judge it."""
    notes = []
    for label, info in models:
        vmap = scores(info).validity_map
        if vmap is None:
            st.info(
                f"No classifier for {escape_markdown(info.dataset)}: the codes are shown without the confidence "
                "behind them."
            )
            return
        if info.latent_dim == 2:
            notes.append(f"**{label}**: the latent plane itself (every place is a code)")
        elif info.latent_dim == 1:
            notes.append(f"**{label}**: a 1-D latent, along the horizontal axis")
        else:
            notes.append(
                f"**{label}**: the plane through the codes' mean spanned by their first two principal components "
                f"({100 * vmap.explained:.0f} % of their variance): the PCA map of its test codes"
            )
    st.caption(
        " · ".join(notes) + ". Each cell of the background is the classifier's confidence on the image decoded at "
        "its centre; hovering decodes the place under the cursor"
        + (" (and the other map the place among the same test images)" if len(models) > 1 else "")
        + " in your browser, and its caption gives the cell's confidence. Dashed circles: 1, 2 and 3 standard "
        "deviations of N(0, I), where the scoreboard's prior samples come from."
    )


def scoreboard_section(pair: ModelPair) -> None:
    """Every measure with its interval, grouped; for a VAE and its autoencoder, each difference and its verdict, and
    the sentences that sum them up (all quoted from the metrics files)."""
    columns = [(label, scores(info)) for label, info, _ in pair.both()]
    st.caption(" · ".join(f"{label}: {escape_markdown(info.name)}" for label, info, _ in pair.both()))
    if len(columns) == 2:
        vae, ae = columns[0][1], columns[1][1]
        st.success(text.summary(vae, ae))
    for group, table in scoreboard_tables(columns).items():
        st.markdown(f"**{group}**")
        st.table(table)
        with st.expander(f"What these measures show: {group.lower()}"):
            st.markdown(measure_glossary(group))
    if columns[0][1].values.get("prior_valid") is None:
        st.info(
            f"There is no classifier for {escape_markdown(pair.dataset)}, so decoded images are not judged. Build one "
            "with `python -m vae_core.cli.metrics --only NAME` (it trains the missing classifier first)."
        )
    elif len(columns) == 2:
        st.info(text.fair_regions(vae, ae))
        st.info(text.smudges_and_blends(vae, ae))
        st.info(text.paths(vae, ae))
    st.plotly_chart(label_bars(columns, dataset(pair.dataset).class_names), config=NO_BAR)
    with st.expander("How these numbers were computed"):
        for label, s in columns:
            p, d, cfg = s.provenance, s.details, s.provenance.get("settings", {})
            seeds = sorted(s.seeds.get("runs", {}))
            st.markdown(
                f"**{label}** {escape_markdown(s.name)}: {cfg.get('n_prior')} samples per region, "
                f"{cfg.get('n_pairs')} paths of {cfg.get('n_steps')} steps, {d.get('n_test')} test images; "
                f"intervals from {cfg.get('n_boot')} bootstrap resamples (bias-corrected percentiles); test NLL with "
                f"K = {cfg.get('iwae_k')} on {cfg.get('iwae_images')} images; classifier test accuracy "
                f"{p.get('classifier_accuracy')}; trained with seed {p.get('train_seed')}"
                + (f", retrained with seeds {', '.join(seeds)}" if seeds else "")
                + f"; computed in {p.get('seconds')} s."
            )


def short_label(info: CheckpointInfo) -> str:
    if info.kind == "ae":
        return "autoencoder (reference)"
    if info.config.recon_weight == 0:
        return "KL only"
    return "reconstruction only" if info.beta == 0 else f"β = {info.beta:g}"


def stage_story(info: CheckpointInfo) -> str:
    """What the objective asks of this model (what it achieved is measured in the tiles and the table)."""
    if info.config.recon_weight == 0:
        return "No reconstruction term: nothing ties a code to its image, so every code collapses onto the prior."
    if info.beta == 0:
        return "No KL term: nothing pulls the codes towards N(0, I); the autoencoder's objective, with noisy codes."
    if info.beta < 1:
        return "A little KL: the codes are pulled gently towards N(0, I)."
    if info.beta == 1:
        return "The VAE's ELBO: reconstruction and the pull towards N(0, I) weighed equally."
    return "Strong KL: the pull towards N(0, I) outweighs reconstruction."


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
        validity_maps([("beta", short_label(info), info, load_model(info))], key="beta_map")
        plane_notes([(short_label(info), info)])
    sc = scores(info)
    with right:
        st.plotly_chart(kl_bars(sc.details.get("kl_per_dim") or []), key=f"kl_{info.name}", config=NO_BAR)
        cols = st.columns(2)
        for col, key in zip(cols * 2, BETA_MEASURES[:4], strict=True):
            col.metric(SPECS[key].label, SPECS[key].format(sc.values.get(key)), help=SPECS[key].explanation)
    rows = series + [i for i in infos if i.shipped and i.name == "mnist5k-ae-2"]
    table = []
    for i in rows:  # only the chosen model is computed now if its numbers are missing; the others wait their turn
        known = sc if i is info else saved_scores(i)
        shown = {k: with_interval(known, k) if known else "not scored yet" for k in BETA_MEASURES}
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


pair = page("Smoothness lab", "📏")
st.title("Smoothness lab")
st.markdown(
    "The other pages *show* that a VAE's latent space is smooth and an autoencoder's has holes. Here that claim is "
    "**measured**: random codes, from N(0, I) and from each model's own regions, and straight paths between random "
    "test images, each decoded and judged a digit, a blend of two digits or a smudge. Every number has a 95 % "
    "interval; a difference inside its interval is a tie."
)
if pair is None:
    st.stop()

st.header("Scoreboard")
scoreboard_section(pair)

st.header("Where the latent space decodes to something")
st.markdown(
    "Behind each map, the classifier's confidence on the image decoded at that place: **white** = a confident "
    "digit (0.9 or more), **lavender** = a guess, **dark** = nothing recognisable, a smudge. The dots are the test "
    "images' codes. Hover a dark region and watch what the model draws there."
)
validity_maps([(ROLE[label], label, info, ckpt) for label, info, ckpt in pair.both()], key="maps")
plane_notes([(label, info) for label, info, _ in pair.both()])

st.header("The beta scrubber")
st.markdown(
    "One knob, β, weighs the KL term against reconstruction. Slide from reconstruction only to KL only and watch "
    "the map, the KL per dimension and the measures (each with its 95 % interval in the table)."
)
beta_scrubber(checkpoint_catalog())

st.header("Which latent dimension follows which factor")
shapes_section(pair)
