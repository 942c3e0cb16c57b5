"""A tiny stand-in for the shipped checkpoints, for page tests that must not depend on the shipped models' quality
(or on whether a precomputed t-SNE ships with them): untrained networks on mnist5k, written in a temporary folder
that $VAE_EXPLORER_CHECKPOINTS points to.

- ``mnist5k-vae-16`` and ``mnist5k-ae-16``: the default pair, with precomputed PCA and (stand-in) t-SNE maps;
- ``mnist5k-vae-3``: a VAE with no autoencoder twin and no precomputed t-SNE.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from vae_core.config import ModelConfig
from vae_core.data import load_dataset
from vae_core.latent.codes import compute_latents, save_latents
from vae_core.store.checkpoints import save_checkpoint

MODELS = {  # name: (kind, latent_dim, ships a t-SNE)
    "mnist5k-vae-16": ("vae", 16, True),
    "mnist5k-ae-16": ("ae", 16, True),
    "mnist5k-vae-3": ("vae", 3, False),
}


def stand_in_tsne(codes: np.ndarray) -> np.ndarray:
    """A cheap non-linear 2-D map, different from PCA (real t-SNE takes seconds; tests only need a map)."""
    rng = np.random.default_rng(0)
    p = codes @ rng.normal(size=(codes.shape[1], 2))
    return np.tanh(p / (p.std() + 1e-9)).astype(np.float32) * 30


def make_tiny_zoo(folder: Path) -> Path:
    """Write the models and their latents into ``folder`` (once; later calls reuse it). Returns the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    ds = load_dataset("mnist5k")
    for seed, (name, (kind, latent_dim, tsne)) in enumerate(MODELS.items()):
        path = folder / f"{name}.safetensors"
        if path.exists():
            continue
        torch.manual_seed(seed)
        from vae_core.model import build_model

        model = build_model(ModelConfig(kind=kind, latent_dim=latent_dim)).eval()
        meta = {"dataset": "mnist5k", "kind": kind, "description": f"tiny untrained {kind}", "epochs": 0}
        save_checkpoint(model, path, meta)
        arrays = compute_latents(model, ds.test_x, ds.test_y, tsne=False)
        if tsne:
            arrays["tsne"] = stand_in_tsne(arrays["mu"])
        save_latents(path, arrays, len(ds.test_x))
    return folder


@pytest.fixture(scope="module")
def zoo(tmp_path_factory) -> Path:
    """The tiny zoo, built once per test module."""
    return make_tiny_zoo(tmp_path_factory.mktemp("tiny_zoo"))


@pytest.fixture
def tiny_checkpoints(zoo, monkeypatch):
    """Point the app at the tiny zoo for one test (use with ``pytestmark = pytest.mark.usefixtures(...)``)."""
    from ui.loaders import checkpoint_catalog

    monkeypatch.setenv("VAE_EXPLORER_CHECKPOINTS", str(zoo))
    checkpoint_catalog.clear()
    yield zoo
    checkpoint_catalog.clear()


def open_page(page: str, **query: str):
    """Run a page through AppTest with the given query params; it must run without an exception."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(page, default_timeout=60)
    for k, v in query.items():
        at.query_params[k] = v
    at.run()
    assert not at.exception, at.exception
    return at
