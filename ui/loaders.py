"""Heavy objects load once per server process (st.cache_resource) and are shared read-only by every session.

Importing this module loads no torch (the home page paints before torch has loaded): the modules that need it are
imported where a model or its codes are first loaded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import streamlit as st

from vae_core.data import Dataset, load_dataset
from vae_core.store.catalog import CheckpointInfo, scan_checkpoints
from vae_core.store.disk import content_hash

from .server_tuning import configure_torch

if TYPE_CHECKING:
    from vae_core.latent.codes import Latents
    from vae_core.store.checkpoints import Checkpoint


def model_key(info: CheckpointInfo) -> str:
    """The one cache key of a checkpoint: its content hash (a re-saved model is a new key; a copy is the same).
    Every cache whose model argument is not hashed (``_model``) takes it."""
    return content_hash(info.path)


@st.cache_data(ttl=5, show_spinner=False)
def checkpoint_catalog() -> list[CheckpointInfo]:
    """Shipped and user checkpoints (re-scanned at most every 5 s so new trainings appear everywhere)."""
    return scan_checkpoints()


@st.cache_resource(show_spinner="Loading model...", max_entries=64)
def _load_model(path: str, version: str) -> Checkpoint:
    from vae_core.store.checkpoints import load_checkpoint

    configure_torch()
    return load_checkpoint(path)


def load_model(info: CheckpointInfo) -> Checkpoint:
    """The model in eval mode, gradients off; never call .train() or an optimizer on it (it is shared)."""
    return _load_model(str(info.path), content_hash(info.path))


@st.cache_resource(show_spinner="Loading data...")
def _load_dataset(name: str) -> Dataset:
    ds = load_dataset(name)
    for arr in (ds.train_x, ds.train_y, ds.test_x, ds.test_y):
        arr.flags.writeable = False
    return ds


def dataset(name: str) -> Dataset:
    """The dataset, loaded once per process; its arrays are read-only."""
    return _load_dataset(name)


@st.cache_resource(show_spinner="Encoding the test images...", max_entries=64)
def _latents(path: str, version: str, dataset_name: str) -> Latents:
    from vae_core.latent.codes import load_or_compute_latents

    def test_split() -> tuple[np.ndarray, np.ndarray]:
        ds = dataset(dataset_name)
        return ds.test_x, ds.test_y

    return load_or_compute_latents(path, _load_model(path, version).model, test_split)


def latents(info: CheckpointInfo) -> Latents:
    """Test-split codes and maps for a checkpoint, shared read-only."""
    return _latents(str(info.path), content_hash(info.path), info.dataset)
