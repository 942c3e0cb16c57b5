"""The one file format every saved thing uses: a safetensors file, its header parsed strictly, written atomically.

A safetensors file is ``<u64 little-endian header length N> <N bytes of JSON header> <tensor bytes>``
(https://github.com/huggingface/safetensors). The header maps tensor names to ``{"dtype", "shape",
"data_offsets"}`` and may hold ``"__metadata__"``: a map of strings to strings. ``parse_header`` turns *any* byte
string into either a validated ``Header`` or a ``CheckpointError`` whose message says what is wrong; it never
raises anything else (no KeyError, RecursionError, OverflowError...), so a page can show the message as it is.
"""

from __future__ import annotations

import json
import math
import os
import re
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

FORMAT = "vae-explorer/1"  # a checkpoint's __metadata__["format"]
MAX_CHECKPOINT_BYTES = 50 * 1024 * 1024
MAX_HEADER_BYTES = 1024 * 1024
# Bytes per element of every dtype the safetensors format defines (the loaders accept fewer; see checkpoints.py).
DTYPE_SIZES = {
    "BOOL": 1, "U8": 1, "I8": 1, "F8_E5M2": 1, "F8_E4M3": 1, "I16": 2, "U16": 2, "F16": 2, "BF16": 2,
    "I32": 4, "U32": 4, "F32": 4, "I64": 8, "U64": 8, "F64": 8,
}  # fmt: skip
ARRAY_DTYPES = {"F16", "F32", "F64", "I32", "I64", "U8"}
_MAX_DIM = 2**31  # no real tensor dimension comes near; keeps the size arithmetic small
_NAME_RE = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10))}
_PICKLE_MESSAGE = (
    "this looks like a pickled PyTorch file (.pt/.pth/.pkl). Loading those can run arbitrary code, so they are "
    "refused; export the weights with safetensors and this project's config instead"
)


class CheckpointError(ValueError):
    """The file is not a usable checkpoint; the message says what is wrong and what to do."""


def validate_name(name: str) -> str:
    """A checkpoint name that cannot escape its folder: lowercase letters, digits, '-' and '_'. The one name rule
    of the Train page, the Upload page's import and the CLI."""
    if not isinstance(name, str) or not _NAME_RE.fullmatch(name) or name in _RESERVED:
        shown = repr(name)[:80]
        raise CheckpointError(
            f"{shown} is not a valid checkpoint name: use 1-64 lowercase letters, digits, '-' or '_', "
            "starting with a letter or digit (for example 'my-vae-16')"
        )
    return name


@dataclass(frozen=True)
class TensorEntry:
    """Where one tensor lives in the file: dtype, shape and its byte range within the data section."""

    dtype: str
    shape: tuple[int, ...]
    begin: int
    end: int


@dataclass(frozen=True)
class Header:
    """A validated safetensors header: string metadata, tensor entries, and where the data section starts."""

    metadata: dict[str, str]
    tensors: dict[str, TensorEntry]
    data_start: int
    file_size: int

    def check_layout(self) -> None:
        """Every tensor's byte range matches its dtype and shape, and the tensors tile the data section exactly
        (no gaps, no overlaps, nothing after them), as the safetensors format requires."""
        for name, e in self.tensors.items():
            if e.end - e.begin != DTYPE_SIZES[e.dtype] * math.prod(e.shape):
                raise CheckpointError(f"weight {name[:60]!r} has the wrong number of bytes: the file is damaged")
        body = self.file_size - self.data_start
        cursor = 0
        for entry in sorted(self.tensors.values(), key=lambda e: (e.begin, e.end)):
            if entry.begin != cursor:
                raise CheckpointError("the weights overlap or leave gaps in the file: the file is damaged")
            cursor = entry.end
        if cursor != body:
            what = "ends before its weights do" if cursor > body else "has bytes after its weights"
            raise CheckpointError(f"the file {what}: it is truncated or damaged; save or download it again")


