"""Figures and downloads shared by the pages: crisp upscaled images, PNG/CSV downloads, latent scatter plots."""

from __future__ import annotations

import base64
import io
from typing import Any

import numpy as np
import plotly.graph_objects as go
import streamlit as st
from PIL import Image

from vae_core.numpy_decoder import load_numpy_decoder
from vae_core.store.catalog import CheckpointInfo
from vae_core.store.files import CheckpointError

from .loaders import load_model, model_key

# Colour-blind-safe qualitative palette (Okabe-Ito + extras) for up to 10 labels.
PALETTE = [
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#D55E00",
    "#CC79A7",
    "#56B4E9",
    "#F0E442",
    "#000000",
    "#999999",
    "#8C564B",
]


class PrebuiltFigure(go.Figure):
    """A plotly figure handed to ``st.plotly_chart`` as a finished dict ({"data": [...], "layout": {...}}).

    ``st.plotly_chart`` turns a Figure into a dict with ``to_dict()`` (a deep copy) and re-validates a plain dict
    property by property. For a dict that was validated once and cached (the latent map: ~2,500 points and 100
    thumbnails) or written out for a tiny chart, both repeat work on every click; this class hands the dict over as
    it is. Only the layout's width and height are real properties here (Streamlit reads them for sizing). The
    dict is never modified, so a cached one can be shared by every session."""

    def __init__(self, spec: dict[str, Any]) -> None:
        layout = spec.get("layout", {})
        super().__init__(layout={k: layout[k] for k in ("width", "height") if layout.get(k) is not None})
        self._spec = spec

    def to_dict(self) -> dict[str, Any]:
        return self._spec


def to_uint8(img: np.ndarray) -> np.ndarray:
    return (np.clip(np.asarray(img, dtype=np.float32), 0.0, 1.0) * 255).round().astype(np.uint8)


def upscale(img: np.ndarray, scale: int = 4) -> np.ndarray:
    """Nearest-neighbour upscaling so 28x28 pixels stay crisp in the browser."""
    return np.kron(to_uint8(img), np.ones((scale, scale), dtype=np.uint8))


def to_png(img: np.ndarray, scale: int = 1) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(upscale(img, scale) if scale > 1 else to_uint8(img)).save(buf, format="PNG")
    return buf.getvalue()


@st.cache_data(show_spinner=False, max_entries=256)  # a few MB at most: most are under 5 kB
def png(img: np.ndarray, scale: int = 1) -> bytes:
    """``img`` upscaled (nearest neighbour) as PNG bytes, encoded once per distinct image and scale.

    Give ``st.image`` these bytes rather than an array: it would encode an array again on every rerun, which was the
    largest part of the Sliders page's server time (a 15x15 manifold grid is an 840x840 PNG)."""
    return to_png(img, scale)


def png_data_uri(img: np.ndarray, scale: int = 1) -> str:
    """A small inline PNG (e.g. for hover thumbnails)."""
    return "data:image/png;base64," + base64.b64encode(to_png(img, scale)).decode("ascii")


def show_image(img: np.ndarray, caption: str | None = None, width: int = 140) -> None:
    st.image(png(img, max(1, width // img.shape[1])), caption=caption, width=width)


def download_png(img: np.ndarray, filename: str, label: str = "Download PNG", key: str | None = None) -> None:
    scale = max(1, 280 // max(img.shape))
    st.download_button(label, png(img, scale), file_name=filename, mime="image/png", key=key or filename)


def download_csv(columns: dict[str, np.ndarray], filename: str, label: str = "Download CSV", key: str | None = None):
    """Columns of equal length as a CSV download (no pandas round trip needed)."""
    st.download_button(label, csv_text(columns), file_name=filename, mime="text/csv", key=key or filename)


@st.cache_data(show_spinner=False, max_entries=64)
def csv_text(columns: dict[str, np.ndarray]) -> str:
    """The columns as CSV, a column per 1-D array, ``name0, name1, ...`` for a 2-D one (cached: the map's
    coordinates are written once, not on every click)."""
    names = list(columns)
    rows = np.column_stack([np.asarray(columns[n]).reshape(len(columns[names[0]]), -1) for n in names])
    header = []
    for n in names:
        width = np.asarray(columns[n]).reshape(len(columns[names[0]]), -1).shape[1]
        header += [n] if width == 1 else [f"{n}{j}" for j in range(width)]
    buf = io.StringIO()
    np.savetxt(buf, rows, delimiter=",", header=",".join(header), comments="", fmt="%.6g")
    return buf.getvalue()


@st.cache_data(show_spinner=False, max_entries=64)
def _prior_samples(version: str, _info: CheckpointInfo, n: int, seed: int) -> np.ndarray:
    z = np.random.default_rng(seed).standard_normal((n, _info.latent_dim)).astype(np.float32)
    try:
        return load_numpy_decoder(_info.path).mean(z)  # no torch: the home page's first digits
    except CheckpointError:  # weights the numpy decoder does not read (bfloat16, another network): decode with torch
        import torch

        with torch.no_grad():
            return load_model(_info).model.decoder_mean(torch.from_numpy(z))[:, 0].numpy()


def prior_samples(info: CheckpointInfo, n: int = 8, seed: int = 0) -> np.ndarray:
    """Decoder means E[x|z] of ``n`` codes z ~ N(0, I) drawn by numpy's generator from ``seed``: the same codes for
    every model of one latent size. (n, 28, 28), computed once per checkpoint version (its content hash)."""
    return _prior_samples(model_key(info), info, n, seed)


def label_colour(label: int) -> str:
    return PALETTE[int(label) % len(PALETTE)]
