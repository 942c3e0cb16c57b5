"""The latent map page's Streamlit parts beside the map component (``ui.map_component``): cached maps and t-SNEs,
the pinned code's bar chart, and the map's coordinates for the CSV download."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import streamlit as st

from vae_core.latent.map_decoding import METHODS, LatentMap
from vae_core.latent.projection import TSNESettings, fit_tsne


@st.cache_data(show_spinner="Computing a t-SNE map of the codes (a few seconds)...", max_entries=32)
def tsne_points(codes: np.ndarray, perplexity: float, max_iter: int, seed: int) -> np.ndarray:
    """A fresh t-SNE of the codes, cached by the codes and the settings."""
    return fit_tsne(codes, TSNESettings(perplexity=perplexity, max_iter=max_iter, seed=seed))


@st.cache_data(show_spinner=False, max_entries=64)
def latent_map(codes: np.ndarray, method: str, points: np.ndarray | None) -> LatentMap:
    """The map of the codes and its way back to codes (``points``: precomputed coordinates, or None for PCA)."""
    return LatentMap(method).fit(codes, points)


def code_caption(code: np.ndarray) -> str:
    """What the code bars show (with the values themselves for a code of up to 4 numbers)."""
    values = f" = ({', '.join(f'{v:.2f}' for v in code)})" if len(code) <= 4 else ""
    return f"decoded code z{values}, one bar per dimension (grey: where the prior N(0, 1) puts 95%)"


def code_bars_svg(code: np.ndarray, width: int = 400, height: int = 140) -> str:
    """The decoded code as one bar per latent dimension (z1, z2, ...), over the band [-1.96, 1.96] where the prior
    N(0, 1) puts 95%, as a small SVG. The browser draws it in no time; a plotly chart of the same bars kept the
    browser busy for 40-80 ms on every pin (bench/bench_server_path.py, "busy (JS)")."""
    code = np.asarray(code, dtype=np.float64)
    top = max(2.5, float(np.abs(code).max()) * 1.25)
    x0, y0, w, h = 30, 6, width - 36, height - 24  # the plot area: room for tick labels left and below

    def y(v: float) -> float:
        return y0 + h * (top - v) / (2 * top)

    step = w / len(code)
    every = int(np.ceil(len(code) / 16))  # at most 16 dimension labels
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        'font-family="sans-serif" font-size="10" fill="#555">',
        f'<rect x="{x0}" y="{y(1.96):.1f}" width="{w}" height="{y(-1.96) - y(1.96):.1f}" fill="#999" '
        'fill-opacity="0.18"/>',
        f'<line x1="{x0}" x2="{x0 + w}" y1="{y(0):.1f}" y2="{y(0):.1f}" stroke="#888" stroke-width="0.8"/>',
    ]
    for v in (top, 0.0, -top):
        parts.append(f'<text x="{x0 - 4}" y="{y(v) + 3.5:.1f}" text-anchor="end">{v:.3g}</text>')
    for j, v in enumerate(code):
        left, bar_top = x0 + j * step + 0.15 * step, y(max(v, 0.0))
        parts.append(
            f'<rect x="{left:.1f}" y="{bar_top:.1f}" width="{0.7 * step:.1f}" height="{abs(y(v) - y(0)):.1f}" '
            'fill="#0072B2"/>'
        )
        if j % every == 0:
            parts.append(f'<text x="{left + 0.35 * step:.1f}" y="{height - 4}" text-anchor="middle">{j + 1}</text>')
    return "".join(parts) + "</svg>"


def map_csv_columns(maps: Mapping[str, LatentMap], labels: np.ndarray) -> dict[str, np.ndarray]:
    """index, label and each model's map coordinates, for the CSV download."""
    cols: dict[str, np.ndarray] = {"index": np.arange(len(labels)), "label": labels}
    for role, lmap in maps.items():
        cols[f"{role}_x"] = lmap.points_[:, 0]
        cols[f"{role}_y"] = lmap.points_[:, 1]
    return cols


def turned_onto(lmap: LatentMap, reference: LatentMap) -> LatentMap:
    """``lmap`` turned onto ``reference``, another model's map of the same test images, so the two compare place for
    place (``LatentMap.aligned_to``: never scaled; a 2-D latent's plane is returned as it is); ``lmap`` itself when
    the two maps show different images. A caller can tell a turned map by ``is not lmap``."""
    return lmap.aligned_to(reference.points_) if lmap.points_.shape == reference.points_.shape else lmap


ALIGNED = ", aligned to the VAE"  # a turned map's title says so


def method_name(method: str) -> str:
    return METHODS.get(method, method)
