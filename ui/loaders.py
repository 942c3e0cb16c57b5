"""Heavy objects load once per server process (st.cache_resource) and are shared read-only by every session."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import streamlit as st
import torch

from vae_core.catalog import CheckpointInfo, scan_checkpoints
from vae_core.checkpoints import Checkpoint, load_checkpoint
from vae_core.data import Dataset, load_dataset
from vae_core.latents import load_or_compute_latents

from .server_tuning import disable_nagle


def file_version(path: Path) -> float:
    """The file's modification time (0 if it is gone): part of every cache key, so a re-saved model is new."""
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def model_key(info: CheckpointInfo) -> str:
    """Names one version of a checkpoint file in caches whose model argument is not hashed (``_model``)."""
    return f"{info.path}@{file_version(info.path)}"


@st.cache_data(ttl=5, show_spinner=False)
def checkpoint_catalog() -> list[CheckpointInfo]:
    """Shipped and user checkpoints (re-scanned at most every 5 s so new trainings appear everywhere)."""
    return scan_checkpoints()


THREADS_ENV = "VAE_EXPLORER_TORCH_THREADS"


@st.cache_resource(show_spinner=False)
def configure_torch() -> int:
    """Set torch's intra-op threads once per process: $VAE_EXPLORER_TORCH_THREADS, default 1.

    A server shares its cores between sessions; on a busy machine two intra-op threads that wait for each other
    made one upload take 1.5 s instead of 75 ms, and a training step ten times slower. The setting is
    process-wide, so it is made here (before the first model loads) and never per request or per job."""
    value = os.environ.get(THREADS_ENV, "1")
    threads = int(value) if value.isdigit() and int(value) > 0 else 1
    torch.set_num_threads(threads)
    return threads


@st.cache_resource(show_spinner=False)
def tune_server() -> int:
    """Once per server process: TCP_NODELAY on the server's sockets (``ui.server_tuning``: a Streamlit 1.67 bug
    otherwise adds ~40 ms to small responses). Every page calls it through ``model_sidebar``."""
    return disable_nagle()


@st.cache_resource(show_spinner="Loading model...", max_entries=64)
def _load_model(path: str, mtime: float) -> Checkpoint:
    configure_torch()
    return load_checkpoint(path)


def load_model(info: CheckpointInfo) -> Checkpoint:
    """The model in eval mode, gradients off; never call .train() or an optimizer on it (it is shared)."""
    return _load_model(str(info.path), file_version(info.path))


@st.cache_resource(show_spinner="Loading data...")
def _load_dataset(name: str) -> Dataset:
    ds = load_dataset(name)
    for arr in (ds.train_x, ds.train_y, ds.test_x, ds.test_y):
        arr.flags.writeable = False
    return ds


def dataset(name: str) -> Dataset:
    """The dataset, loaded once per process; its arrays are read-only."""
    return _load_dataset(name)


@dataclass(frozen=True)
class Latents:
    """Codes of the test split and their 2-D maps (precomputed beside shipped checkpoints)."""

    mu: np.ndarray
    logvar: np.ndarray | None
    labels: np.ndarray
    pca: np.ndarray
    tsne: np.ndarray | None


@st.cache_resource(show_spinner="Encoding the test images...", max_entries=64)
def _latents(path: str, mtime: float, dataset_name: str) -> Latents:
    def test_split() -> tuple[np.ndarray, np.ndarray]:
        ds = dataset(dataset_name)
        return ds.test_x, ds.test_y

    arrays = load_or_compute_latents(path, _load_model(path, mtime).model, test_split)
    for a in arrays.values():
        a.flags.writeable = False
    return Latents(arrays["mu"], arrays.get("logvar"), arrays["labels"], arrays["pca"], arrays.get("tsne"))


def latents(info: CheckpointInfo) -> Latents:
    """Test-split codes and maps for a checkpoint, shared read-only."""
    return _latents(str(info.path), file_version(info.path), info.dataset)
