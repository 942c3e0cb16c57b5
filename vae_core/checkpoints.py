"""Checkpoints: safetensors weights with the JSON config in the header; validated before anything is built.

A checkpoint is one ``NAME.safetensors`` file. Its ``__metadata__`` holds ``format``, ``model_config`` (JSON,
builds the model), and ``meta`` (JSON: dataset, kind, beta, epochs, seed, test metrics, code version, ...).
Files are written atomically and read without unpickling anything, so a user's upload can never run code.
"""

from __future__ import annotations

import json
import os
import re
import struct
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save

from .config import ConfigError, ModelConfig
from .model import VAE, build_model

FORMAT = "vae-explorer/1"
CODE_VERSION = "0.1.0"
MAX_CHECKPOINT_BYTES = 50 * 1024 * 1024
MAX_HEADER_BYTES = 1024 * 1024
_DTYPES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}
_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10))}
PICKLE_SUFFIXES = (".pt", ".pth", ".pkl", ".pickle", ".ckpt", ".bin", ".jit", ".torchscript")


class CheckpointError(ValueError):
    """The file is not a usable checkpoint; the message says what is wrong and what to do."""


@dataclass
class Checkpoint:
    """A loaded model (eval mode) with its metadata."""

    model: VAE
    meta: dict[str, Any] = field(default_factory=dict)
    name: str = ""

    @property
    def config(self) -> ModelConfig:
        return self.model.config


def validate_name(name: str) -> str:
    """A checkpoint name that cannot escape its folder: lowercase letters, digits, '-' and '_'."""
    if not isinstance(name, str) or not _NAME_RE.match(name) or name in _RESERVED:
        raise CheckpointError(
            f"{name!r} is not a valid checkpoint name: use 1-64 lowercase letters, digits, '-' or '_', "
            "starting with a letter or digit (for example 'my-vae-16')"
        )
    return name


STALE_TEMP_SECONDS = 60.0  # a temp file this old was left by a writer that died (a save takes well under a second)


def remove_stale_temps(folder: Path, max_age: float = STALE_TEMP_SECONDS) -> list[Path]:
    """Delete ``.NAME.*.tmp`` files older than ``max_age`` seconds that a killed writer left in ``folder``."""
    removed = []
    now = time.time()
    for tmp in folder.glob(".*.safetensors.*.tmp"):
        try:
            if now - tmp.stat().st_mtime > max_age:
                tmp.unlink()
                removed.append(tmp)
        except OSError:  # another writer removed or replaced it meanwhile
            continue
    return removed


def _atomic_write(path: Path, data: bytes, overwrite: bool) -> None:
    """Temp file in the same folder, flush + fsync, then rename; a crash leaves the old file intact (and at
    worst a stray temp file, which the catalog ignores and the next save in that folder removes)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(path.parent)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if overwrite:
            os.replace(tmp, path)
        else:
            # link() fails if the name exists: two users saving the same name never overwrite each other.
            try:
                os.link(tmp, path)
            except FileExistsError:
                raise CheckpointError(f"a checkpoint named {path.stem!r} already exists; choose another name") from None
            os.unlink(tmp)
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def checkpoint_bytes(model: VAE, meta: dict[str, Any] | None = None, half: bool = False) -> bytes:
    """Serialise the plain module's weights (float16 if ``half``) with its config and metadata."""
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    if half:
        state = {k: v.half() for k, v in state.items()}
    metadata = {
        "format": FORMAT,
        "model_config": json.dumps(model.config.to_dict()),
        "meta": json.dumps({"code_version": CODE_VERSION, **(meta or {})}),
    }
    return st_save(state, metadata=metadata)


def save_checkpoint(
    model: VAE, path: str | Path, meta: dict[str, Any] | None = None, *, half: bool = False, overwrite: bool = False
) -> Path:
    """Write ``path`` (a .safetensors file) atomically. Refuses to replace an existing file unless ``overwrite``."""
    path = Path(path)
    if path.suffix != ".safetensors":
        raise CheckpointError(f"checkpoints are .safetensors files (got {path.name!r})")
    try:
        _atomic_write(path, checkpoint_bytes(model, meta, half), overwrite)
    except PermissionError:
        raise CheckpointError(
            f"cannot write to {path.parent}: the folder is read-only. Choose a writable folder."
        ) from None
    except OSError as e:
        if e.errno == 28:  # ENOSPC
            raise CheckpointError(f"the disk holding {path.parent} is full; free some space and save again") from None
        raise CheckpointError(f"could not save the checkpoint to {path.parent}: {e.strerror or e}") from None
    return path


