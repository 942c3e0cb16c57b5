"""One image through a model: its code distribution q(z|x), reconstruction and loss terms, samples, sigma ellipses.

The Upload page shows these for a user's own digit: where it lands, how well each model rebuilds it, and (for a
VAE) that the slightly different codes z ~ q(z|x) all decode to the same digit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..model import VAE, as_tensor
from ..objectives import elbo

# Monte Carlo samples of z for the reconstruction term of one image: enough to make the number stable to ~0.1 nat.
RECON_SAMPLES = 32


@dataclass(frozen=True, eq=False)  # eq=False: arrays have no single truth value
class ImagePosterior:
    """What a model makes of one image. Loss terms are in nats for this image (the image as given: grey levels)."""

    image: np.ndarray  # (28, 28) the input
    mu: np.ndarray  # (D,) mean of q(z|x); the autoencoder's code
    logvar: np.ndarray | None  # (D,) log sigma^2 of q(z|x); None for the autoencoder
    reconstruction: np.ndarray  # (28, 28) decoder mean at z = mu
    recon_nll: float  # -E_q[log p(x|z)]
    kl: float  # KL(q(z|x) || N(0, I)); 0 for the autoencoder

    @property
    def elbo(self) -> float:
        """ELBO = E_q[log p(x|z)] - KL (for the autoencoder just the log-likelihood at its code)."""
        return -self.recon_nll - self.kl

    @property
    def sigma(self) -> np.ndarray | None:
        """Standard deviations of q(z|x), per latent dimension."""
        return None if self.logvar is None else np.exp(0.5 * self.logvar)


@torch.no_grad()
def image_posterior(model: VAE, image: np.ndarray, n_samples: int = RECON_SAMPLES, seed: int = 0) -> ImagePosterior:
    """Encode one (28, 28) image in [0, 1], reconstruct it from mu, and evaluate its ELBO terms (seeded, so the
    same image always gets the same numbers). The model is only read: no mode change, no gradients."""
    x = as_tensor(np.asarray(image, dtype=np.float32)[None])
    mu, logvar = model.encode(x)
    terms = elbo(model, x, n_samples=n_samples if logvar is not None else 1,
                 generator=torch.Generator().manual_seed(seed))  # fmt: skip
    return ImagePosterior(
        image=np.asarray(image, dtype=np.float32),
        mu=mu[0].numpy(),
        logvar=None if logvar is None else logvar[0].numpy(),
        reconstruction=model.decoder_mean(mu)[0, 0].numpy(),
        recon_nll=float(terms.recon_nll[0]),
        kl=float(terms.kl[0]),
    )


@torch.no_grad()
def posterior_samples(model: VAE, post: ImagePosterior, n: int = 8, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """n codes z = mu + sigma * eps drawn from q(z|x) and their decoder means: (n, D) codes, (n, 28, 28) images.

    Every decoded sample looks like the same digit: the decoder learned that the whole cloud means this image."""
    if post.logvar is None:
        raise ValueError("the autoencoder has no q(z|x) to sample from: it maps an image to a single point")
    mu = torch.as_tensor(post.mu)[None]
    logvar = torch.as_tensor(post.logvar)[None]
    z = model.reparameterize(mu, logvar, n_samples=n, generator=torch.Generator().manual_seed(seed))
    return z.numpy(), model.decoder_mean(z)[:, 0].numpy()


def sigma_ellipse(mu: np.ndarray, logvar: np.ndarray, k: float = 1.0, n_points: int = 72) -> np.ndarray:
    """Points (n_points, 2) on the k-sigma ellipse of a 2-D diagonal Gaussian: mu + k * sigma * (cos t, sin t).

    For q(z|x) = N(mu, diag sigma^2) this contour holds 1 - exp(-k^2 / 2) of the mass (39% at 1 sigma, 86% at 2)."""
    mu, logvar = np.asarray(mu, dtype=np.float64), np.asarray(logvar, dtype=np.float64)
    if mu.shape != (2,) or logvar.shape != (2,):
        raise ValueError(f"sigma_ellipse needs a 2-D latent (got mu of shape {mu.shape})")
    t = np.linspace(0.0, 2.0 * np.pi, n_points)
    circle = np.stack([np.cos(t), np.sin(t)], axis=1)
    return (mu + k * np.exp(0.5 * logvar) * circle).astype(np.float32)
