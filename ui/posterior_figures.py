"""Where one image lands: the test codes on a PCA map with the image as a star, its codes z ~ q(z|x), and for a 2-D
VAE a close-up of q(z|x) with its 1- and 2-sigma ellipses (too small to see on the whole map)."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from vae_core.latent.posterior import ImagePosterior, sigma_ellipse
from vae_core.latent.projection import LatentPCA
from vae_core.store.catalog import CheckpointInfo

from .figures import PALETTE, PrebuiltFigure
from .loaders import latents, model_key

STAR = {"symbol": "star", "color": "#FFD700", "line": {"color": "#000", "width": 1.5}}
SAMPLE = {"color": "white", "line": {"color": "#222", "width": 1.5}}


@st.cache_resource(max_entries=64, show_spinner=False)
def _test_map(path: str, version: str, _info: CheckpointInfo) -> tuple[LatentPCA, np.ndarray, np.ndarray]:
    codes = latents(_info)
    pca = LatentPCA().fit(codes.mu)
    return pca, pca.transform(codes.mu), np.asarray(codes.labels)


def test_map(info: CheckpointInfo) -> tuple[LatentPCA, np.ndarray, np.ndarray]:
    """PCA fitted to the test codes, their 2-D coordinates and labels (once per checkpoint file)."""
    return _test_map(str(info.path), model_key(info), info)


def _classes(fig: go.Figure, xy: np.ndarray, labels: np.ndarray, names: tuple[str, ...], legend: bool) -> None:
    for c in np.unique(labels):
        pts = xy[labels == c]
        fig.add_trace(
            go.Scattergl(
                x=pts[:, 0], y=pts[:, 1], mode="markers", name=names[c] if c < len(names) else str(c),
                hoverinfo="name", showlegend=legend,
                marker={"size": 5, "color": PALETTE[int(c) % len(PALETTE)], "opacity": 0.45},
            )
        )  # fmt: skip


def _posterior_traces(pca: LatentPCA, post: ImagePosterior, samples: np.ndarray | None, star: int) -> list[dict]:
    """Ellipses (2-D VAE), samples and the star, in the map's PCA coordinates, as plotly trace dicts."""
    traces: list[dict] = []
    if post.logvar is not None and len(post.mu) == 2:
        for k in (1, 2):
            ring = pca.transform(sigma_ellipse(post.mu, post.logvar, k))
            line = {"color": "#222", "width": 2 if k == 1 else 1.2, "dash": "solid" if k == 1 else "dot"}
            traces.append(_scatter(ring, "lines", f"{k} sigma of q(z|x)", line=line))
    if samples is not None:
        traces.append(_scatter(pca.transform(samples), "markers", "z ~ q(z|x)", marker={"size": 8, **SAMPLE}))
    traces.append(_scatter(pca.transform(post.mu[None]), "markers", "your image", marker={"size": star, **STAR}))
    return traces


def _scatter(xy: np.ndarray, mode: str, name: str, **style: dict) -> dict:
    return {"type": "scatter", "x": xy[:, 0].tolist(), "y": xy[:, 1].tolist(), "mode": mode, "name": name, **style}


def _layout(fig: go.Figure, title: str) -> go.Figure:
    fig.update_layout(
        title={"text": title, "font": {"size": 14}},
        height=400,
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        legend={"orientation": "h", "yanchor": "top", "y": -0.18, "font": {"size": 11}, "itemsizing": "constant"},
        xaxis_title="PC 1",
        yaxis_title="PC 2",
    )
    return fig


def posterior_map(
    info: CheckpointInfo, post: ImagePosterior, title: str, samples: np.ndarray | None, class_names: tuple[str, ...]
) -> go.Figure:
    """The test codes (PCA of the model's codes, coloured by class), the image as a star and its samples."""
    pca = test_map(info)[0]
    base = _map_of_test_codes(str(info.path), model_key(info), title, class_names, info)
    return PrebuiltFigure({**base, "data": [*base["data"], *_posterior_traces(pca, post, samples, star=20)]})


@st.cache_resource(max_entries=64, show_spinner=False)
def _map_of_test_codes(
    path: str, version: str, title: str, class_names: tuple[str, ...], _info: CheckpointInfo
) -> dict:
    """``posterior_map`` without the image: built and checked once per checkpoint, kept as plotly's dict (shared by
    every session and never modified; each upload adds its traces to a copy of the list, ``PrebuiltFigure``).
    Building it on every upload's rerun was most of the Upload page's server time."""
    _pca, xy, labels = test_map(_info)
    fig = go.Figure()
    _classes(fig, xy, labels, class_names, legend=True)
    return _layout(fig, title).to_dict()


def zoom_figure(
    info: CheckpointInfo, post: ImagePosterior, samples: np.ndarray | None, class_names: tuple[str, ...]
) -> go.Figure:
    """A 2-D VAE's q(z|x) up close: a window of 3 sigma around mu, on equal axes, with the test codes in it."""
    pca, xy, labels = test_map(info)
    centre = pca.transform(post.mu[None])[0]
    r = 3.2 * float(np.max(post.sigma))  # in 2-D the PCA is a rotation: lengths are kept
    fig = go.Figure()
    near = np.all(np.abs(xy - centre) < r, axis=1)
    _classes(fig, xy[near], labels[near], class_names, legend=False)
    fig.add_traces(_posterior_traces(pca, post, samples, star=16))
    fig.update_xaxes(range=[centre[0] - r, centre[0] + r])
    fig.update_yaxes(range=[centre[1] - r, centre[1] + r], scaleanchor="x", scaleratio=1)
    return _layout(fig, "VAE up close: the cloud q(z|x) your image is encoded to")
