"""Codes and decodings in bulk: encode a split, decode a batch or a manifold grid, precompute the 2-D maps."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from .model import VAE
from .projection import LatentPCA, TSNESettings, fit_tsne
from .training import as_tensor


@torch.no_grad()
def encode_images(model: VAE, images: np.ndarray, batch_size: int = 500) -> tuple[np.ndarray, np.ndarray | None]:
    """mu (N, D) and logvar (N, D) of q(z|x) (logvar None for the autoencoder), as float32 numpy."""
    x = as_tensor(images)
    mus, logvars = [], []
    for i in range(0, len(x), batch_size):
        mu, logvar = model.encode(x[i : i + batch_size])
        mus.append(mu)
        if logvar is not None:
            logvars.append(logvar)
    mu = torch.cat(mus).numpy() if mus else np.zeros((0, model.latent_dim), np.float32)
    return mu, (torch.cat(logvars).numpy() if logvars else None)


@torch.no_grad()
def decode_codes(model: VAE, z: np.ndarray, sample: bool = False, seed: int = 0) -> np.ndarray:
    """Decode codes (N, D) to images (N, 28, 28) in [0, 1]: the decoder's mean, or a sample x ~ p(x|z)."""
    zt = torch.as_tensor(np.atleast_2d(z), dtype=torch.float32)
    if sample:
        out = model.sample_x(zt, generator=torch.Generator().manual_seed(seed))
    else:
        out = model.decoder_mean(zt)
    return out[:, 0].numpy()


def normal_grid(n: int, lim: float = 0.95) -> np.ndarray:
    """n values spaced evenly in probability through the inverse normal CDF (Kingma & Welling, Fig. 4)."""
    from scipy.stats import norm

    return norm.ppf(np.linspace(1 - lim, lim, n)).astype(np.float32)


def manifold_codes(
    latent_dim: int, n: int = 20, dims: tuple[int, int] = (0, 1), base: np.ndarray | None = None, lim: float = 0.95
) -> np.ndarray:
    """Codes (n*n, D) on an inverse-CDF grid over two latent dimensions; the others are ``base`` (default 0).

    Row r, column c of the grid is code index r * n + c, with dims[0] along columns and dims[1] down the rows
    (top row = largest value, as in a plot)."""
    values = normal_grid(n, lim)
    z = np.tile(np.zeros(latent_dim, np.float32) if base is None else np.asarray(base, np.float32), (n * n, 1))
    for r in range(n):
        for c in range(n):
            z[r * n + c, dims[0]] = values[c]
            if latent_dim > 1:
                z[r * n + c, dims[1]] = values[n - 1 - r]
    return z


def tile_images(images: np.ndarray, n_cols: int, pad: int = 0) -> np.ndarray:
    """(N, H, W) -> one (rows*H, n_cols*W) image, row-major, padding with black."""
    n, h, w = images.shape
    rows = -(-n // n_cols)
    out = np.zeros((rows * (h + pad) - pad, n_cols * (w + pad) - pad), dtype=np.float32)
    for i, img in enumerate(images):
        r, c = divmod(i, n_cols)
        out[r * (h + pad) : r * (h + pad) + h, c * (w + pad) : c * (w + pad) + w] = img
    return out


def manifold_grid(
    model: VAE, n: int = 20, dims: tuple[int, int] = (0, 1), base: np.ndarray | None = None, lim: float = 0.95
) -> np.ndarray:
    """The decoded manifold: one (n*28, n*28) image of decoder means over an inverse-CDF grid."""
    return tile_images(decode_codes(model, manifold_codes(model.latent_dim, n, dims, base, lim)), n)


def compute_latents(
    model: VAE,
    images: np.ndarray,
    labels: np.ndarray,
    tsne: bool = True,
    tsne_settings: TSNESettings = TSNESettings(),
    progress: Callable[[str], None] | None = None,
) -> dict[str, np.ndarray]:
    """What the app needs to open instantly: codes of the test split and their 2-D PCA and t-SNE coordinates."""
    mu, logvar = encode_images(model, images)
    out = {"mu": mu, "labels": np.asarray(labels, dtype=np.int64), "pca": LatentPCA().fit_transform(mu)}
    if logvar is not None:
        out["logvar"] = logvar
    if tsne:
        out["tsne"] = fit_tsne(mu, tsne_settings, progress)
    return out


def latents_path(checkpoint_path: str | Path) -> Path:
    """``NAME.safetensors`` -> ``NAME.latents.safetensors``."""
    p = Path(checkpoint_path)
    return p.with_name(p.stem + ".latents.safetensors")
