"""How a latent space is filled: metrics that score any checkpoint, VAE and plain autoencoder alike.

Each function answers one question of the Smoothness lab, and its docstring says which value is better:

- ``hole_share``: how much of a region (``regions.py``) lies far from every data code?
- ``aggregate_posterior_kl``, ``GaussianFit.kl_to_prior``: how far the codes as a whole are from N(0, I)
- ``active_units``, ``mean_kl_per_dimension``: which latent dimensions carry information
- ``reconstruction_errors``: how well images come back (the one the autoencoder wins)

Paths between codes are in ``paths.py``; whether decoded codes look like data in ``validity.py`` and
``realism.py``. Functions that feed an interval return one value per row (sample, image), so ``intervals.py`` can
resample them.

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

    far: np.ndarray  # (N,) bool: the sample's nearest data code is further than `radius`
    radius: float  # the `quantile` of the data codes' distances to their own nearest neighbour
    quantile: float

    @property
    def hole_share(self) -> float:
        return float(self.far.mean()) if len(self.far) else 0.0


def hole_radius(data_codes: np.ndarray, quantile: float = 0.95) -> float:
    """The ``quantile`` of the data codes' distances to their nearest other data code."""
    return float(np.quantile(nearest_distances(data_codes, data_codes, exclude_self=True), quantile))


def hole_share(samples: np.ndarray, data_codes: np.ndarray, quantile: float = 0.95) -> Holes:
    """A sample is in a hole when its nearest data code is further away than all but ``1 - quantile`` of the
    data codes are from their nearest neighbour. Codes spread like the samples score about ``1 - quantile``
    (0.05): that is "no holes"; well-separated clusters under a broad sampler score near 1. The rule is relative
    to the codes' own spacing, so it does not depend on the scale of a latent space."""
    radius = hole_radius(data_codes, quantile)
    return Holes(far=nearest_distances(samples, data_codes) > radius, radius=radius, quantile=quantile)


def posterior_samples(mu: np.ndarray, logvar: np.ndarray | None, seed: int = 0) -> np.ndarray:
    """One code per image, z ~ q(z|x) (the VAE's data occupy these clouds); the autoencoder's codes are mu."""
    if logvar is None:
        return np.asarray(mu, np.float32)
    eps = np.random.default_rng(seed).standard_normal(np.shape(mu))
    return (mu + np.exp(0.5 * logvar) * eps).astype(np.float32)


def aggregate_posterior_kl(mu: np.ndarray, logvar: np.ndarray, n_samples: int = 2000, seed: int = 0) -> np.ndarray:
    """KL(q(z) || N(0, I)) for the aggregate posterior q(z) = 1/N sum_n N(z; mu_n, sigma_n^2), by Monte Carlo:

        KL = E_{z ~ q}[log q(z) - log p(z)],  log q(z) = logsumexp_n log N(z; mu_n, sigma_n^2) - log N

    0 when the codes' mixture is the prior (lower is better). With N test images, q is itself an estimate and
    the value can be too high by up to log N; Monte Carlo noise can dip below 0 (a KL never is negative: report
    max(0, mean)). The autoencoder has no q (its codes are points): no value. Returns the ``n_samples`` terms
    log q(z) - log p(z), whose mean is the estimate.
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
    return (torch.cat(log_q) - log_p).numpy()


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


def reconstruction_errors(model: Decodes, mu: np.ndarray, images: np.ndarray) -> np.ndarray:
    """Mean squared pixel error of each image against the decoder mean of its code ``mu``, (N,). Lower is better."""
    recon = decode_means(model, mu)
    return ((recon - np.asarray(images, np.float32).reshape(recon.shape)) ** 2).reshape(len(recon), -1).mean(axis=1)
