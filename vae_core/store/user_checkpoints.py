"""A user's own checkpoint file: refuse pickles unopened, validate everything, keep only metadata we understand, and
save it (with its latent maps) under a safe name that never replaces anything."""

from __future__ import annotations

import re
from pathlib import Path, PurePath
from typing import Any

from ..data import DATASETS, Dataset
from ..latent.codes import save_with_latents
from .catalog import require_free_name
from .checkpoints import PICKLE_SUFFIXES, Checkpoint, CheckpointError, load_checkpoint_bytes, validate_name
from .meta import CheckpointMeta

# Archives that hold pickles too (TorchScript, torch.save's zip format under another name).
REFUSED_SUFFIXES = (*PICKLE_SUFFIXES, ".zip", ".tar", ".npy", ".npz", ".joblib")
_METRICS = ("test_recon", "test_kl", "test_elbo", "test_iwae_nll")


def read_user_checkpoint(filename: str, data: bytes) -> Checkpoint:
    """Validate an uploaded file (size, header, config bounds, tensor names/shapes/dtypes, finite values) and build
    its model in eval mode. Pickle-based files are refused by name and by content and never opened."""
    suffix = PurePath(filename).suffix.lower()
    if suffix in REFUSED_SUFFIXES:
        raise CheckpointError(
            f"{suffix} files are pickles (or hold them), and loading a pickle can run any code its author wrote, "
            "so this app never opens them. Upload a .safetensors checkpoint saved by this project "
            "(python -m vae_core.cli.train, or the Train page) instead."
        )
    if suffix != ".safetensors":
        raise CheckpointError(
            f"expected a .safetensors checkpoint saved by this project (got a {suffix or 'nameless'} file)"
        )
    return load_checkpoint_bytes(data, name=PurePath(filename).stem)


def suggest_name(filename: str, taken: set[str] = frozenset()) -> str:
    """A valid checkpoint name from a file name: 'My VAE (2).safetensors' -> 'my-vae-2', made unique."""
    stem = PurePath(str(filename)).name.split(".")[0].lower()
    base = re.sub(r"[^a-z0-9_-]+", "-", stem).strip("-_")[:56] or "uploaded-model"
    name, i = base, 2
    while name in taken or not _valid(name):
        name, i = f"{base}-{i}", i + 1
    return name


def _valid(name: str) -> bool:
    try:
        validate_name(name)
    except CheckpointError:
        return False
    return True


def clean_meta(checkpoint: Checkpoint, dataset: str) -> dict[str, Any]:
    """The metadata we save for an uploaded model: computed from its config, plus only those fields of its own
    metadata that we understand and can check (epochs, test metrics). Free text from the file is dropped: it would
    be shown in every sidebar."""
    if dataset not in DATASETS:
        raise CheckpointError(f"unknown dataset {dataset!r}; choose one of: {', '.join(DATASETS)}")
    return CheckpointMeta.from_dict(checkpoint.meta).as_uploaded(checkpoint.config, dataset).to_dict()


def import_checkpoint(checkpoint: Checkpoint, name: str, dataset: Dataset, out_dir: str | Path) -> Path:
    """Save a validated upload as ``out_dir/NAME.safetensors`` (never overwriting) with its test-split codes and PCA
    map beside it, so every page can use it at once. Raises CheckpointError (bad name, name taken, disk full...)."""
    path = Path(out_dir) / f"{require_free_name(name, Path(out_dir))}.safetensors"
    meta = clean_meta(checkpoint, dataset.name)
    return save_with_latents(checkpoint.model, path, meta, dataset.test_x, dataset.test_y)
