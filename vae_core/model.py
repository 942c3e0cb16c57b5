"""The VAE (Kingma & Welling 2014) and its plain-autoencoder twin: one module, built from a ModelConfig."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from .config import ModelConfig
from .networks import Decoder, Encoder


@dataclass
class VAEOutput:
    """What one forward pass produced (named, so callers never unpack bare tuples)."""

    logits: torch.Tensor  # (B, 1, 28, 28) decoder pre-activation for z
    mu: torch.Tensor  # (B, D) mean of q(z|x); the autoencoder's code
    logvar: torch.Tensor | None  # (B, D) log sigma^2 of q(z|x); None for the autoencoder
    z: torch.Tensor  # (B, D) the code that was decoded

    @property
    def reconstruction(self) -> torch.Tensor:
        """The decoder's mean image E[x|z] in [0, 1]."""
        return torch.sigmoid(self.logits)


class VAE(nn.Module):
    """Encoder q(z|x) = N(mu(x), diag sigma^2(x)), decoder p(x|z), prior p(z) = N(0, I).

    With ``config.kind == "ae"`` the same networks form a deterministic autoencoder: ``encode`` returns no
    variance, ``reparameterize`` returns mu unchanged, and training has no KL term.
    """

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        self.encoder = Encoder(config)
        self.decoder = Decoder(config)
        if config.likelihood == "gaussian":
            # One learned log-variance per pixel, shared over z (the decoder predicts the mean).
            self.decoder_logvar = nn.Parameter(torch.full((1, 1, 28, 28), -2.0))

    @property
    def latent_dim(self) -> int:
        return self.config.latent_dim

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """x (B, 1, 28, 28) -> (mu, logvar) of q(z|x); logvar is None for the autoencoder."""
        h = self.encoder(x)
        mu, logvar = h.chunk(2, dim=-1)
        if not self.config.is_vae:
            return mu, None
        return mu, logvar.clamp(-12.0, 8.0)

    def reparameterize(
        self,
        mu: torch.Tensor,
        logvar: torch.Tensor | None,
        n_samples: int = 1,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """z = mu + sigma * eps, eps ~ N(0, I) (the reparameterization trick, Kingma & Welling 2014, eq. 10).

        Returns (n_samples * B, D), sample-major. The autoencoder (logvar None) returns mu repeated.
        """
        if logvar is None:
            return mu.repeat(n_samples, 1)
        mu_s = mu.repeat(n_samples, 1)
        std = torch.exp(0.5 * logvar).repeat(n_samples, 1)
        eps = torch.randn(mu_s.shape, generator=generator, device=mu.device, dtype=mu.dtype)
        return mu_s + std * eps

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """z (B, D) -> decoder pre-activation (B, 1, 28, 28): Bernoulli logits or the Gaussian mean's logit."""
        return self.decoder(z)

    def decoder_mean(self, z: torch.Tensor) -> torch.Tensor:
        """E[x|z] in [0, 1]: the Bernoulli probabilities, or the Gaussian mean."""
        return torch.sigmoid(self.decode(z))

    def decoder_std(self) -> torch.Tensor | None:
        """Per-pixel sigma of the Gaussian p(x|z) (None for Bernoulli)."""
        if self.config.likelihood != "gaussian":
            return None
        lo, hi = self.config.logvar_min, self.config.logvar_max
        return torch.exp(0.5 * self.decoder_logvar.clamp(lo, hi))

    def sample_x(self, z: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Draw x ~ p(x|z) (not just its mean): Bernoulli pixels, or mean + sigma * noise clipped to [0, 1]."""
        mean = self.decoder_mean(z)
        if self.config.likelihood == "bernoulli":
            u = torch.rand(mean.shape, generator=generator, device=mean.device, dtype=mean.dtype)
            return (u < mean).to(mean.dtype)
        noise = torch.randn(mean.shape, generator=generator, device=mean.device, dtype=mean.dtype)
        return (mean + self.decoder_std() * noise).clamp(0.0, 1.0)

    def sample_prior(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """z ~ N(0, I), shape (n, D)."""
        device = next(self.parameters()).device
        return torch.randn((n, self.latent_dim), generator=generator, device=device)

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None) -> VAEOutput:
        mu, logvar = self.encode(x)
        z = self.reparameterize(mu, logvar, generator=generator) if self.training else mu
        return VAEOutput(logits=self.decode(z), mu=mu, logvar=logvar, z=z)


def as_tensor(images: np.ndarray | torch.Tensor) -> torch.Tensor:
    """(N, 28, 28) or (N, 1, 28, 28) images in [0, 1] -> float32 (N, 1, 28, 28)."""
    if isinstance(images, np.ndarray) and not images.flags.writeable:
        images = images.astype(np.float32, copy=True)  # the app's shared arrays are read-only
    t = torch.as_tensor(images, dtype=torch.float32)
    return t.unsqueeze(1) if t.dim() == 3 else t


def build_model(config: ModelConfig) -> VAE:
    """The one constructor: a model from its config."""
    return VAE(config)


def default_device() -> torch.device:
    """A GPU when one exists, else the CPU (called by scripts, never at import)."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")
