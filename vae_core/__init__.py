"""vae_core: a VAE and its plain-autoencoder twin on 28x28 images, with what it takes to train, store, map and measure
them. The library behind the VAE explorer app; it never imports Streamlit.

Everything a notebook needs is one import away::

    from vae_core import load_checkpoint, load_dataset, elbo, as_tensor

    vae = load_checkpoint("checkpoints/mnist5k-vae-16.safetensors").model
    terms = elbo(vae, as_tensor(load_dataset("mnist5k").test_x[:8]), n_samples=10)

The folders, one idea each: ``store/`` (the checkpoint file format, the catalog of checkpoints on disk),
``latent/`` (codes, 2-D maps and their inverses, interpolation, posteriors), ``evaluation/`` (classifier, validity,
smoothness, the scoreboard and its results file), ``jobs/`` (background training for the app) and ``cli/`` (``python
-m vae_core.cli.train``, ``.zoo``, ``.metrics``, ``.remove``). Names are imported lazily, on first use, so importing
the package costs nothing until a model is needed.
"""

from __future__ import annotations

import importlib
from typing import Any

_PUBLIC = {  # name -> the module that defines it
    "ModelConfig": "config",
    "TrainConfig": "config",
    "ConfigError": "config",
    "VAE": "model",
    "VAEOutput": "model",
    "build_model": "model",
    "as_tensor": "model",
    "elbo": "objectives",
    "kl_divergence": "objectives",
    "iwae_bound": "objectives",
    "train": "training",
    "Callback": "training",
    "load_dataset": "data",
    "DATASETS": "data",
    "preprocess_upload": "preprocess",
    "ImageRejected": "image_reader",
    "load_checkpoint": "store.checkpoints",
    "save_checkpoint": "store.checkpoints",
    "Checkpoint": "store.checkpoints",
    "CheckpointError": "store.files",
    "CheckpointMeta": "store.meta",
    "scan_checkpoints": "store.catalog",
    "Latents": "latent.codes",
    "encode_images": "latent.codes",
    "decode_codes": "latent.codes",
    "load_or_compute_latents": "latent.codes",
    "LatentPCA": "latent.projection",
}
__all__ = sorted(_PUBLIC)


def __getattr__(name: str) -> Any:  # PEP 562: import the defining module on first use
    if name not in _PUBLIC:
        raise AttributeError(f"module 'vae_core' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_PUBLIC[name]}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
