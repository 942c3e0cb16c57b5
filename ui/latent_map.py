"""The latent map's Streamlit parts: cached maps, the clickable plotly figure, and what a click on it means.

A click reaches the page as a plotly point selection (``st.plotly_chart(on_select=..., selection_mode="points")``),
which only fires on points. So the figure carries an invisible grid of points under the data: a click on the
empty plane lands on a grid point and decodes that location; a click on a test image selects that image.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping
from typing import Any

import numpy as np
import plotly.graph_objects as go
import streamlit as st
from PIL import Image

from vae_core.latent.map_decoding import METHODS, LatentMap
from vae_core.latent.projection import TSNESettings, fit_tsne

from .figures import PALETTE, PrebuiltFigure, to_uint8

GRID_SIZE = 45  # invisible click targets per side: about every 10 px on a 450 px map


@st.cache_data(show_spinner="Computing a t-SNE map of the codes (a few seconds)...", max_entries=32)
def tsne_points(codes: np.ndarray, perplexity: float, max_iter: int, seed: int) -> np.ndarray:
    """A fresh t-SNE of the codes, cached by the codes and the settings."""
    return fit_tsne(codes, TSNESettings(perplexity=perplexity, max_iter=max_iter, seed=seed))


@st.cache_data(show_spinner=False, max_entries=64)
def latent_map(codes: np.ndarray, method: str, points: np.ndarray | None) -> LatentMap:
    """The map of the codes and its way back to codes (``points``: precomputed coordinates, or None for PCA)."""
    return LatentMap(method).fit(codes, points)


# ---- what a click means ------------------------------------------------------------------------------------


def click_target(selection: Mapping[str, Any] | None) -> str | None:
    """A plotly selection -> the page's ``?vae_at=`` / ``?ae_at=`` value: "123" for a test image, "x,y" for a
    place on the plane (a grid point), None when nothing was clicked."""
    points = (selection or {}).get("points") or []
    if not points:
        return None
    p = points[0]
    custom = p.get("customdata")
    if isinstance(custom, Mapping):  # the browser may send [index, label] as {"0": index, "1": label}
        custom = [custom[k] for k in sorted(custom, key=int)]
    if custom is not None and len(custom) > 0:
        return str(int(custom[0]))
    return f"{float(p['x']):.5g},{float(p['y']):.5g}"


def parse_target(value: str | None, n_points: int) -> int | tuple[float, float] | None:
    """Read ``?vae_at=``: "123" -> test image 123; "x,y" -> a place on the map; else (or out of range) None."""
    if not value:
        return None
    try:
        if "," in value:
            x, y = (float(v) for v in value.split(","))
            return (x, y) if np.isfinite([x, y]).all() else None
        i = int(value)
    except ValueError:
        return None
    return i if 0 <= i < n_points else None


# ---- the figure ----------------------------------------------------------------------------------------------


def tinted_png_uri(img: np.ndarray, colour: str) -> str:
    """A 28x28 image as a PNG whose strokes are ``colour`` and whose background is transparent."""
    rgb = tuple(int(colour.lstrip("#")[i : i + 2], 16) for i in (0, 2, 4))
    alpha = to_uint8(img)
    rgba = np.dstack([np.full_like(alpha, c) for c in rgb] + [alpha])
    buf = io.BytesIO()
    Image.fromarray(rgba, mode="RGBA").save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def map_figure(
    lmap: LatentMap,
    labels: np.ndarray,
    class_names: tuple[str, ...],
    title: str,
    marked: np.ndarray | None = None,
    images: np.ndarray | None = None,
    height: int = 460,
) -> go.Figure:
    """Codes as dots coloured by label (hover: label and test index), an invisible click grid, the last click
    as a ring, and, given ``images``, some test images drawn in place in their label's colour.

    Everything but the ring is built (and checked by plotly) once per map and cached as a dict; each click only
    adds the ring's trace to a shallow copy (``PrebuiltFigure``): building and checking the ~2,500 points again
    was most of a click's server time (bench/load_classroom.py)."""
    base = _map_without_ring(lmap.points_, labels, class_names, title, images is not None, height, lmap, images)
    data = list(base["data"])
    if marked is not None:
        data.append(
            {
                "type": "scatter",
                "x": [float(marked[0])],
                "y": [float(marked[1])],
                "mode": "markers",
                "name": "clicked",
                "showlegend": False,
                "hoverinfo": "skip",
                "marker": {"size": 20, "symbol": "circle-open", "color": "#111111", "line": {"width": 3}},
            }
        )
    return PrebuiltFigure({"data": data, "layout": base["layout"]})


