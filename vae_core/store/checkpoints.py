"""Checkpoints: safetensors weights with the JSON config in the header; validated before anything is built.

A checkpoint is one ``NAME.safetensors`` file. Its ``__metadata__`` holds ``format``, ``model_config`` (JSON,
builds the model), and ``meta`` (JSON: dataset, kind, beta, epochs, seed, test metrics, code version, ...).
Files are written atomically and read without unpickling anything, so a user's upload can never run code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load as st_load

from ..config import ConfigError, ModelConfig
from ..model import VAE, build_model
from .disk import atomic_write, load_arrays, save_arrays
from .files import (
    FORMAT,
    MAX_CHECKPOINT_BYTES,
    CheckpointError,
    encode_safetensors,
    json_field,
    parse_safetensors,
    to_json,
    validate_name,
)

__all__ = [
    "FORMAT",
    "MAX_CHECKPOINT_BYTES",
    "PICKLE_SUFFIXES",
    "Checkpoint",
    "CheckpointError",
    "check_forward",
    "checkpoint_bytes",
    "load_arrays",
    "load_checkpoint",
    "load_checkpoint_bytes",
    "read_checkpoint_config",
    "save_arrays",
    "save_checkpoint",
    "validate_name",
]

CODE_VERSION = "0.1.0"
_DTYPES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}
PICKLE_SUFFIXES = (".pt", ".pth", ".pkl", ".pickle", ".ckpt", ".bin", ".jit", ".torchscript")
# A model's codes and outputs on ordinary inputs stay far inside this; a file whose model leaves it (weights scaled
# by 1e30, say) would break every page that picks it, so it is refused when loaded.
MAX_ABS_CODE = 1e4


@dataclass
class Checkpoint:
    """A loaded model (eval mode) with its metadata."""

    model: VAE
    meta: dict[str, Any] = field(default_factory=dict)
    name: str = ""

    @property
    def config(self) -> ModelConfig:
        return self.model.config


def checkpoint_bytes(model: VAE, meta: dict[str, Any] | None = None, half: bool = False) -> bytes:
    """Serialise the plain module's weights (float16 if ``half``) with its config and metadata."""
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    if half:
        state = {k: v.half() for k, v in state.items()}
    metadata = {
        "format": FORMAT,
        "model_config": to_json(model.config.to_dict()),
        "meta": to_json({"code_version": CODE_VERSION, **(meta or {})}),
    }
    return encode_safetensors(state, metadata)


def save_checkpoint(
    model: VAE, path: str | Path, meta: dict[str, Any] | None = None, *, half: bool = False, overwrite: bool = False
) -> Path:
    """Write ``path`` (a .safetensors file) atomically. Refuses to replace an existing file unless ``overwrite``."""
    path = Path(path)
    if path.suffix != ".safetensors":
        raise CheckpointError(f"checkpoints are .safetensors files (got {path.name!r})")
    try:
        atomic_write(path, checkpoint_bytes(model, meta, half), overwrite)
    except PermissionError:
        raise CheckpointError(
            f"cannot write to {path.parent}: the folder is read-only. Choose a writable folder."
        ) from None
    except OSError as e:
        if e.errno == 28:  # ENOSPC
            raise CheckpointError(f"the disk holding {path.parent} is full; free some space and save again") from None
        raise CheckpointError(f"could not save the checkpoint to {path.parent}: {e.strerror or e}") from None
    return path


def _expected_shapes(config: ModelConfig) -> dict[str, tuple[int, ...]]:
    with torch.device("meta"):
        model = build_model(config)
    return {k: tuple(v.shape) for k, v in model.state_dict().items()}


