"""The decoder's forward pass in numpy, read straight from a checkpoint file: decoding without importing torch.

Importing torch takes seconds; the home page's first digits (prior samples) must not wait for it. This module
runs ``networks.Decoder`` (linear, ReLU, linear, ReLU, reshape to (c3, 4, 4), three transposed convolutions with
ReLUs between them, sigmoid for the mean E[x|z]) on weights read from the safetensors file with the strict header
parser of ``store.files``. Every tensor's name and shape is checked against the config, so a checkpoint of another
architecture is refused (``CheckpointError``) rather than decoded wrongly; the caller then falls back to torch.
``tests/test_numpy_decoder.py`` checks the images against ``VAE.decoder_mean`` for every shipped checkpoint.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .config import ConfigError, ModelConfig
from .store.files import FORMAT, CheckpointError, json_field, read_file

_DTYPES = {"F32": np.dtype("<f4"), "F16": np.dtype("<f2")}  # BF16 has no numpy dtype: such files use torch
# (name in the checkpoint, stride, padding) of the transposed convolutions, in order (networks.Decoder.deconv).
_DECONVS = (("decoder.deconv.0", 2, 1), ("decoder.deconv.2", 2, 1), ("decoder.deconv.4", 2, 1))
_LINEARS = ("decoder.fc.0", "decoder.fc.2")


def expected_shapes(config: ModelConfig) -> dict[str, tuple[int, ...]]:
    """The decoder tensors this module reads, with the shapes ``networks.Decoder`` gives them for ``config``."""
    c1, c2, c3 = config.channels
    return {
        "decoder.fc.0.weight": (config.hidden, config.latent_dim),
        "decoder.fc.0.bias": (config.hidden,),
        "decoder.fc.2.weight": (c3 * 16, config.hidden),
        "decoder.fc.2.bias": (c3 * 16,),
        "decoder.deconv.0.weight": (c3, c2, 3, 3),
        "decoder.deconv.0.bias": (c2,),
        "decoder.deconv.2.weight": (c2, c1, 4, 4),
        "decoder.deconv.2.bias": (c1,),
        "decoder.deconv.4.weight": (c1, 1, 4, 4),
        "decoder.deconv.4.bias": (1,),
    }


@dataclass(frozen=True)
class NumpyDecoder:
    """The decoder of one checkpoint as float32 arrays; ``mean(z)`` is E[x|z] as (N, 28, 28) in [0, 1]."""

    config: ModelConfig
    weights: dict[str, np.ndarray]

    @property
    def latent_dim(self) -> int:
        return self.config.latent_dim

    def mean(self, z: np.ndarray) -> np.ndarray:
        z = np.atleast_2d(np.asarray(z, dtype=np.float32))
        if z.shape[1] != self.latent_dim:
            raise ValueError(f"z must have {self.latent_dim} columns (got {z.shape[1]})")
        h = z
        for name in _LINEARS:
            h = np.maximum(h @ self.weights[f"{name}.weight"].T + self.weights[f"{name}.bias"], 0.0)
        h = h.reshape(len(z), self.config.channels[2], 4, 4)
        for i, (name, stride, padding) in enumerate(_DECONVS):
            h = conv_transpose2d(h, self.weights[f"{name}.weight"], self.weights[f"{name}.bias"], stride, padding)
            if i < len(_DECONVS) - 1:
                h = np.maximum(h, 0.0)
        return 1.0 / (1.0 + np.exp(-h[:, 0]))


def conv_transpose2d(x: np.ndarray, w: np.ndarray, b: np.ndarray, stride: int, padding: int) -> np.ndarray:
    """torch.nn.functional.conv_transpose2d for square kernels: every input pixel is scattered through the kernel,

        out[n, o, y, x] = b[o] + sum over i, iy, ix, ky, kx with y = iy*stride - padding + ky (same for x)
                                 of x[n, i, iy, ix] * w[i, o, ky, kx],

    with output size (size - 1) * stride - 2 * padding + k. One matrix product per kernel offset (ky, kx)."""
    n, _, size, _ = x.shape
    k = w.shape[2]
    out_size = (size - 1) * stride - 2 * padding + k
    out = np.broadcast_to(b[None, :, None, None], (n, w.shape[1], out_size, out_size)).astype(np.float32)
    positions = np.arange(size) * stride - padding
    for ky in range(k):
        ys = positions + ky
        rows = (ys >= 0) & (ys < out_size)
        for kx in range(k):
            xs = positions + kx
            cols = (xs >= 0) & (xs < out_size)
            part = np.einsum("nihw,io->nohw", x[:, :, rows][:, :, :, cols], w[:, :, ky, kx])
            out[:, :, ys[rows][:, None], xs[cols][None, :]] += part
    return out


def load_numpy_decoder(path: str | Path) -> NumpyDecoder:
    """The decoder of a checkpoint file, read without torch; CheckpointError when it cannot be (then use torch)."""
    path = Path(path)
    data, header = read_file(path)
    if header.metadata.get("format") != FORMAT:
        raise CheckpointError(f"{path.name} is not a VAE-explorer checkpoint")
    try:
        config = ModelConfig.from_dict(json_field(header.metadata, "model_config", "", "checkpoint's config"))
    except (ConfigError, TypeError) as e:
        raise CheckpointError(f"the checkpoint's config is invalid: {e}") from None
    weights = {}
    for name, shape in expected_shapes(config).items():
        entry = header.tensors.get(name)
        if entry is None or entry.shape != shape or entry.dtype not in _DTYPES:
            raise CheckpointError(f"{path.name}: {name} is missing or not {list(shape)} in float32/float16")
        start = header.data_start + entry.begin
        values = np.frombuffer(data, _DTYPES[entry.dtype], int(np.prod(shape)), start).astype(np.float32)
        if not np.all(np.isfinite(values)):
            raise CheckpointError(f"{path.name}: {name} contains NaN or infinite values")
        weights[name] = values.reshape(shape)
    return NumpyDecoder(config, weights)
