"""The decoder as a compact, self-describing payload for the browser (the live latent pad decodes it in JavaScript).

A payload is a JSON manifest plus one binary blob. The manifest lists the decoder's layers in order (``linear``,
``relu``, ``reshape``, ``conv_transpose2d``, ``sigmoid``) and the tensors they use, each with its name, shape,
dtype and byte range in the blob. Tensors are little-endian float32, or float16 when that is *lossless* (every
value survives the round trip exactly: true for checkpoints saved with ``half=True``), which halves the download
without changing a single weight. ``ui/live_pad.js`` runs exactly these layers; ``tests/test_export.py`` re-does
the same index math in numpy and checks it against torch.

The payload is identified by a *model key*, ``NAME@HASH`` with HASH taken from the SHA-256 of the manifest and
the blob, so the browser can cache it per model and a checkpoint retrained in place gets a new key.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from .model import VAE

FORMAT = "vae-explorer-decoder/1"
_DTYPES = {"f32": np.dtype("<f4"), "f16": np.dtype("<f2")}


class ExportError(ValueError):
    """The decoder cannot be exported for the browser; the message says which layer and why."""


@dataclass(frozen=True)
class DecoderPayload:
    """One decoder, ready to send: a JSON-able manifest and the tensors' bytes."""

    key: str  # "NAME@HASH": what the browser caches the parsed decoder under
    manifest: dict[str, Any]  # format, latent_dim, likelihood, image_size, layers, tensors
    blob: bytes  # the tensors, back to back, 4-byte aligned

    @property
    def latent_dim(self) -> int:
        return int(self.manifest["latent_dim"])

    def to_json(self) -> dict[str, Any]:
        """What goes to the browser: ``{"key", "manifest", "data"}`` with ``data`` the blob in base64."""
        return {"key": self.key, "manifest": self.manifest, "data": base64.b64encode(self.blob).decode("ascii")}

    def json_bytes(self) -> int:
        """Size of ``to_json()`` serialised: what one transfer of this decoder costs."""
        return len(json.dumps(self.to_json(), separators=(",", ":")))

    @classmethod
    def from_json(cls, payload: dict[str, Any]) -> DecoderPayload:
        """The inverse of ``to_json`` (the browser does the same)."""
        try:
            manifest, key, data = payload["manifest"], payload["key"], payload["data"]
        except (KeyError, TypeError):
            raise ExportError("a decoder payload needs 'key', 'manifest' and 'data'") from None
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            raise ExportError(f"not a decoder payload: its manifest format is not {FORMAT!r}")
        return cls(key=key, manifest=manifest, blob=base64.b64decode(data, validate=True))

    def tensors(self) -> dict[str, np.ndarray]:
        """Every tensor, read back from the blob as float32 with its shape."""
        out = {}
        for spec in self.manifest["tensors"]:
            dtype = _DTYPES[spec["dtype"]]
            count = int(np.prod(spec["shape"])) if spec["shape"] else 1
            if spec["offset"] + count * dtype.itemsize > len(self.blob):
                raise ExportError(f"tensor {spec['name']!r} points past the end of the payload: it is truncated")
            raw = np.frombuffer(self.blob, dtype=dtype, count=count, offset=spec["offset"])
            out[spec["name"]] = raw.astype(np.float32).reshape(spec["shape"])
        return out


def _lossless_dtype(values: np.ndarray, allow_half: bool) -> str:
    """'f16' when every value is exactly a float16 (and finite), else 'f32'."""
    if allow_half and np.all(np.abs(values) <= 65504):
        if np.array_equal(values.astype(np.float16).astype(np.float32), values):
            return "f16"
    return "f32"


class _Packer:
    """Appends named tensors to one blob and records where each one is."""

    def __init__(self, allow_half: bool) -> None:
        self.allow_half = allow_half
        self.parts: list[bytes] = []
        self.specs: list[dict[str, Any]] = []
        self.size = 0

    def add(self, name: str, tensor: torch.Tensor) -> str:
        values = tensor.detach().cpu().float().contiguous().numpy()
        if not np.all(np.isfinite(values)):
            raise ExportError(f"{name} contains NaN or infinite values; this decoder cannot be drawn")
        dtype = _lossless_dtype(values, self.allow_half)
        data = values.astype(_DTYPES[dtype]).tobytes()
        self.specs.append({"name": name, "shape": list(values.shape), "dtype": dtype, "offset": self.size})
        pad = (-len(data)) % 4  # keep every tensor 4-byte aligned, so a Float32Array view would work too
        self.parts.append(data + b"\0" * pad)
        self.size += len(data) + pad
        return name


