"""The two convolutional networks shared by the VAE and the plain autoencoder (28x28 grayscale images).

Encoder: 28 -> 14 -> 7 -> 4 (three stride-2 convolutions), a hidden layer, then 2 * latent_dim outputs
(mu and log-variance; the autoencoder uses only mu). Decoder: the mirror image, ending in one logit or mean
per pixel. The browser's decoder (``ui/live_pad_decoder.js``) implements exactly this decoder; keep them in step.
"""

from __future__ import annotations

import torch
from torch import nn

from .config import ModelConfig


class Encoder(nn.Module):
    """x (B, 1, 28, 28) in [0, 1] -> (B, 2 * latent_dim): mu, then log sigma^2 of the diagonal q(z|x)."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        c1, c2, c3 = config.channels
        self.conv = nn.Sequential(
            nn.Conv2d(1, c1, kernel_size=4, stride=2, padding=1),  # 28 -> 14
            nn.ReLU(),
            nn.Conv2d(c1, c2, kernel_size=4, stride=2, padding=1),  # 14 -> 7
            nn.ReLU(),
            nn.Conv2d(c2, c3, kernel_size=3, stride=2, padding=1),  # 7 -> 4
            nn.ReLU(),
            nn.Flatten(),
        )
        self.fc = nn.Sequential(nn.Linear(c3 * 4 * 4, config.hidden), nn.ReLU())
        self.head = nn.Linear(config.hidden, 2 * config.latent_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.fc(self.conv(x)))


class Decoder(nn.Module):
    """z (B, latent_dim) -> (B, 1, 28, 28) pre-activation: Bernoulli logits, or the Gaussian mean's logit."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        c1, c2, c3 = config.channels
        self.c3 = c3
        self.fc = nn.Sequential(
            nn.Linear(config.latent_dim, config.hidden),
            nn.ReLU(),
            nn.Linear(config.hidden, c3 * 4 * 4),
            nn.ReLU(),
        )
        self.deconv = nn.Sequential(
            nn.ConvTranspose2d(c3, c2, kernel_size=3, stride=2, padding=1),  # 4 -> 7
            nn.ReLU(),
            nn.ConvTranspose2d(c2, c1, kernel_size=4, stride=2, padding=1),  # 7 -> 14
            nn.ReLU(),
            nn.ConvTranspose2d(c1, 1, kernel_size=4, stride=2, padding=1),  # 14 -> 28
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = self.fc(z).view(-1, self.c3, 4, 4)
        return self.deconv(h)
