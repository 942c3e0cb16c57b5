"""Codes and decodings in bulk: encode a split, decode a batch or a manifold grid, precompute the 2-D maps."""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..model import VAE, as_tensor
from ..store.checkpoints import save_checkpoint
from ..store.disk import content_hash, load_arrays, save_arrays
from ..store.files import CheckpointError
from .projection import LatentPCA, TSNESettings, fit_tsne
from .tiles import tile_images

logger = logging.getLogger(__name__)


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
    if not np.isfinite(mu).all() or (logvar is not None and not np.isfinite(logvar).all()):
        raise CheckpointError("this model's codes for the test images are not finite; it cannot be mapped")
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


def save_latents(checkpoint_path: str | Path, arrays: dict[str, np.ndarray], n: int) -> Path:
    """Write ``arrays`` beside the checkpoint, recording the checkpoint's content hash: latents can then never be
    paired with another version of the checkpoint (a crash between the two writes, a file replaced by hand)."""
    meta = {"split": "test", "n": int(n), "checkpoint_sha256": content_hash(checkpoint_path)}
    return save_arrays(latents_path(checkpoint_path), arrays, meta)


def load_latents(checkpoint_path: str | Path) -> dict[str, np.ndarray] | None:
    """The precomputed latents beside a checkpoint, or None when they are missing, damaged, or were computed for
    another version of the checkpoint (their recorded hash differs from the file's content hash)."""
    path = latents_path(checkpoint_path)
    if not path.is_file():
        return None
    try:
        arrays, meta = load_arrays(path)
    except CheckpointError as e:
        logger.warning("ignoring %s: %s", path, e)
        return None
    if meta.get("checkpoint_sha256") != content_hash(checkpoint_path) or "mu" not in arrays or "pca" not in arrays:
        logger.warning("ignoring %s: it was computed for another version of %s", path.name, Path(checkpoint_path).name)
        return None
    return arrays


@dataclass(frozen=True)
class Latents:
    """Codes of the test split (mean and log-variance of q(z|x); no variance for the autoencoder), their labels
    and their 2-D maps (PCA always; t-SNE when it was precomputed), all read-only."""

    mu: np.ndarray
    logvar: np.ndarray | None
    labels: np.ndarray
    pca: np.ndarray
    tsne: np.ndarray | None

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> Latents:
        for a in arrays.values():
            a.flags.writeable = False
        return cls(arrays["mu"], arrays.get("logvar"), arrays["labels"], arrays["pca"], arrays.get("tsne"))


def load_or_compute_latents(
    checkpoint_path: str | Path, model: VAE, test_split: Callable[[], tuple[np.ndarray, np.ndarray]]
) -> Latents:
    """The rule every page uses: the precomputed latents when they belong to this checkpoint, else encode the test
    split now (``test_split()`` returns its images and labels; no t-SNE, which takes too long to wait for)."""
    arrays = load_latents(checkpoint_path)
    if arrays is None:
        images, labels = test_split()
        arrays = compute_latents(model, images, labels, tsne=False)
    return Latents.from_arrays(arrays)


def save_with_latents(
    model: VAE,
    path: str | Path,
    meta: dict[str, Any],
    images: np.ndarray,
    labels: np.ndarray,
    *,
    half: bool = False,
    overwrite: bool = False,
    tsne: bool = False,
    progress: Callable[[str], None] | None = None,
) -> Path:
    """The one way a model is saved with its maps (CLI, Train page, upload import): compute the latents of the
    weights as stored first (nothing is written if that fails), then the checkpoint, then the latents with the
    checkpoint's hash. If the latents cannot be written the checkpoint still stands; pages encode it themselves."""
    stored = model
    if half:  # the maps must describe the float16 weights that are written, not the float32 ones in memory
        stored = copy.deepcopy(model)
        stored.load_state_dict({k: v.half().float() for k, v in model.state_dict().items()})
    try:
        arrays = compute_latents(stored, np.asarray(images), np.asarray(labels), tsne=tsne, progress=progress)
    except (np.linalg.LinAlgError, ValueError, FloatingPointError) as e:
        if isinstance(e, CheckpointError):
            raise
        raise CheckpointError(f"this model's codes could not be mapped ({e}); it was not saved") from None
    path = save_checkpoint(model, path, meta, half=half, overwrite=overwrite)
    try:
        save_latents(path, arrays, len(images))
    except (OSError, CheckpointError) as e:
        logger.warning("could not save the latent maps beside %s: %s", path, e)
    return path