def _describe(module: nn.Module, prefix: str, packer: _Packer, size: int | None) -> tuple[dict[str, Any], int | None]:
    """One layer of the manifest (and the spatial size after it) for a module of the decoder."""
    if isinstance(module, nn.Linear):
        if module.bias is None:
            raise ExportError(f"{prefix}: the browser decoder needs Linear layers with a bias")
        layer = {
            "op": "linear",
            "in_features": module.in_features,
            "out_features": module.out_features,
            "weight": packer.add(f"{prefix}.weight", module.weight),
            "bias": packer.add(f"{prefix}.bias", module.bias),
        }
        return layer, size
    if isinstance(module, nn.ReLU):
        return {"op": "relu"}, size
    if isinstance(module, nn.ConvTranspose2d):
        k, s, p = module.kernel_size, module.stride, module.padding
        if (
            k[0] != k[1]
            or s[0] != s[1]
            or p[0] != p[1]
            or module.groups != 1
            or module.dilation != (1, 1)
            or module.output_padding != (0, 0)
            or module.bias is None
            or size is None
        ):
            raise ExportError(
                f"{prefix}: the browser decoder supports square ConvTranspose2d layers with a bias, groups=1, "
                f"dilation=1 and no output_padding (got {module})"
            )
        out_size = (size - 1) * s[0] - 2 * p[0] + k[0]
        layer = {
            "op": "conv_transpose2d",
            "in_channels": module.in_channels,
            "out_channels": module.out_channels,
            "kernel_size": k[0],
            "stride": s[0],
            "padding": p[0],
            "in_size": size,
            "out_size": out_size,
            "weight": packer.add(f"{prefix}.weight", module.weight),
            "bias": packer.add(f"{prefix}.bias", module.bias),
        }
        return layer, out_size
    raise ExportError(f"{prefix}: the browser decoder has no {type(module).__name__} layer")


def export_decoder(model: VAE, name: str, allow_half: bool = True) -> DecoderPayload:
    """The decoder of ``model`` as a payload: z (D,) -> fc -> reshape (C, 4, 4) -> transposed convs -> sigmoid.

    The last layer gives logits; the manifest ends with ``sigmoid``, so the browser computes the decoder's mean
    E[x|z]. A Gaussian decoder also ships its per-pixel sigma (``decoder_std``, 28x28) for sampling x ~ p(x|z).
    """
    decoder = model.decoder
    packer = _Packer(allow_half)
    layers: list[dict[str, Any]] = []
    for i, module in enumerate(decoder.fc):
        layers.append(_describe(module, f"fc.{i}", packer, None)[0])
    side = 4  # the decoder reshapes its fc output to (c3, 4, 4): see networks.Decoder.forward
    layers.append({"op": "reshape", "shape": [decoder.c3, side, side]})
    size: int | None = side
    for i, module in enumerate(decoder.deconv):
        layer, size = _describe(module, f"deconv.{i}", packer, size)
        layers.append(layer)
    layers.append({"op": "sigmoid"})
    if size != 28 or layers[-2]["op"] != "conv_transpose2d" or layers[-2]["out_channels"] != 1:
        raise ExportError(f"the decoder must end in one 28x28 channel (it ends in {size}x{size})")
    std = model.decoder_std()
    if std is not None:
        packer.add("decoder_std", std.reshape(28, 28))
    blob = b"".join(packer.parts)
    manifest = {
        "format": FORMAT,
        "latent_dim": model.latent_dim,
        "likelihood": model.config.likelihood,
        "image_size": 28,
        "layers": layers,
        "tensors": packer.specs,
    }
    return DecoderPayload(key=model_key(name, manifest, blob), manifest=manifest, blob=blob)


def model_key(name: str, manifest: dict[str, Any], blob: bytes) -> str:
    """``NAME@HASH``: the checkpoint's name and 16 hex digits of the SHA-256 of the manifest and the weights."""
    digest = hashlib.sha256(json.dumps(manifest, sort_keys=True).encode() + blob).hexdigest()
    return f"{name}@{digest[:16]}"