def looks_like_pickle(data: bytes) -> bool:
    """True for what ``torch.save`` and ``pickle.dumps`` really start with: a zip archive (torch >= 1.6), or the
    pickle PROTO opcode 0x80 followed by a protocol number 2-5. Asked only *after* a file failed to parse as
    safetensors: a good safetensors file may start with these bytes (they are its header length)."""
    return data[:4] == b"PK\x03\x04" or (len(data) >= 2 and data[0] == 0x80 and 2 <= data[1] <= 5)


def _load_json(raw: bytes | str, what: str) -> Any:
    """JSON from bytes, with every way it can fail (bad UTF-8, bad syntax, too deep, a 5,000-digit integer,
    duplicate keys) turned into a CheckpointError."""

    def not_json(name: str) -> Any:  # NaN, Infinity: Python's extension, not JSON
        raise ValueError(f"{name} is not JSON")

    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        out = dict(pairs)
        if len(out) != len(pairs):
            raise ValueError("duplicate key")
        return out

    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        return json.loads(text, object_pairs_hook=no_duplicates, parse_constant=not_json)
    except (UnicodeDecodeError, ValueError, RecursionError, MemoryError):
        raise CheckpointError(f"the {what} is not valid JSON: the file is damaged") from None


def _as_int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _tensor_entry(name: str, info: Any) -> TensorEntry:
    damaged = f"weight {name[:60]!r} has a malformed entry in the header: the file is damaged"
    if not isinstance(info, dict) or set(info) != {"dtype", "shape", "data_offsets"}:
        raise CheckpointError(damaged)
    dtype, shape, offsets = info["dtype"], info["shape"], info["data_offsets"]
    if not isinstance(dtype, str) or not isinstance(shape, list) or not isinstance(offsets, list):
        raise CheckpointError(damaged)
    dims = [_as_int(d) for d in shape]
    bounds = [_as_int(o) for o in offsets]
    if len(shape) > 8 or any(d is None or not 0 <= d <= _MAX_DIM for d in dims):
        raise CheckpointError(f"weight {name[:60]!r} has an impossible shape: the file is damaged")
    if len(bounds) != 2 or any(o is None for o in bounds) or not 0 <= bounds[0] <= bounds[1]:
        raise CheckpointError(damaged)
    if dtype not in DTYPE_SIZES:
        raise CheckpointError(f"weight {name[:60]!r} has unknown dtype {dtype[:20]!r}: the file is damaged")
    return TensorEntry(dtype, tuple(dims), bounds[0], bounds[1])


def parse_header(data: bytes, file_size: int | None = None, *, check_layout: bool = True) -> Header:
    """Validate the header at the start of ``data`` (the whole file, or at least its header when ``file_size``
    gives the whole file's size). Checks the length prefix, the JSON, the metadata's types, every tensor entry,
    and (unless ``check_layout`` is False: the caller then calls ``Header.check_layout`` itself, after checks whose
    messages say more) the byte layout."""
    size = len(data) if file_size is None else file_size
    data = bytes(data[: 8 + MAX_HEADER_BYTES])
    if len(data) < 8:
        raise CheckpointError("the file is too short to be a safetensors checkpoint (it may be truncated)")
    (n,) = struct.unpack("<Q", data[:8])
    if n > MAX_HEADER_BYTES:
        raise CheckpointError(f"the safetensors header claims {n} bytes (limit {MAX_HEADER_BYTES}); file refused")
    if 8 + n > min(len(data), size):
        raise CheckpointError("the file ends inside its header: it is truncated; save or download it again")
    raw = data[8 : 8 + n]
    if not raw.startswith(b"{"):
        raise CheckpointError("the safetensors header is not a JSON object: the file is damaged")
    header = _load_json(raw, "safetensors header")
    if not isinstance(header, dict):
        raise CheckpointError("the safetensors header is not a JSON object: the file is damaged")
    metadata = header.pop("__metadata__", None)
    if metadata is None:
        metadata = {}
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise CheckpointError("the header's __metadata__ must map names to strings: the file is damaged")
    tensors = {name: _tensor_entry(name, info) for name, info in header.items()}
    parsed = Header(metadata=metadata, tensors=tensors, data_start=8 + n, file_size=size)
    if check_layout:
        parsed.check_layout()
    return parsed


