"""A 2-D VAE's q(z|x) for one image, up close: a window of 3 sigma around mu on the latent plane, with the 1- and
2-sigma ellipses, the codes drawn from it and the test codes nearby. On the whole map (the latent map component,
``ui.marked_maps``) the cloud is too small to see; here it fills the figure."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from vae_core.latent.posterior import ImagePosterior, sigma_ellipse
from vae_core.store.catalog import CheckpointInfo

from .figures import PALETTE
from .loaders import latents
from .map_component import AXES
from .marked_maps import pca_map

STAR = {"symbol": "star", "color": "#FFD700", "line": {"color": "#000", "width": 1.5}}
SAMPLE = {"color": "white", "line": {"color": "#222", "width": 1.5}}


def _scatter(xy: np.ndarray, mode: str, name: str, **style: dict) -> dict:
    return {"type": "scatter", "x": xy[:, 0].tolist(), "y": xy[:, 1].tolist(), "mode": mode, "name": name, **style}


def zoom_figure(
    info: CheckpointInfo, post: ImagePosterior, samples: np.ndarray | None, class_names: tuple[str, ...]
) -> go.Figure:
    """A 2-D VAE's q(z|x) up close, on equal axes, in the coordinates of its latent map (the latent plane itself)."""
    lmap = pca_map(info)
    xy, labels = lmap.points_, np.asarray(latents(info).labels)
    centre = lmap.transform(post.mu[None])[0]
    r = 3.2 * float(np.max(post.sigma))
    fig = go.Figure()
    near = np.all(np.abs(xy - centre) < r, axis=1)
    for c in np.unique(labels[near]):
        pts = xy[near & (labels == c)]
        fig.add_trace(
            go.Scattergl(
                x=pts[:, 0], y=pts[:, 1], mode="markers", name=class_names[c] if c < len(class_names) else str(c),
                hoverinfo="name", showlegend=False,
                marker={"size": 5, "color": PALETTE[int(c) % len(PALETTE)], "opacity": 0.45},
            )
        )  # fmt: skip
    for k in (1, 2):
        ring = lmap.transform(sigma_ellipse(post.mu, post.logvar, k))
        line = {"color": "#222", "width": 2 if k == 1 else 1.2, "dash": "solid" if k == 1 else "dot"}
        fig.add_trace(_scatter(ring, "lines", f"{k} sigma of q(z|x)", line=line))
    if samples is not None:
        fig.add_trace(_scatter(lmap.transform(samples), "markers", "z ~ q(z|x)", marker={"size": 8, **SAMPLE}))
    fig.add_trace(_scatter(centre[None], "markers", "your image", marker={"size": 16, **STAR}))
    fig.update_xaxes(range=[centre[0] - r, centre[0] + r])
    fig.update_yaxes(range=[centre[1] - r, centre[1] + r], scaleanchor="x", scaleratio=1)
    fig.update_layout(
        title={"text": "Up close: the VAE's cloud q(z|x)", "font": {"size": 14}},
        height=400,
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        legend={"orientation": "h", "yanchor": "top", "y": -0.18, "font": {"size": 11}, "itemsizing": "constant"},
        xaxis_title=AXES["plane"][0],
        yaxis_title=AXES["plane"][1],
    )
    return fig
