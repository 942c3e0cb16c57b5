"""How smooth a latent space is: metrics that score any checkpoint, VAE and plain autoencoder alike.

Each function answers one question of the Smoothness lab, and its docstring says which value is better:

- ``path_smoothness``: does a straight line between two codes decode to a gradual morph, or does it jump?
- ``hole_share``: how much of the region a sampler covers lies far from every data code?
- ``aggregate_posterior_kl``, ``GaussianFit.kl_to_prior``: how far the codes as a whole are from N(0, I)
- ``active_units``, ``mean_kl_per_dimension``: which latent dimensions carry information
- ``reconstruction_mse``: how well images come back (the one the autoencoder wins)

Whether decoded codes look like data (a classifier's verdict) is in ``validity.py``.

Models are anything with ``decoder_mean(z) -> (B, 1, 28, 28)`` (see ``Decodes``), so tests can pass tiny
hand-made decoders whose answers are known.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import torch

from ..objectives import kl_per_dimension


class Decodes(Protocol):
    """What the metrics need from a model: its decoder's mean image for a batch of codes."""

    def decoder_mean(self, z: torch.Tensor) -> torch.Tensor: ...


@torch.no_grad()
def decode_means(model: Decodes, z: np.ndarray, batch_size: int = 1000) -> np.ndarray:
    """E[x|z] for codes (N, D), as images (N, 28, 28) float32 in [0, 1], decoded ``batch_size`` at a time."""
    zt = torch.as_tensor(np.atleast_2d(np.asarray(z, dtype=np.float32)))
    outs = [model.decoder_mean(zt[i : i + batch_size]) for i in range(0, len(zt), batch_size)]
    return torch.cat(outs).reshape(len(zt), 28, 28).numpy() if outs else np.zeros((0, 28, 28), np.float32)


def prior_samples(latent_dim: int, n: int, seed: int = 0) -> np.ndarray:
    """n codes z ~ N(0, I), (n, latent_dim) float32, from a fixed seed."""
    return np.random.default_rng(seed).standard_normal((n, latent_dim)).astype(np.float32)


# ------------------------------------------------------------------------------------------------ samplers


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


# ---------------------------------------------------------------------------------------------------- paths


@dataclass(frozen=True)
class PathSmoothness:
    """Pixel distances between consecutive decoded steps of straight latent paths, each divided by the
    distance between the path's two end images. Lower is better; a perfectly even morph gives ``even_step``
    for both, and a path with one jump has a ``max_step`` near 1."""

    mean_step: float  # mean over paths of (mean step / end-to-end distance)
    max_step: float  # mean over paths of (largest step / end-to-end distance)
    even_step: float  # 1 / (n_steps - 1)
    worst_pair: tuple[int, int]  # indices (into the codes) of the path with the largest relative jump
    n_pairs: int
    n_steps: int


def interpolate(a: np.ndarray, b: np.ndarray, n_steps: int) -> np.ndarray:
    """Codes (n_steps, D) evenly spaced on the straight line from a to b, ends included."""
    t = np.linspace(0.0, 1.0, n_steps, dtype=np.float32)[:, None]
    return (1 - t) * np.asarray(a, np.float32) + t * np.asarray(b, np.float32)


def path_smoothness(
    model: Decodes, codes: np.ndarray, n_pairs: int = 100, n_steps: int = 16, seed: int = 0
) -> PathSmoothness:
    """Decode ``n_pairs`` straight paths between random pairs of ``codes`` in ``n_steps`` steps and measure
    the jumps. A decoder that ignores z has paths of length 0 (both numbers 0)."""
    if n_steps < 2 or len(codes) < 2:
        raise ValueError(f"need at least 2 steps and 2 codes (got {n_steps} steps, {len(codes)} codes)")
    rng = np.random.default_rng(seed)
    i = rng.integers(0, len(codes), n_pairs)
    j = (i + rng.integers(1, len(codes), n_pairs)) % len(codes)  # j != i
    z = np.stack([interpolate(codes[a], codes[b], n_steps) for a, b in zip(i, j, strict=True)])  # (P, S, D)
    x = decode_means(model, z.reshape(-1, z.shape[-1])).reshape(n_pairs, n_steps, -1).astype(np.float64)
    steps = np.linalg.norm(np.diff(x, axis=1), axis=-1)  # (P, S-1)
    ends = np.linalg.norm(x[:, -1] - x[:, 0], axis=-1)  # (P,)
    rel = steps / np.maximum(ends, 1e-6)[:, None]
    worst = int(rel.max(axis=1).argmax())
    return PathSmoothness(
        mean_step=float(rel.mean()),
        max_step=float(rel.max(axis=1).mean()),
        even_step=1.0 / (n_steps - 1),
        worst_pair=(int(i[worst]), int(j[worst])),
        n_pairs=n_pairs,
        n_steps=n_steps,
    )


# ---------------------------------------------------------------------------------------------------- holes


