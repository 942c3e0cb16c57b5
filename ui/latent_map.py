"""The latent map page's Streamlit parts beside the map component (``ui.map_component``): cached maps and t-SNEs,
the pinned code's bar chart, and the map's coordinates for the CSV download."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from vae_core.latent.map_decoding import METHODS, LatentMap
from vae_core.latent.projection import TSNESettings, fit_tsne

from .figures import PrebuiltFigure


@st.cache_data(show_spinner="Computing a t-SNE map of the codes (a few seconds)...", max_entries=32)
def tsne_points(codes: np.ndarray, perplexity: float, max_iter: int, seed: int) -> np.ndarray:
    """A fresh t-SNE of the codes, cached by the codes and the settings."""
    return fit_tsne(codes, TSNESettings(perplexity=perplexity, max_iter=max_iter, seed=seed))


@st.cache_data(show_spinner=False, max_entries=64)
def latent_map(codes: np.ndarray, method: str, points: np.ndarray | None) -> LatentMap:
    """The map of the codes and its way back to codes (``points``: precomputed coordinates, or None for PCA)."""
    return LatentMap(method).fit(codes, points)


def code_figure(code: np.ndarray, height: int = 170) -> go.Figure:
    """The decoded code as one bar per latent dimension, over the band where the prior N(0, 1) puts 95%.

    Written as plotly's dict (``PrebuiltFigure``): a new one is drawn on every click, and building it through
    plotly's validating objects cost more than the decoding."""
    code = np.asarray(code, dtype=np.float64)
    d = list(range(1, len(code) + 1))
    top = max(2.5, float(np.abs(code).max()) * 1.25)
    values = f" = ({', '.join(f'{v:.2f}' for v in code)})" if len(code) <= 4 else ""
    band = {"type": "rect", "xref": "x domain", "yref": "y", "x0": 0, "x1": 1, "y0": -1.96, "y1": 1.96}
    return PrebuiltFigure(
        {
            "data": [
                {
                    "type": "bar",
                    "x": d,
                    "y": [float(v) for v in code],
                    "marker": {"color": "#0072B2"},
                    "hovertemplate": "z%{x} = %{y:.2f}<extra></extra>",
                }
            ],
            "layout": {
                "height": height,
                "margin": {"l": 10, "r": 10, "t": 26, "b": 10},
                "showlegend": False,
                "title": {"text": f"decoded code z{values} (grey: 95% of the prior N(0, 1))", "font": {"size": 12}},
                "xaxis": {"dtick": 1 if len(code) <= 16 else None, "title": {"text": None}},
                "yaxis": {"range": [-top, top], "title": {"text": None}},
                "shapes": [band | {"fillcolor": "#999999", "opacity": 0.15, "line": {"width": 0}, "layer": "below"}],
            },
        }
    )


def map_csv_columns(maps: Mapping[str, LatentMap], labels: np.ndarray) -> dict[str, np.ndarray]:
    """index, label and each model's map coordinates, for the CSV download."""
    cols: dict[str, np.ndarray] = {"index": np.arange(len(labels)), "label": labels}
    for role, lmap in maps.items():
        cols[f"{role}_x"] = lmap.points_[:, 0]
        cols[f"{role}_y"] = lmap.points_[:, 1]
    return cols


def method_name(method: str) -> str:
    return METHODS.get(method, method)
