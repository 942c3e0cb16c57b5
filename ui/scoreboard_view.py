"""The Smoothness lab's Streamlit parts: cached scoreboards (precomputed beside a checkpoint, else computed once)
and its figures: the scoreboard table, label and KL bars, the factor heatmap, traversals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from vae_core.evaluation.contrast import contrast
from vae_core.evaluation.disentanglement import traversal, traversal_values
from vae_core.evaluation.measures import GROUPS, SCOREBOARD, MetricSpec
from vae_core.evaluation.results import load_or_compute_scores, metrics_path, read_scores
from vae_core.evaluation.scoreboard import Scores
from vae_core.latent.codes import decode_codes, tile_images
from vae_core.model import VAE
from vae_core.store.catalog import CheckpointInfo
from vae_core.store.disk import content_hash

from .loaders import dataset, load_model, model_key

MODEL_COLOURS = ("#0072B2", "#D55E00")
NO_BAR = {"displayModeBar": False}


@st.cache_data(show_spinner="Computing every metric for this model (about half a minute, once)...", max_entries=128)
def _scores(path: str, version: str, metrics_version: str, shipped: bool, _info: CheckpointInfo) -> Scores:
    return load_or_compute_scores(path, load_model(_info), dataset(_info.dataset), save=not shipped)


@st.cache_data(show_spinner=False, max_entries=128)
def _saved_scores(path: str, version: str, metrics_version: str) -> Scores | None:
    return read_scores(path)


def saved_scores(info: CheckpointInfo) -> Scores | None:
    """The precomputed scoreboard if it is up to date, else None (never computes: for overview tables)."""
    return _saved_scores(str(info.path), model_key(info), content_hash(metrics_path(info.path)))


def scores(info: CheckpointInfo) -> Scores:
    """A checkpoint's scoreboard: precomputed beside it (shipped models), else computed now, once, and cached."""
    return _scores(str(info.path), model_key(info), content_hash(metrics_path(info.path)), info.shipped, info)


def _layout(fig: go.Figure, title: str, height: int, **kw) -> go.Figure:
    fig.update_layout(
        title={"text": title, "font": {"size": 13}}, height=height, margin={"l": 10, "r": 10, "t": 40, "b": 10}, **kw
    )
    return fig


NBSP = "\u00a0"


def winning(text: str) -> str:
    """A table cell marked as the winner: green background, bold (st.table renders Markdown in cells).

    Markdown rather than a pandas Styler: styling the two tables cost a third of the page's server time per rerun."""
    return f":green-background[**{text.replace(' ', NBSP)}**]"  # "34.9 %" stays on one line


def better_arrow(spec: MetricSpec) -> str:
    return {"higher": "higher is better ↑", "lower": "lower is better ↓"}.get(spec.better, "not a contest")


def measure_glossary(group: str) -> str:
    """What each measure of a group shows and which way is better, as a Markdown list (beside its table, so the
    table itself fits a projector)."""
    return "\n".join(f"- **{s.label}** ({better_arrow(s)}): {s.explanation}" for s in SCOREBOARD if s.group == group)


def _cell(spec: MetricSpec, triple: tuple[float | None, float | None, float | None]) -> str:
    """'19.6 % [17.8, 21.3] %': the value and its 95 % interval, on one line (the measure's name wraps instead)."""
    return f"{spec.format(triple[0])} {spec.format_interval(triple[1], triple[2])}".strip().replace(" ", NBSP)


def scoreboard_tables(columns: list[tuple[str, Scores]]) -> dict[str, pd.DataFrame]:
    """One table per group of measures (``measures.GROUPS``): each model's value with its interval, and for two
    models the difference with its interval, the verdict (``contrast``) and, when other seeds were trained, on how
    many seeds the difference points the same way. The better model's cell is marked (``winning``)."""
    tables: dict[str, list[dict[str, str]]] = {group: [] for group in GROUPS}
    labels = [label for label, _ in columns]
    rows = contrast(columns[0][1], columns[1][1], ("VAE", "AE")) if len(columns) == 2 else None
    for i, spec in enumerate(SCOREBOARD):
        row = {"Measure": spec.label}
        triples = [(s.values.get(spec.key), *s.interval(spec.key)) for _, s in columns]
        better = rows[i].better if rows else None
        for j, (label, triple) in enumerate(zip(labels, triples, strict=True)):
            row[label] = winning(_cell(spec, triple)) if j == better else _cell(spec, triple)
        if rows:
            d = rows[i].difference
            row["VAE − AE"] = "" if d is None else spec.format_difference(d.value, d.lo, d.hi).replace(" ", NBSP)
            row["Verdict"] = {"AE better": "Autoencoder better"}.get(rows[i].verdict, rows[i].verdict)
            seeds = rows[i].seeds
            row["Seeds agree"] = f"{seeds[0]}/{seeds[1]}" if seeds else "–"
        tables[spec.group].append(row)
    return {group: pd.DataFrame(r) for group, r in tables.items() if r}


def highlight_row(df: pd.DataFrame, column: str, value: str) -> pd.DataFrame:
    """The row whose ``column`` equals ``value``, every cell marked (``winning``)."""
    return df.apply(lambda r: r.map(winning) if r[column] == value else r, axis=1)


def label_bars(columns: list[tuple[str, Scores]], names: tuple[str, ...]) -> go.Figure:
    """How many of the prior samples each model's decodings were labelled as each class."""
    fig = go.Figure()
    for (label, s), colour in zip(columns, MODEL_COLOURS, strict=False):
        if s.details.get("prior_label_counts"):
            fig.add_bar(x=list(names), y=s.details["prior_label_counts"], name=label, marker_color=colour)
    n = int(columns[0][1].provenance.get("settings", {}).get("n_prior", 0))
    return _layout(
        fig,
        f"What {n:,} codes z ~ N(0, I) decode to, by the classifier's label",
        260,
        barmode="group",
        xaxis={"type": "category"},
        legend={"orientation": "h", "y": 1.18, "x": 1, "xanchor": "right"},
    )


def kl_bars(kl: list[float]) -> go.Figure:
    fig = go.Figure(go.Bar(x=[f"z{j + 1}" for j in range(len(kl))], y=kl, marker_color=MODEL_COLOURS[0]))
    return _layout(fig, "KL per latent dimension (mean over test images)", 220, yaxis_title="nats")


def factor_heatmap(mi: np.ndarray, factor_names: list[str], title: str) -> go.Figure:
    """Normalised mutual information, latent dimensions down, factors across."""
    fig = go.Figure(
        go.Heatmap(
            z=mi,
            x=factor_names,
            y=[f"z{j + 1}" for j in range(len(mi))],
            zmin=0,
            zmax=1,
            colorscale="Blues",
            text=np.round(mi, 2),
            texttemplate="%{text}",
        )
    )
    return _layout(fig, title, 90 + 28 * len(mi), yaxis={"autorange": "reversed"})


@st.cache_data(show_spinner=False, max_entries=64)
def traversal_strip(path: str, version: str, dim: int, base: int, _model: VAE, codes: np.ndarray) -> np.ndarray:
    """Test image ``base``'s code with dimension ``dim`` walked over +-2.5 standard deviations: 9 decodings."""
    values = traversal_values(codes, dim, n=9)
    return tile_images(decode_codes(_model, traversal(codes[base], dim, values)), n_cols=9, pad=2)