def _parse_header(data: bytes) -> tuple[dict[str, Any], int]:
    if len(data) < 8:
        raise CheckpointError("the file is too short to be a safetensors checkpoint (it may be truncated)")
    (n,) = struct.unpack("<Q", data[:8])
    if n > MAX_HEADER_BYTES:
        raise CheckpointError(f"the safetensors header claims {n} bytes (limit {MAX_HEADER_BYTES}); file refused")
    if 8 + n > len(data):
        raise CheckpointError("the file ends inside its header: it is truncated; save or download it again")
    try:
        header = json.loads(data[8 : 8 + n].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise CheckpointError("the safetensors header is not valid JSON: the file is damaged") from None
    if not isinstance(header, dict):
        raise CheckpointError("the safetensors header is not a JSON object: the file is damaged")
    return header, 8 + n


def _expected_shapes(config: ModelConfig) -> dict[str, tuple[int, ...]]:
    with torch.device("meta"):
        model = build_model(config)
    return {k: tuple(v.shape) for k, v in model.state_dict().items()}


def read_checkpoint_config(data: bytes) -> tuple[ModelConfig, dict[str, Any]]:
    """Validate everything except the weights' values, without building the model: size, header, config,
    tensor names, shapes, dtypes and byte ranges. Returns (config, meta)."""
    if len(data) > MAX_CHECKPOINT_BYTES:
        raise CheckpointError(
            f"the file is {len(data) / 2**20:.1f} MB; checkpoints are limited to {MAX_CHECKPOINT_BYTES / 2**20:.0f} MB"
        )
    if data[:2] == b"\x80\x02" or data[:2] == b"PK" or data[:1] == b"\x80":
        raise CheckpointError(
            "this looks like a pickled PyTorch file (.pt/.pth/.pkl). Loading those can run arbitrary code, so "
            "they are refused; export the weights with safetensors and this project's config instead"
        )
    header, data_start = _parse_header(data)
    metadata = header.pop("__metadata__", None) or {}
    if metadata.get("format") != FORMAT:
        raise CheckpointError(
            "this safetensors file is not a VAE-explorer checkpoint (its metadata has no "
            f"'format': '{FORMAT}'); train or save it with this project"
        )
    try:
        config = ModelConfig.from_dict(json.loads(metadata.get("model_config", "")))
        meta = json.loads(metadata.get("meta", "{}"))
    except json.JSONDecodeError:
        raise CheckpointError("the checkpoint's config is not valid JSON") from None
    except (ConfigError, TypeError) as e:
        raise CheckpointError(f"the checkpoint's config is invalid: {e}") from None
    if not isinstance(meta, dict):
        raise CheckpointError("the checkpoint's metadata must be a JSON object")
    expected = _expected_shapes(config)
    names = set(header)
    if names != set(expected):
        missing, extra = sorted(set(expected) - names), sorted(names - set(expected))
        raise CheckpointError(
            "the weights do not match the config: "
            + (f"missing {', '.join(missing[:4])}" if missing else "")
            + ("; " if missing and extra else "")
            + (f"unexpected {', '.join(extra[:4])}" if extra else "")
        )
    body = len(data) - data_start
    for key, info in header.items():
        if not isinstance(info, dict) or info.get("dtype") not in _DTYPES:
            raise CheckpointError(
                f"weight {key!r} has dtype {info.get('dtype') if isinstance(info, dict) else '?'}; "
                "only F32, F16 and BF16 are accepted"
            )
        shape = tuple(info.get("shape", ()))
        if shape != expected[key]:
            raise CheckpointError(f"weight {key!r} has shape {list(shape)} but the config needs {list(expected[key])}")
        begin, end = info.get("data_offsets", (0, -1))
        itemsize = 2 if info["dtype"] != "F32" else 4
        if not (0 <= begin <= end <= body) or end - begin != itemsize * int(np.prod(shape)):
            raise CheckpointError(f"weight {key!r} points outside the file or has the wrong size: the file is damaged")
    return config, meta


def load_checkpoint_bytes(data: bytes, name: str = "") -> Checkpoint:
    """Validate, build the model from its config, load weights strictly, check they are finite; eval mode."""
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


def save_arrays(path: str | Path, arrays: dict[str, np.ndarray], meta: dict[str, Any] | None = None) -> Path:
    """Precomputed arrays beside a checkpoint (``NAME.latents.safetensors``), written atomically."""
    path = Path(path)
    tensors = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in arrays.items()}
    data = st_save(tensors, metadata={"meta": json.dumps(meta or {})})
    _atomic_write(path, data, overwrite=True)
    return path


def load_arrays(path: str | Path) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Read what ``save_arrays`` wrote (no pickle)."""
    data = Path(path).read_bytes()
    header, _ = _parse_header(data)
    meta = json.loads((header.get("__metadata__") or {}).get("meta", "{}"))
    return {k: v.numpy() for k, v in st_load(data).items()}, meta
