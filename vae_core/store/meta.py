"""What a checkpoint says about itself besides its config: data, training, test metrics. One typed record, written by
the CLI, the Train page and the upload import alike, and read back tolerantly (anyone can write a file's metadata)."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from ..config import ModelConfig, TrainConfig, describe

# The test metrics the app shows (nats per image): reconstruction, KL, ELBO, and the IWAE estimate of -log p(x).
METRIC_NAMES = ("test_recon", "test_kl", "test_elbo", "test_iwae_nll", "iwae_k")


def _number(value: Any) -> float | None:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    return float(value) if ok else None


def _whole(value: Any, high: int = 10_000_000) -> int | None:
    ok = isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= high
    return value if ok else None


def _text(value: Any, max_len: int = 200) -> str | None:
    return value[:max_len] if isinstance(value, str) else None


@dataclass(frozen=True)
class CheckpointMeta:
    """A checkpoint's metadata. ``kind``, ``beta`` and ``latent_dim`` repeat the config so a folder can be listed from
    the headers alone; ``history`` holds one row of loss terms per epoch (the Train page's curves)."""

    dataset: str = "?"
    kind: str = "vae"
    description: str = ""
    beta: float = 1.0
    latent_dim: int = 0
    epochs: int | None = None
    seed: int | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    history: list[dict[str, float]] = field(default_factory=list)
    train_config: dict[str, Any] | None = None
    train_seconds: float | None = None
    weights_dtype: str | None = None  # "float16" or "float32": how the weights are stored
    trained_in: str | None = None  # "app" for the Train page; None for the CLI
    uploaded: bool = False  # imported from a user's file: only what could be checked was kept
    code_version: str | None = None

    @classmethod
    def for_model(cls, config: ModelConfig, dataset: str, **values: Any) -> CheckpointMeta:
        """The metadata of a model built from ``config``, trained on ``dataset``; ``values`` fill the other fields."""
        description = values.pop("description", describe(config))
        return cls(dataset, config.kind, description, config.beta, config.latent_dim, **values)

    @classmethod
    def for_training(
        cls,
        config: ModelConfig,
        train_config: TrainConfig,
        history: list[dict[str, float]],
        test: dict[str, float] | None,
        **values: Any,
    ) -> CheckpointMeta:
        """After a training run: epochs, seed, settings, the loss history and the test metrics (rounded)."""
        metrics = {f"test_{k}": round(v, 4) for k, v in (test or {}).items()} | values.pop("metrics", {})
        return cls.for_model(
            config,
            train_config.dataset,
            epochs=len(history),
            seed=train_config.seed,
            train_config=train_config.to_dict(),
            metrics=metrics,
            history=list(history),
            **values,
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready; fields never set (None, empty, False) are left out."""
        unset = lambda v: v is None or v is False or (isinstance(v, list | dict) and not v)  # noqa: E731
        return {k: v for k, v in asdict(self).items() if not unset(v)}

    @classmethod
    def from_dict(cls, d: Any) -> CheckpointMeta:
        """Read metadata anyone may have written: fields of the wrong type or range are dropped, unknown ones ignored,
        text is cut to a sensible length. Never raises."""
        d = d if isinstance(d, dict) else {}
        metrics = d.get("metrics") if isinstance(d.get("metrics"), dict) else {}
        history = d.get("history") if isinstance(d.get("history"), list) else []
        values: dict[str, Any] = {
            "dataset": _text(d.get("dataset"), 64) or "?",
            "kind": d.get("kind") if d.get("kind") in ("vae", "ae") else "vae",
            "description": _text(d.get("description")) or "",
            "beta": _number(d.get("beta")) if _number(d.get("beta")) is not None else 1.0,
            "latent_dim": _whole(d.get("latent_dim"), 64) or 0,
            "epochs": _whole(d.get("epochs")),
            "seed": _whole(d.get("seed"), 2**32),
            "metrics": {k: v for k in METRIC_NAMES if (v := _number(metrics.get(k))) is not None},
            "history": [row for row in history[:100_000] if isinstance(row, dict)],
            "train_config": d.get("train_config") if isinstance(d.get("train_config"), dict) else None,
            "train_seconds": _number(d.get("train_seconds")),
            "weights_dtype": d.get("weights_dtype") if d.get("weights_dtype") in ("float16", "float32") else None,
            "trained_in": _text(d.get("trained_in"), 20),
            "uploaded": d.get("uploaded") is True,
            "code_version": _text(d.get("code_version"), 20),
        }
        return cls(**values)

    def as_uploaded(self, config: ModelConfig, dataset: str) -> CheckpointMeta:
        """What is kept of an uploaded file's metadata: computed from its config, plus only what we can check
        (epochs, test metrics). Free text, history and settings are dropped: they would be shown to everyone."""
        return replace(
            CheckpointMeta.for_model(config, dataset, description=f"{describe(config)}, uploaded"),
            epochs=self.epochs,
            metrics=dict(self.metrics),
            uploaded=True,
        )
