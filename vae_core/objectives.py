"""The objectives: log p(x|z), the analytic KL, the ELBO (per image, in nats) and the IWAE bound."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from .model import VAE

LOG_2PI = math.log(2.0 * math.pi)


@dataclass
class LossTerms:
    """Per-image terms of one batch, in nats (shape (B,) each), plus the scalar that training minimises.

    ``elbo = -recon_nll - kl``: the evidence lower bound on log p(x). For the autoencoder ``kl`` is zero and
    ``elbo`` is just -recon_nll (it bounds nothing: the AE has no prior).
    """

    recon_nll: torch.Tensor  # -E_q[log p(x|z)], Monte Carlo
    kl: torch.Tensor  # KL(q(z|x) || N(0, I)), analytic
    elbo: torch.Tensor
    loss: torch.Tensor  # scalar: mean over the batch of recon_weight * recon_nll + beta * kl

    def means(self) -> dict[str, float]:
        """Batch means as plain floats, for logging and plotting."""
        return {
            "recon": float(self.recon_nll.detach().mean()),
            "kl": float(self.kl.detach().mean()),
            "elbo": float(self.elbo.detach().mean()),
            "loss": float(self.loss.detach()),
        }


def log_likelihood(model: VAE, x: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
    """log p(x|z) summed over pixels, per image: (S*B, 1, 28, 28) -> (S*B,).

    Bernoulli: sum_i x_i log p_i + (1 - x_i) log(1 - p_i), with p = sigmoid(logits) (stable form).
    Gaussian: sum_i log N(x_i; sigmoid(logit_i), sigma_i^2) with the decoder's learned per-pixel sigma.
    """
    if model.config.likelihood == "bernoulli":
        ll = -F.binary_cross_entropy_with_logits(logits, x, reduction="none")
    else:
        lo, hi = model.config.logvar_min, model.config.logvar_max
        logvar = model.decoder_logvar.clamp(lo, hi)
        mean = torch.sigmoid(logits)
        ll = -0.5 * (LOG_2PI + logvar + (x - mean) ** 2 * torch.exp(-logvar))
    return ll.flatten(1).sum(dim=1)


def kl_divergence(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, diag exp(logvar)) || N(0, I)) per image, in closed form (Kingma & Welling 2014, Appendix B):

    KL = 1/2 * sum_j (mu_j^2 + sigma_j^2 - 1 - log sigma_j^2)
    """
    return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).sum(dim=-1)


def kl_per_dimension(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """The same KL, not summed: (B, D), which latent dimensions carry information."""
    return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar)


def elbo(
    model: VAE,
    x: torch.Tensor,
    n_samples: int = 1,
    beta: float | None = None,
    generator: torch.Generator | None = None,
) -> LossTerms:
    """The ELBO E_q[log p(x|z)] - KL(q(z|x) || p(z)) per image.

    The expectation is a Monte Carlo average over ``n_samples`` reparameterized draws of z; the KL is exact.
    ``beta`` (default: the model's) weighs the KL in ``loss`` only; ``elbo`` is always the true bound.
    """
    beta = model.config.beta if beta is None else beta
    mu, logvar = model.encode(x)
    z = model.reparameterize(mu, logvar, n_samples=n_samples, generator=generator)
    logits = model.decode(z)
    x_rep = x.repeat(n_samples, 1, 1, 1)
    ll = log_likelihood(model, x_rep, logits).view(n_samples, -1).mean(dim=0)
    recon_nll = -ll
    if logvar is None:
        kl = torch.zeros_like(recon_nll)
        loss = recon_nll.mean()
    else:
        kl = kl_divergence(mu, logvar)
        loss = (model.config.recon_weight * recon_nll + beta * kl).mean()
    return LossTerms(recon_nll=recon_nll, kl=kl, elbo=-recon_nll - kl, loss=loss)


@torch.no_grad()
def iwae_bound(
    model: VAE,
    x: torch.Tensor,
    k: int = 1000,
    chunk: int = 250,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Importance-weighted bound (Burda et al. 2016) on log p(x), per image: (B,) in nats.

        log p(x) >= E[log 1/K sum_k p(x, z_k) / q(z_k|x)],  z_k ~ q(z|x)

    K = 1 is the ELBO (with one sample); the bound tightens as K grows, so with large K it estimates the test
    log-likelihood. Samples are drawn ``chunk`` at a time to bound memory. Only defined for the VAE.
    """
    if not model.config.is_vae:
        raise ValueError("the IWAE bound needs a VAE (the plain autoencoder has no q(z|x) or prior)")
    if k < 1:
        raise ValueError(f"k must be at least 1 (got {k})")
    mu, logvar = model.encode(x)
    std = torch.exp(0.5 * logvar)
    log_ws = []
    done = 0
    while done < k:
        s = min(chunk, k - done)
        eps = torch.randn((s, *mu.shape), generator=generator, device=mu.device, dtype=mu.dtype)
        z = mu + std * eps  # (s, B, D)
        logits = model.decode(z.reshape(-1, mu.shape[-1]))
        ll = log_likelihood(model, x.repeat(s, 1, 1, 1), logits).view(s, -1)
        log_pz = -0.5 * (z.pow(2) + LOG_2PI).sum(-1)
        log_qz = -0.5 * (eps.pow(2) + LOG_2PI + logvar).sum(-1)
        log_ws.append(ll + log_pz - log_qz)
        done += s
    log_w = torch.cat(log_ws, dim=0)
    return torch.logsumexp(log_w, dim=0) - math.log(k)
