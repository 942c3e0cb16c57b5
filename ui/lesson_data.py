"""What the lesson shows, from the real shipped models: the beta series, typical digits, decoded codes, one
digit's cloud, and the measured scores, each computed once per checkpoint version (its content hash) and shared
read-only by every session. The numbers a step states come only from the metrics files (``read_scores``)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import streamlit as st

from vae_core.evaluation.contrast import ContrastRow, contrast_row
from vae_core.evaluation.measures import SPECS
from vae_core.evaluation.results import read_scores
from vae_core.evaluation.scoreboard import Scores
from vae_core.latent.codes import decode_codes, encode_images
from vae_core.latent.examples import reconstruction_errors, typical_per_class
from vae_core.store.catalog import CheckpointInfo

from .loaders import checkpoint_catalog, dataset, latents, load_model, model_key

# The zoo's beta series at latent dim 2, from reconstruction only to KL only (beta = 1 is the 2-D VAE itself).
BETA_SERIES = (
    ("mnist5k-beta0-2", "Reconstruction only (β = 0)"),
    ("mnist5k-beta0p1-2", "β = 0.1"),
    ("mnist5k-vae-2", "Both: the VAE (β = 1)"),
    ("mnist5k-beta4-2", "β = 4"),
    ("mnist5k-klonly-2", "KL only"),
)
PRIOR_SEED = 0  # the same codes z ~ N(0, I) for every model, on every step that samples the prior


def find(name: str) -> CheckpointInfo | None:
    return next((i for i in checkpoint_catalog() if i.name == name), None)


def beta_series() -> list[tuple[str, CheckpointInfo]]:
    """(label, checkpoint) for each model of the series this server has."""
    return [(label, info) for name, label in BETA_SERIES if (info := find(name)) is not None]


@st.cache_data(show_spinner=False, max_entries=32)
def _typical(version: str, _info: CheckpointInfo) -> dict[int, int]:
    ds = dataset(_info.dataset)
    return typical_per_class(reconstruction_errors(load_model(_info).model, ds.test_x), ds.test_y)


def typical(info: CheckpointInfo) -> dict[int, int]:
    """{class: test index}: for each digit, the test image with the median reconstruction error under this model."""
    return _typical(model_key(info), info)


@st.cache_data(show_spinner=False, max_entries=256)
def _decode(version: str, z: np.ndarray, _info: CheckpointInfo) -> np.ndarray:
    return decode_codes(load_model(_info).model, z)


def decode(info: CheckpointInfo, z: np.ndarray) -> np.ndarray:
    """Decoder means (N, 28, 28) of codes ``z`` (N, D)."""
    return _decode(model_key(info), np.asarray(z, np.float32), info)


def prior_codes(n: int, dim: int, seed: int = PRIOR_SEED) -> np.ndarray:
    """n codes z ~ N(0, I) from numpy's generator: the same codes for every model of one latent size."""
    return np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)


@st.cache_data(show_spinner=False, max_entries=64)
def _encode(version: str, images: np.ndarray, _info: CheckpointInfo) -> tuple[np.ndarray, np.ndarray | None]:
    return encode_images(load_model(_info).model, images)


def encode(info: CheckpointInfo, images: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """mu (N, D) and logvar (N, D) of q(z|x) (logvar None for the autoencoder)."""
    return _encode(model_key(info), np.asarray(images, np.float32), info)


def codes(info: CheckpointInfo) -> tuple[np.ndarray, np.ndarray]:
    """The test images' codes (N, D) and labels (N,), as precomputed beside the checkpoint."""
    lat = latents(info)
    return lat.mu, lat.labels


@dataclass(frozen=True, eq=False)
class Cloud:
    """One digit's q(z|x): its mean and log-variance, n codes z = mu + sigma * eps, and their decodings."""

    mu: np.ndarray
    logvar: np.ndarray
    z: np.ndarray
    images: np.ndarray


@st.cache_data(show_spinner=False, max_entries=256)
def _cloud(version: str, index: int, n: int, seed: int, _info: CheckpointInfo) -> Cloud:
    import torch

    model = load_model(_info).model
    mu, logvar = encode(_info, dataset(_info.dataset).test_x[index : index + 1])
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        z = model.reparameterize(torch.as_tensor(mu), torch.as_tensor(logvar), n_samples=n, generator=gen).numpy()
    return Cloud(mu[0], logvar[0], z, decode(_info, z))


def cloud(info: CheckpointInfo, index: int, n: int = 8, seed: int = 0) -> Cloud:
    """Draw n codes from test image ``index``'s cloud with the model's own ``reparameterize``, and decode them."""
    return _cloud(model_key(info), index, n, seed, info)


@st.cache_resource(show_spinner=False, max_entries=32)
def _scores(path: str, version: str) -> Scores | None:
    return read_scores(path)


def scores(info: CheckpointInfo | None) -> Scores | None:
    """The checkpoint's saved scoreboard, or None when it is missing or stale (then no step states a number)."""
    return None if info is None else _scores(str(info.path), model_key(info))


def measured(key: str, vae: CheckpointInfo, ae: CheckpointInfo | None) -> ContrastRow | None:
    """One measure for the VAE and the autoencoder from their metrics files, with intervals and the verdict (a
    difference inside the noise is a tie); None when either file is missing or stale."""
    a, b = scores(vae), scores(ae)
    if a is None or b is None:
        return None
    return contrast_row(SPECS[key], a, b)


def value_text(key: str, triple: tuple[float | None, float | None, float | None]) -> str:
    """'31.4 % [29.3, 33.5] %' (the value with its 95 % interval), or 'n/a'."""
    spec = SPECS[key]
    value, lo, hi = triple
    interval = spec.format_interval(lo, hi)
    return spec.format(value) + (f" {interval}" if interval else "")


NOT_MEASURED = (
    "The measured numbers are missing or out of date for these models: run `python -m vae_core.cli.metrics --all` "
    "on the server, and this step quotes them."
)
