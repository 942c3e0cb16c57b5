"""Where to look for holes: the prior N(0, I), and two regions of each model's *own* making.

A plain autoencoder was never asked to put its codes anywhere near N(0, I), so judging it only by prior samples is
unfair: its codes may spread wider than the prior (then prior samples all land among them) or sit far from it
(then none do). So every hole and smudge measure is taken in three regions:

- ``prior``: z ~ N(0, I), what a VAE samples from;
- ``fitted``: a Gaussian fitted to the model's own codes (mean and covariance), the fairest sampler an
  autoencoder gets;
- ``box``: uniform over the box its codes fill (per dimension, the central 99 % of the codes, so one stray code
  does not set the box): every point near the data counts, wherever the density puts it. In many dimensions
  almost all of a box's volume is in its corners, far from any code.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

REGIONS = {"prior": "N(0, I)", "fitted": "fitted Gaussian", "box": "box of the codes"}


def prior_samples(latent_dim: int, n: int, seed: int = 0) -> np.ndarray:
    """n codes z ~ N(0, I), (n, latent_dim) float32, from a fixed seed: the same for every model of that size."""
    return np.random.default_rng(seed).standard_normal((n, latent_dim)).astype(np.float32)


@dataclass(frozen=True)
class GaussianFit:
    """N(mean, cov) fitted to a set of codes: a fair sampler for an autoencoder, whose codes were never asked
    to look like N(0, I)."""

    mean: np.ndarray  # (D,)
    cov: np.ndarray  # (D, D)

    def sample(self, n: int, seed: int = 0) -> np.ndarray:
        return np.random.default_rng(seed).multivariate_normal(self.mean, self.cov, size=n).astype(np.float32)

    def kl_to_prior(self) -> float:
        """KL(N(m, S) || N(0, I)) = 1/2 (tr S + m.m - D - log det S): 0 when the codes are spread like the prior.
        Lower is better."""
        _, logdet = np.linalg.slogdet(self.cov)
        return float(0.5 * (np.trace(self.cov) + self.mean @ self.mean - len(self.mean) - logdet))


def fit_gaussian(codes: np.ndarray) -> GaussianFit:
    """Mean and covariance of codes (N, D), with a tiny ridge so a collapsed dimension stays invertible."""
    z = np.asarray(codes, dtype=np.float64)
    cov = np.atleast_2d(np.cov(z, rowvar=False)) + 1e-6 * np.eye(z.shape[1])
    return GaussianFit(mean=z.mean(axis=0), cov=cov)


@dataclass(frozen=True)
class Box:
    """An axis-aligned box [low, high] in latent space."""

    low: np.ndarray  # (D,)
    high: np.ndarray  # (D,)

    def sample(self, n: int, seed: int = 0) -> np.ndarray:
        """n codes uniform in the box, (n, D) float32."""
        return np.random.default_rng(seed).uniform(self.low, self.high, (n, len(self.low))).astype(np.float32)


def fit_box(codes: np.ndarray, coverage: float = 0.99) -> Box:
    """The box holding the central ``coverage`` of the codes along each dimension."""
    if not 0 < coverage <= 1:
        raise ValueError(f"coverage must be in (0, 1] (got {coverage})")
    tail = (1 - coverage) / 2
    low, high = np.quantile(np.asarray(codes, np.float64), [tail, 1 - tail], axis=0)
    return Box(low=low, high=np.maximum(high, low + 1e-6))


def region_samples(codes: np.ndarray, n: int, seed: int = 0) -> dict[str, np.ndarray]:
    """n codes from each of ``REGIONS`` for a model whose data codes are ``codes`` (N, D). The prior's draws
    depend only on (D, n, seed), so two models of the same size are scored on the very same z."""
    codes = np.asarray(codes, np.float32)
    return {
        "prior": prior_samples(codes.shape[1], n, seed),
        "fitted": fit_gaussian(codes).sample(n, seed + 1),
        "box": fit_box(codes).sample(n, seed + 2),
    }
