"""Typed, frozen configurations: one builds a model, one describes a training run."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal

ModelKind = Literal["vae", "ae"]
Likelihood = Literal["bernoulli", "gaussian"]

MODEL_KINDS: tuple[str, ...] = ("vae", "ae")
LIKELIHOODS: tuple[str, ...] = ("bernoulli", "gaussian")
LATENT_DIM_RANGE = (1, 64)
# Physical range of a Gaussian decoder's per-pixel log-variance: exp(-20) is sigma 5e-5 (of a [0, 1] pixel), exp(5)
# sigma 12; anything beyond overflows or underflows float32 arithmetic in the likelihood and in sampling.
LOGVAR_RANGE = (-20.0, 5.0)
# The architecture is fixed to 28x28 single-channel images (every dataset in the registry yields them).
IMAGE_SIZE = 28


class ConfigError(ValueError):
    """A configuration value is out of range; the message says which and what is allowed."""


def _check_range(name: str, value: float, low: float, high: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConfigError(f"{name} must be a finite number between {low} and {high} (got {value!r})")
    if not low <= value <= high:
        raise ConfigError(f"{name} must be between {low} and {high} (got {value})")


def _check_int(name: str, value: int, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{name} must be a whole number between {low} and {high} (got {value!r})")
    _check_range(name, value, low, high)


@dataclass(frozen=True)
class ModelConfig:
    """Everything needed to build a model; the model is built from this alone.

    ``kind="ae"`` is the plain autoencoder: the same networks, no sampling, no KL.
    ``beta`` weighs the KL term (beta-VAE, Higgins et al. 2017): 0 trains reconstruction only, and
    ``recon_weight=0`` with ``beta=1`` trains the KL term only (the collapsed extreme of the classic illustration).
    """

    kind: ModelKind = "vae"
    latent_dim: int = 16
    likelihood: Likelihood = "bernoulli"
    beta: float = 1.0
    # Weight of E_q[log p(x|z)]; 1 for every real model, 0 only for the "KL only" illustration.
    recon_weight: float = 1.0
    # Conv channels of the two stride-2 stages (28->14->7) and the third stage (7->4).
    channels: tuple[int, int, int] = (32, 64, 64)
    hidden: int = 256
    # Gaussian decoders learn one log-variance per pixel, clamped so the likelihood cannot blow up on
    # pixels that are always 0 (MNIST borders): exp(-7) ~ sigma 0.03 is already a very sharp Gaussian.
    logvar_min: float = -7.0
    logvar_max: float = 2.0

    def __post_init__(self) -> None:
        if self.kind not in MODEL_KINDS:
            raise ConfigError(f"kind must be one of {', '.join(MODEL_KINDS)} (got {self.kind!r})")
        if self.likelihood not in LIKELIHOODS:
            raise ConfigError(f"likelihood must be one of {', '.join(LIKELIHOODS)} (got {self.likelihood!r})")
        _check_int("latent_dim", self.latent_dim, *LATENT_DIM_RANGE)
        _check_range("beta", self.beta, 0.0, 1000.0)
        _check_range("recon_weight", self.recon_weight, 0.0, 1.0)
        if len(self.channels) != 3:
            raise ConfigError(f"channels must list 3 numbers (got {self.channels!r})")
        for c in self.channels:
            _check_int("channels", c, 1, 512)
        _check_int("hidden", self.hidden, 1, 4096)
        _check_range("logvar_min", self.logvar_min, *LOGVAR_RANGE)
        _check_range("logvar_max", self.logvar_max, *LOGVAR_RANGE)
        if not self.logvar_min < self.logvar_max:
            raise ConfigError(f"logvar_min must be below logvar_max (got {self.logvar_min} and {self.logvar_max})")

    @property
    def is_vae(self) -> bool:
        return self.kind == "vae"

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["channels"] = list(self.channels)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ModelConfig:
        if not isinstance(d, dict):
            raise ConfigError("model config must be a JSON object")
        known = {f.name for f in fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ConfigError(f"unknown model config fields: {', '.join(sorted(unknown))}")
        d = dict(d)
        if "channels" in d:
            if not isinstance(d["channels"], (list, tuple)):
                raise ConfigError("channels must be a list of 3 numbers")
            d["channels"] = tuple(d["channels"])
        return cls(**d)


@dataclass(frozen=True)
class TrainConfig:
    """A training run. Seeded: the same config on the same machine gives the same model."""

    dataset: str = "mnist5k"
    epochs: int = 30
    batch_size: int = 64
    lr: float = 1e-3
    seed: int = 0
    # Monte Carlo samples of z per image for E_q[log p(x|z)]; 1 is the usual choice for training.
    mc_samples: int = 1
    # Linear KL warm-up (Bowman et al. 2016; Sonderby et al. 2016): beta ramps from 0 over this many epochs.
    kl_warmup_epochs: int = 0
    # Dynamic binarization (x ~ Bernoulli(pixel)) each epoch: the standard protocol for Bernoulli VAEs on
    # MNIST, and a strong regulariser on 4,500 images. Evaluation uses one fixed, seeded binarization.
    binarize: bool = True
    # Cap on the number of training images (None = all): tests and quick demos train on a few.
    max_train: int | None = None
    eval_mc_samples: int = 1
    # "cosine" anneals the learning rate to 10% of ``lr`` over the run (a few nats better at the end).
    lr_schedule: str = "constant"
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        _check_int("epochs", self.epochs, 1, 10_000)
        _check_int("batch_size", self.batch_size, 1, 4096)
        _check_range("lr", self.lr, 1e-7, 1.0)
        _check_int("seed", self.seed, 0, 2**31 - 1)
        _check_int("mc_samples", self.mc_samples, 1, 1000)
        _check_int("kl_warmup_epochs", self.kl_warmup_epochs, 0, 10_000)
        _check_int("eval_mc_samples", self.eval_mc_samples, 1, 1000)
        if self.max_train is not None:
            _check_int("max_train", self.max_train, 1, 10_000_000)
        if self.lr_schedule not in ("constant", "cosine"):
            raise ConfigError(f"lr_schedule must be 'constant' or 'cosine' (got {self.lr_schedule!r})")
        if not isinstance(self.dataset, str) or not self.dataset:
            raise ConfigError("dataset must be a dataset name, e.g. 'mnist5k'")

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("extra")
        return d


def describe(config: ModelConfig) -> str:
    """A short human name for the kind of model: 'VAE', 'beta-VAE (beta=4)', 'KL only', 'autoencoder'."""
    if not config.is_vae:
        return "autoencoder"
    if config.recon_weight == 0:
        return "KL only"
    if config.beta == 0:
        return "reconstruction only (beta=0)"
    return "VAE" if config.beta == 1 else f"beta-VAE (beta={config.beta:g})"
