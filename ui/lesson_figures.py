"""The lesson's pictures: a 2-D model's map of its test codes (the latent plane itself, equal axes) with what a
step draws on top - a path, the prior's circles, one digit's cloud, a drawn digit - and rows of digits.

Maps are plotly figures handed over as finished dicts (``PrebuiltFigure``); each model's scatter is built once
per checkpoint version and shared."""

from __future__ import annotations

from typing import Any

import numpy as np
import streamlit as st

from vae_core.latent.posterior import sigma_ellipse
from vae_core.latent.tiles import tile_images
from vae_core.store.catalog import CheckpointInfo

from .figures import PALETTE, PrebuiltFigure, png
from .lesson_data import codes
from .loaders import dataset, model_key

MAP_HEIGHT = 380  # px: two maps side by side and the text beside them fit a 1280x720 projector
INK = "#111111"
GOLD = "#FFC20A"


@st.cache_data(show_spinner=False, max_entries=64)
def _base(version: str, _info: CheckpointInfo) -> tuple[list[dict[str, Any]], list[float], list[float]]:
    """The test codes as one trace per digit class, and x/y ranges with a margin."""
    mu, labels = codes(_info)
    mu = np.asarray(mu, np.float64)[:, :2]
    traces = []
    for c in np.unique(labels):
        pts = mu[labels == c]
        traces.append(
            {
                "type": "scatter",
                "x": pts[:, 0].round(3).tolist(),
                "y": pts[:, 1].round(3).tolist(),
                "mode": "markers",
                "name": str(int(c)),
                "hoverinfo": "name",
                "marker": {"size": 5, "color": PALETTE[int(c) % len(PALETTE)], "opacity": 0.6},
                "showlegend": True,
            }
        )
    lo, hi = np.percentile(mu, 0.5, axis=0), np.percentile(mu, 99.5, axis=0)
    pad = 0.08 * (hi - lo)
    return traces, [float(lo[0] - pad[0]), float(hi[0] + pad[0])], [float(lo[1] - pad[1]), float(hi[1] + pad[1])]


def line(z: np.ndarray, name: str, colour: str = INK, width: float = 2.5, dash: str = "solid", markers: bool = False):
    z = np.asarray(z, np.float64)
    trace = {
        "type": "scatter",
        "x": z[:, 0].tolist(),
        "y": z[:, 1].tolist(),
        "name": name,
        "hoverinfo": "name",
        "showlegend": False,
        "mode": "lines+markers" if markers else "lines",
        "line": {"color": colour, "width": width, "dash": dash},
        "marker": {"size": 7, "color": "white", "line": {"color": colour, "width": 2}},
    }
    return trace


def points(z: np.ndarray, name: str, symbol: str = "circle", size: int = 9, colour: str = "white") -> dict[str, Any]:
    z = np.asarray(z, np.float64).reshape(-1, 2)
    return {
        "type": "scatter",
        "x": z[:, 0].tolist(),
        "y": z[:, 1].tolist(),
        "mode": "markers",
        "name": name,
        "hoverinfo": "name",
        "showlegend": False,
        "marker": {"size": size, "symbol": symbol, "color": colour, "line": {"color": INK, "width": 1.5}},
    }


def prior_circles() -> list[dict[str, Any]]:
    """The prior N(0, I)'s 1-, 2- and 3-sigma circles (39 %, 86 % and 99 % of its samples inside)."""
    t = np.linspace(0, 2 * np.pi, 90)
    ring = np.stack([np.cos(t), np.sin(t)], axis=1)
    return [line(k * ring, f"N(0, I): {k} σ", colour="#555555", width=1.5, dash="dash") for k in (1, 2, 3)]


def cloud_traces(mu: np.ndarray, logvar: np.ndarray, z: np.ndarray | None = None) -> list[dict[str, Any]]:
    """One digit's q(z|x): its 1- and 2-sigma ellipses, its mean, and codes drawn from it."""
    out = [
        line(
            sigma_ellipse(mu, logvar, k),
            f"q(z|x): {k} σ",
            width=2.5 if k == 1 else 1.5,
            dash="solid" if k == 1 else "dot",
        )
        for k in (1, 2)
    ]
    if z is not None:
        out.append(points(z, "z = μ + σ·ε", size=7))
    out.append(points(mu, "μ", symbol="star", size=16, colour=GOLD))
    return out


def plane_map(
    info: CheckpointInfo,
    overlays: list[dict[str, Any]] = (),
    *,
    title: str = "",
    height: int = MAP_HEIGHT,
    key: bool = True,
    zoom: tuple[np.ndarray, float] | None = None,
    include: np.ndarray | None = None,
) -> PrebuiltFigure:
    """The map of a 2-D model's test codes with ``overlays`` on top. The view spans the codes (and ``include``'s
    points, e.g. prior samples far outside them), or a square of half-width ``zoom[1]`` around ``zoom[0]``. ``key``
    adds the colour of each digit under the title."""
    traces, xr, yr = _base(model_key(info), info)
    if include is not None and len(include):
        inc = np.asarray(include, np.float64).reshape(-1, 2)
        xr = [min(xr[0], float(inc[:, 0].min()) - 0.3), max(xr[1], float(inc[:, 0].max()) + 0.3)]
        yr = [min(yr[0], float(inc[:, 1].min()) - 0.3), max(yr[1], float(inc[:, 1].max()) + 0.3)]
    if zoom is not None:
        (cx, cy), r = np.asarray(zoom[0], np.float64), float(zoom[1])
        xr, yr = [cx - r, cx + r], [cy - r, cy + r]
    axis = {"zeroline": False, "showgrid": True, "gridcolor": "#eeeeee", "tickfont": {"size": 12}}
    heading = {"text": title or " ", "font": {"size": 15}, "x": 0.02, "xanchor": "left", "y": 0.98, "yref": "container",
               "yanchor": "top"}  # fmt: skip
    if key:
        heading["subtitle"] = {"text": _key(info), "font": {"size": 13}}
    layout = {
        "height": height,
        "margin": {"l": 40, "r": 8, "t": 16 + 22 * bool(title) + 22 * key, "b": 36},
        "title": heading if title or key else None,
        "showlegend": False,
        "xaxis": {**axis, "range": xr, "title": {"text": "z1", "standoff": 2}, "constrain": "domain"},
        "yaxis": {
            **axis,
            "range": yr,
            "title": {"text": "z2", "standoff": 2},
            "scaleanchor": "x",
            "constrain": "domain",
        },
        "plot_bgcolor": "white",
        "paper_bgcolor": "white",
        "hovermode": "closest",
        "dragmode": False,
    }
    return PrebuiltFigure({"data": [*traces, *overlays], "layout": layout})


def show_map(fig: PrebuiltFigure, key: str) -> None:
    st.plotly_chart(fig, key=key, config={"displayModeBar": False, "scrollZoom": False}, width="stretch")


def digit_row(images: np.ndarray, caption: str | None = None, n_cols: int | None = None, scale: int = 2) -> None:
    """Digits in a row (or rows of ``n_cols``), crisp, black between them."""
    images = np.asarray(images)
    st.image(png(tile_images(images, n_cols or len(images), pad=2), scale), caption=caption)


def _key(info: CheckpointInfo) -> str:
    """'digit: 0 1 2 ... 9', each in its map colour (plotly's own markup, in the map's title)."""
    names = dataset(info.dataset).class_names
    return "digit: " + " ".join(
        f"<span style='color:{PALETTE[i % len(PALETTE)]}'><b>{n}</b></span>" for i, n in enumerate(names)
    )