@st.cache_resource(show_spinner=False, max_entries=64)
def _map_without_ring(
    points: np.ndarray,
    labels: np.ndarray,
    class_names: tuple[str, ...],
    title: str,
    draw_images: bool,
    height: int,
    _lmap: LatentMap,
    _images: np.ndarray | None,
) -> dict:
    """The map figure without the last click's ring, as plotly's (validated) dict, shared by every session and
    never modified. ``points`` (the map's coordinates, ``_lmap.points_``) names the map in the cache; the test
    images (``_images``) are the dataset's, named by ``labels`` and ``points`` too."""
    lmap, images = _lmap, (_images if draw_images else None)
    fig = go.Figure()
    grid = lmap.grid(GRID_SIZE, clearance=0.8)
    fig.add_trace(
        go.Scatter(  # drawn first and fully transparent: only there to catch clicks on the empty plane
            x=grid[:, 0],
            y=grid[:, 1],
            mode="markers",
            name="plane",
            showlegend=False,
            hoverinfo="none",
            marker={"size": 4, "opacity": 0, "color": "#000000"},
            selected={"marker": {"opacity": 0}},
            unselected={"marker": {"opacity": 0}},
        )
    )
    idx = np.arange(len(labels))
    for c in np.unique(labels):
        m = labels == c
        name = class_names[c] if c < len(class_names) else str(c)
        fig.add_trace(
            go.Scatter(
                x=lmap.points_[m, 0],
                y=lmap.points_[m, 1],
                mode="markers",
                name=name,
                customdata=np.column_stack([idx[m], labels[m]]),
                hovertemplate=f"<b>{name}</b> · test image #%{{customdata[0]}}<br>click to decode<extra></extra>",
                marker={"size": 7, "color": PALETTE[int(c) % len(PALETTE)], "opacity": 0.75, "line": {"width": 0}},
                unselected={"marker": {"opacity": 0.75}},
            )
        )
    if images is not None:  # one update_layout: add_layout_image re-validates the whole figure on every call
        lo, hi = lmap.bounds(0.0)
        size = float(np.max(hi - lo)) / 11
        fig.update_layout(
            images=[
                {
                    "source": tinted_png_uri(images[i], PALETTE[int(labels[i]) % len(PALETTE)]),
                    "x": float(lmap.points_[i, 0]),
                    "y": float(lmap.points_[i, 1]),
                    "xref": "x",
                    "yref": "y",
                    "sizex": size,
                    "sizey": size,
                    "xanchor": "center",
                    "yanchor": "middle",
                    "layer": "above",
                }
                for i in lmap.spread(9)
            ]
        )
    lo, hi = lmap.bounds()
    fig.update_layout(
        title={"text": title, "x": 0.0, "xanchor": "left"},
        height=height,
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        legend={"title": {"text": "label"}, "itemsizing": "constant"},
        hovermode="closest",
        hoverdistance=15,
        dragmode="pan",
        plot_bgcolor="#fafafa",
        xaxis={"range": [lo[0], hi[0]], "showticklabels": False, "zeroline": False, "title": None, "showgrid": False},
        yaxis={"range": [lo[1], hi[1]], "showticklabels": False, "zeroline": False, "title": None, "showgrid": False},
    )
    return fig.to_dict()


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