def read_checkpoint_config(data: bytes) -> tuple[ModelConfig, dict[str, Any]]:
    """Validate everything except the weights' values, without building the model: size, header, config,
    tensor names, shapes, dtypes and byte ranges. Returns (config, meta)."""
    header = parse_safetensors(data, check_layout=False)
    if header.metadata.get("format") != FORMAT:
        raise CheckpointError(
            "this safetensors file is not a VAE-explorer checkpoint (its metadata has no "
            f"'format': '{FORMAT}'); train or save it with this project"
        )
    try:
        config = ModelConfig.from_dict(json_field(header.metadata, "model_config", "", "checkpoint's config"))
    except (ConfigError, TypeError) as e:
        raise CheckpointError(f"the checkpoint's config is invalid: {e}") from None
    meta = json_field(header.metadata, "meta", "{}", "checkpoint's metadata")
    if not isinstance(meta, dict):
        raise CheckpointError("the checkpoint's metadata must be a JSON object")
    expected = _expected_shapes(config)
    names = set(header.tensors)
    if names != set(expected):
        missing, extra = sorted(set(expected) - names), sorted(names - set(expected))
        raise CheckpointError(
            "the weights do not match the config: "
            + (f"missing {', '.join(missing[:4])}" if missing else "")
            + ("; " if missing and extra else "")
            + (f"unexpected {', '.join(n[:60] for n in extra[:4])}" if extra else "")
        )
    for key, entry in header.tensors.items():
        if entry.dtype not in _DTYPES:
            raise CheckpointError(f"weight {key!r} has dtype {entry.dtype}; only F32, F16 and BF16 are accepted")
        if entry.shape != expected[key]:
            raise CheckpointError(
                f"weight {key!r} has shape {list(entry.shape)} but the config needs {list(expected[key])}"
            )
    header.check_layout()
    return config, meta


@torch.no_grad()
def check_forward(model: VAE) -> None:
    """Encode and decode fixed probe images (white, noise) and a prior sample; every code must be finite and within
    +-MAX_ABS_CODE and every output finite, or the model would break the pages that use it."""
    probe = torch.rand((2, 1, 28, 28), generator=torch.Generator().manual_seed(0))
    probe[0] = 1.0
    mu, logvar = model.encode(probe)
    z = torch.cat([mu, model.sample_prior(1, generator=torch.Generator().manual_seed(0))])
    out = model.decode(z)
    std = model.decoder_std()
    if not (torch.isfinite(mu).all() and mu.abs().max() <= MAX_ABS_CODE):
        raise CheckpointError(
            "this model's codes for ordinary images are not finite or are absurdly large (its weights are broken "
            "or scaled far beyond anything training produces); it is refused"
        )
    if (logvar is not None and not torch.isfinite(logvar).all()) or not torch.isfinite(out).all():
        raise CheckpointError("this model produces NaN or infinite values on ordinary inputs; it is refused")
    if std is not None and not torch.isfinite(std).all():
        raise CheckpointError("this model's decoder variance is not finite; it is refused")


def load_checkpoint_bytes(data: bytes, name: str = "") -> Checkpoint:
    """Validate, build the model from its config, load weights strictly, check they are finite and that a forward
    pass on probe images is too; eval mode, gradients off."""
    config, meta = read_checkpoint_config(data)
    try:
        state = st_load(data)
    except Exception:  # safetensors raises its own error types for malformed bodies
        raise CheckpointError("the weights could not be read: the file is damaged or truncated") from None
    for key, t in state.items():
        if not torch.isfinite(t).all():
            raise CheckpointError(f"weight {key!r} contains NaN or infinite values; this checkpoint is broken")
    model = build_model(config)
    model.load_state_dict({k: v.float() for k, v in state.items()}, strict=True)
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    check_forward(model)
    return Checkpoint(model=model, meta=meta, name=name)


def load_checkpoint(path: str | Path) -> Checkpoint:
    """Load ``NAME.safetensors``. Pickle-based files are refused, never opened."""
    path = Path(path)
    if path.suffix.lower() in PICKLE_SUFFIXES:
        raise CheckpointError(
            f"{path.name}: {path.suffix} files are pickles, and loading a pickle can run arbitrary code, so this "
            "app never opens them. Use a .safetensors checkpoint saved by this project."
        )
    if not path.is_file():
        raise CheckpointError(f"no checkpoint at {path}")
    size = path.stat().st_size
    if size > MAX_CHECKPOINT_BYTES:
        limit = MAX_CHECKPOINT_BYTES / 2**20
        raise CheckpointError(f"{path.name} is {size / 2**20:.1f} MB; the limit is {limit:.0f} MB")
    return load_checkpoint_bytes(path.read_bytes(), name=path.stem)
