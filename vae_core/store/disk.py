"""Files on disk: written atomically, named by their content hash, and arrays saved beside a checkpoint (all in the
safetensors format of ``files``)."""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from safetensors.numpy import load as np_load

from .files import ARRAY_DTYPES, CheckpointError, encode_safetensors, json_field, read_file, to_json

STALE_TEMP_SECONDS = 60.0  # a temp file this old was left by a writer that died (a save takes well under a second)


def remove_stale_temps(folder: Path, max_age: float = STALE_TEMP_SECONDS) -> list[Path]:
    """Delete ``.NAME.*.tmp`` files older than ``max_age`` seconds that a killed writer left in ``folder``."""
    removed = []
    now = time.time()
    for tmp in folder.glob(".*.tmp"):
        try:
            if now - tmp.stat().st_mtime > max_age:
                tmp.unlink()
                removed.append(tmp)
        except OSError:  # another writer removed or replaced it meanwhile
            continue
    return removed


def atomic_write(path: Path, data: bytes, overwrite: bool) -> None:
    """Temp file in the same folder, flush + fsync, then rename; a crash leaves the old file intact (and at
    worst a stray temp file, which the catalog ignores and the next save in that folder removes).

    With ``overwrite=False`` the file is linked into place, which fails if the name exists: two users saving the
    same name never overwrite each other."""
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


def sha256_of(data: bytes) -> str:
    """SHA-256 of bytes in memory: equal to ``content_hash`` of a file holding them."""
    return hashlib.sha256(data).hexdigest()


def content_hash(path: str | Path) -> str:
    """SHA-256 of a file's bytes: the one key that names a checkpoint's version (caches, latents beside it)."""
    p = Path(path)
    try:
        st = p.stat()
    except OSError:
        return ""
    return _hash_of(str(p), st.st_mtime_ns, st.st_size)


@lru_cache(maxsize=256)
def _hash_of(path: str, mtime_ns: int, size: int) -> str:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return ""


def save_arrays(path: str | Path, arrays: dict[str, np.ndarray], meta: dict[str, Any] | None = None) -> Path:
    """Numpy arrays in a safetensors file with JSON ``meta`` (e.g. the latents beside a checkpoint), atomically."""
    path = Path(path)
    data = encode_safetensors(arrays, {"meta": to_json(meta or {})})
    atomic_write(path, data, overwrite=True)
    return path


def load_arrays(path: str | Path) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Read what ``save_arrays`` wrote (no pickle); a damaged file raises CheckpointError."""
    path = Path(path)
    data, header = read_file(path)
    meta = json_field(header.metadata, "meta", "{}", "arrays' metadata")
    if not isinstance(meta, dict):
        raise CheckpointError(f"{path.name}: the arrays' metadata must be a JSON object")
    if any(e.dtype not in ARRAY_DTYPES for e in header.tensors.values()):
        raise CheckpointError(f"{path.name}: arrays must be float or integer numbers")
    try:
        arrays = np_load(data)
    except Exception:  # safetensors raises its own error types for malformed bodies
        raise CheckpointError(f"{path.name}: the arrays could not be read; the file is damaged") from None
    return arrays, meta