def nearest_distances(queries: np.ndarray, points: np.ndarray, exclude_self: bool = False) -> np.ndarray:
    """Euclidean distance from each query to its nearest point (N,); ``exclude_self`` when queries are points."""
    q, p = torch.as_tensor(queries, dtype=torch.float64), torch.as_tensor(points, dtype=torch.float64)
    out = []
    for s in range(0, len(q), 1000):
        d = torch.cdist(q[s : s + 1000], p)
        if exclude_self:
            idx = torch.arange(s, min(s + 1000, len(q)))
            d[idx - s, idx] = float("inf")
        out.append(d.min(dim=1).values)
    return torch.cat(out).numpy()


@dataclass(frozen=True)
class Holes:
    """How much of where a sampler puts its mass is far from the data. Lower ``hole_share`` is better."""

    hole_share: float  # share of samples whose nearest data code is further than `radius`
    radius: float  # the `quantile` of the data codes' distances to their own nearest neighbour
    quantile: float


def hole_share(samples: np.ndarray, data_codes: np.ndarray, quantile: float = 0.95) -> Holes:
    """A sample is in a hole when its nearest data code is further away than all but ``1 - quantile`` of the
    data codes are from their nearest neighbour. Codes spread like the samples score about ``1 - quantile``
    (0.05): that is "no holes"; well-separated clusters under a broad sampler score near 1."""
    radius = float(np.quantile(nearest_distances(data_codes, data_codes, exclude_self=True), quantile))
    far = nearest_distances(samples, data_codes) > radius
    return Holes(hole_share=float(far.mean()), radius=radius, quantile=quantile)


def posterior_samples(mu: np.ndarray, logvar: np.ndarray | None, seed: int = 0) -> np.ndarray:
    """One code per image, z ~ q(z|x) (the VAE's data occupy these clouds); the autoencoder's codes are mu."""
    if logvar is None:
        return np.asarray(mu, np.float32)
    eps = np.random.default_rng(seed).standard_normal(np.shape(mu))
    return (mu + np.exp(0.5 * logvar) * eps).astype(np.float32)


def aggregate_posterior_kl(mu: np.ndarray, logvar: np.ndarray, n_samples: int = 2000, seed: int = 0) -> float:
    """KL(q(z) || N(0, I)) for the aggregate posterior q(z) = 1/N sum_n N(z; mu_n, sigma_n^2), by Monte Carlo:

        KL = E_{z ~ q}[log q(z) - log p(z)],  log q(z) = logsumexp_n log N(z; mu_n, sigma_n^2) - log N

    0 when the codes' mixture is the prior (lower is better). With N test images, q is itself an estimate and
    the value can be too high by up to log N; Monte Carlo noise can dip below 0, which is reported as 0 (a KL
    never is negative). The autoencoder has no q (its codes are points): no value.
    """
    mu_t, lv = torch.as_tensor(mu, dtype=torch.float64), torch.as_tensor(logvar, dtype=torch.float64)
    gen = torch.Generator().manual_seed(seed)
    comp = torch.randint(0, len(mu_t), (n_samples,), generator=gen)
    eps = torch.randn((n_samples, mu_t.shape[1]), generator=gen, dtype=torch.float64)
    z = mu_t[comp] + torch.exp(0.5 * lv[comp]) * eps
    log_2pi = math.log(2 * math.pi)
    log_q = []
    for s in range(0, n_samples, 250):
        zs = z[s : s + 250, None, :]  # (b, 1, D) against every component (1, N, D)
        log_n = -0.5 * (log_2pi + lv[None] + (zs - mu_t[None]) ** 2 * torch.exp(-lv[None])).sum(-1)
        log_q.append(torch.logsumexp(log_n, dim=1) - math.log(len(mu_t)))
    log_p = -0.5 * (log_2pi + z**2).sum(-1)
    return max(0.0, float((torch.cat(log_q) - log_p).mean()))


# ---------------------------------------------------------------------------------- units and reconstruction


@dataclass(frozen=True)
class ActiveUnits:
    """Burda et al. (2016): dimension u is active when Cov_x(E_q[z_u]) > threshold (the code moves with x)."""

    count: int
    variances: np.ndarray  # (D,) variance over the data of each dimension's mean code
    threshold: float


def active_units(mu: np.ndarray, threshold: float = 0.01) -> ActiveUnits:
    """Count the dimensions whose mean code varies across images by more than ``threshold``."""
    var = np.asarray(mu, dtype=np.float64).var(axis=0)
    return ActiveUnits(count=int((var > threshold).sum()), variances=var, threshold=threshold)


def mean_kl_per_dimension(mu: np.ndarray, logvar: np.ndarray) -> np.ndarray:
    """KL(q(z_j|x) || N(0, 1)) averaged over images, one value per latent dimension (D,), in nats. A dimension
    with ~0 KL carries no information about x (it is 'collapsed' onto the prior)."""
    kl = kl_per_dimension(torch.as_tensor(mu, dtype=torch.float64), torch.as_tensor(logvar, dtype=torch.float64))
    return kl.mean(dim=0).numpy()


def reconstruction_mse(model: Decodes, mu: np.ndarray, images: np.ndarray) -> float:
    """Mean squared pixel error between images and the decoder means of their codes ``mu``. Lower is better."""
    recon = decode_means(model, mu)
    return float(((recon - np.asarray(images, np.float32).reshape(recon.shape)) ** 2).mean())
