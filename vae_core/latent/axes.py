"""How a model's latent dimensions are shown: ranked by how much they carry, each with a slider range."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from ..objectives import kl_per_dimension
from .codes import Latents

PRIOR_RANGE = 3.0  # sliders always cover z in [-3, 3]: 99.7% of the prior N(0, 1) per dimension


@dataclass(frozen=True)
class LatentAxes:
    """How a model's latent dimensions are shown: most informative first, each with a slider range.

    For a VAE a dimension's information is its mean KL(q(z_j|x) || N(0, 1)) over the test images (dimensions with
    ~0 nats are unused: moving them changes nothing). The autoencoder has no KL, so its dimensions are ordered by
    the variance of its codes."""

    order: tuple[int, ...]  # every dimension, most informative first
    score: tuple[float, ...]  # per dimension (by index): mean KL in nats, or variance of the codes
    score_name: str  # "KL" or "var"
    lo: tuple[float, ...]  # per dimension: the slider's range
    hi: tuple[float, ...]

    def label(self, d: int) -> str:
        unit = " nats" if self.score_name == "KL" else ""
        return f"z{d + 1} · {self.score_name} {self.score[d]:.2f}{unit}"  # z1, z2, ...: numbered from 1 on every page

    def clip(self, z: Sequence[float]) -> np.ndarray:
        return np.clip(np.asarray(z, dtype=np.float64), self.lo, self.hi)


def latent_axes(latents: Latents) -> LatentAxes:
    """Order and ranges of a model's latent dimensions, from its test codes (``ui.loaders.latents``)."""
    mu = np.asarray(latents.mu, dtype=np.float64)
    if latents.logvar is not None:
        kl = kl_per_dimension(torch.from_numpy(mu), torch.from_numpy(np.asarray(latents.logvar, np.float64)))
        score, name = kl.mean(dim=0).numpy(), "KL"
    else:
        score, name = mu.var(axis=0), "var"
    # The range holds 99% of the codes plus a margin, so the holes around them are reachable too.
    q_lo, q_hi = np.quantile(mu, 0.005, axis=0), np.quantile(mu, 0.995, axis=0)
    margin = 0.2 * (q_hi - q_lo) + 0.5
    # Both models' ranges also cover the prior's [-3, 3], where "sample z from the prior" lands.
    lo = np.minimum(np.floor(q_lo - margin), -PRIOR_RANGE)
    hi = np.maximum(np.ceil(q_hi + margin), PRIOR_RANGE)
    order = tuple(int(d) for d in np.argsort(-score, kind="stable"))
    return LatentAxes(order, tuple(float(s) for s in score), name, tuple(map(float, lo)), tuple(map(float, hi)))


def nearest_codes(codes: np.ndarray, z: np.ndarray, k: int = 8) -> np.ndarray:
    """Indices of the k codes closest to z (Euclidean distance in the latent space), nearest first."""
    return np.argsort(np.linalg.norm(np.asarray(codes) - np.asarray(z)[None], axis=1), kind="stable")[:k]