def parse_safetensors(data: bytes, *, check_layout: bool = True) -> Header:
    """``parse_header`` for a whole file in memory, refusing oversized files first and naming pickles (which are
    refused, never opened) when the bytes are not safetensors."""
    if len(data) > MAX_CHECKPOINT_BYTES:
        raise CheckpointError(
            f"the file is {len(data) / 2**20:.1f} MB; checkpoints are limited to {MAX_CHECKPOINT_BYTES / 2**20:.0f} MB"
        )
    try:
        return parse_header(data, check_layout=check_layout)
    except CheckpointError:
        if looks_like_pickle(data):
            raise CheckpointError(_PICKLE_MESSAGE) from None
        raise


def read_file(path: str | Path) -> tuple[bytes, Header]:
    """A whole safetensors file from disk: its bytes and its checked header (``parse_safetensors``); a file that
    cannot be read raises CheckpointError too."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as e:
        raise CheckpointError(f"cannot read {path.name}: {e.strerror or e}") from None
    return data, parse_safetensors(data)


def read_file_header(path: Path) -> Header:
    """The header of a file on disk, reading only the header's bytes."""
    try:
        with open(path, "rb") as f:
            prefix = f.read(8)
            n = struct.unpack("<Q", prefix)[0] if len(prefix) == 8 else 0
            rest = f.read(min(n, MAX_HEADER_BYTES))
            size = os.fstat(f.fileno()).st_size
    except OSError as e:
        raise CheckpointError(f"cannot read {path.name}: {e.strerror or e}") from None
    return parse_header(prefix + rest, file_size=size)


def to_json(value: Any) -> str:
    """Strict JSON text for metadata: NaN and infinities (which JSON lacks, and which Python would write as
    ``NaN``, breaking every other reader) become null."""

    def finite(v: Any) -> Any:
        if isinstance(v, float) and not math.isfinite(v):
            return None
        if isinstance(v, dict):
            return {k: finite(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [finite(x) for x in v]
        return v

    return json.dumps(finite(value), allow_nan=False)


def json_field(metadata: dict[str, str], key: str, default: str, what: str) -> Any:
    """One JSON-encoded field of the metadata (e.g. the model config), parsed with the same care as the header."""
    return _load_json(metadata.get(key, default), what)


_TORCH_DTYPES = {
    "float32": "F32", "float16": "F16", "bfloat16": "BF16", "float64": "F64",
    "int64": "I64", "int32": "I32", "int16": "I16", "int8": "I8", "uint8": "U8", "bool": "BOOL",
}  # fmt: skip


def encode_safetensors(tensors: dict[str, Any], metadata: dict[str, str]) -> bytes:
    """The bytes of a safetensors file holding ``tensors`` (torch tensors or numpy arrays) and ``metadata``.

    Deterministic, unlike the safetensors library's writer (its metadata map has no fixed order): keys sorted,
    header padded with spaces to a multiple of 8 bytes (the format's alignment), tensors in name order. So saving
    what was loaded gives the same bytes, and a file's content hash names its content."""
    entries: dict[str, Any] = {}
    chunks: list[bytes] = []
    offset = 0
    for name in sorted(tensors):
        t = tensors[name]
        array = t.detach().cpu().contiguous() if hasattr(t, "detach") else np.ascontiguousarray(t)
        dtype = _TORCH_DTYPES.get(str(array.dtype).removeprefix("torch."))
        if dtype is None:
            raise CheckpointError(f"cannot store {name!r}: dtype {array.dtype} has no safetensors name here")
        if hasattr(t, "detach"):  # a torch tensor: its raw bytes, whatever the dtype (bfloat16 has no numpy twin)
            import torch

            raw = array.reshape(-1).view(torch.uint8).numpy().tobytes()
        else:
            raw = array.astype(array.dtype.newbyteorder("<"), copy=False).tobytes()
        entries[name] = {"dtype": dtype, "shape": list(array.shape), "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    header = {"__metadata__": dict(sorted(metadata.items())), **entries} if metadata else entries
    raw_header = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    raw_header += b" " * (-len(raw_header) % 8)
    return struct.pack("<Q", len(raw_header)) + raw_header + b"".join(chunks)
