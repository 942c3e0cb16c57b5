"""What a training job is asked to do (``JobSpec``), where it stands (``JobStatus``) and what it shows while it runs
(``JobSnapshot``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

import numpy as np

from ..config import ConfigError, ModelConfig, TrainConfig
from ..store.checkpoints import validate_name

MAX_APP_EPOCHS = 200  # a training started from a web page must end in minutes, not days
# The Train page's quick option, sized by measurement (mnist5k, one torch thread, as the server runs it). A new model
# first draws the same grey average for every image for a number of *steps* (batches), not of images: ~200 steps of
# 32 images, ~300 of 64, so batches of 32 end the blob within the second epoch. After 6 epochs (844 steps) the shipped
# classifier reads the test images' reconstructions as their own digit for 2-D VAE 38%, 2-D AE 52%, 16-D VAE 79% of
# them (the shipped, fully trained models: 56%, 60%, 93%). The old quick choice, 5 epochs of 1,000 images in batches
# of 64 (80 steps), never left the grey blob. Time for the 2-D VAE: 44 s on 2 cores (load average 2), 180 s when
# other work kept the load at 13.
QUICK_TRAINING = TrainConfig(epochs=6, batch_size=32)


class JobStatus(StrEnum):
    QUEUED = "queued"  # waiting for a free slot
    RUNNING = "running"
    SAVED = "saved"  # trained and saved as a checkpoint
    UNSAVED = "unsaved"  # trained, but saving failed (e.g. the name was taken meanwhile): save() may retry
    STOPPED = "stopped"  # the loss became NaN/inf; the model holds its last good weights, save() keeps them
    CANCELLED = "cancelled"  # stopped by the user (or a closed tab); save() keeps what it learned, if it trained
    FAILED = "failed"  # something unexpected; the message says what

    @property
    def active(self) -> bool:
        return self in (JobStatus.QUEUED, JobStatus.RUNNING)


@dataclass(frozen=True)
class JobSpec:
    """What to train and where to save it. Validated on construction (ConfigError, CheckpointError)."""

    name: str
    model_config: ModelConfig
    train_config: TrainConfig
    out_dir: Path
    preview_count: int = 8  # fixed test images whose reconstructions are shown while training

    def __post_init__(self) -> None:
        validate_name(self.name)
        if self.train_config.epochs > MAX_APP_EPOCHS:
            raise ConfigError(
                f"epochs must be at most {MAX_APP_EPOCHS} for a training started in the app "
                f"(got {self.train_config.epochs}); use python -m vae_core.cli.train for longer runs"
            )

    @property
    def path(self) -> Path:
        return Path(self.out_dir) / f"{self.name}.safetensors"


@dataclass(frozen=True, eq=False)
class JobSnapshot:
    """A consistent copy of a job's state at one moment (safe to read while the job goes on)."""

    job_id: str
    name: str
    status: JobStatus
    message: str
    progress: float  # 0..1
    epoch: int
    epochs: int
    history: tuple[dict[str, float], ...]  # one row per finished epoch: train_/test_ recon, kl, elbo
    windows: tuple[dict[str, float], ...]  # about one row per second: fractional "epoch", train_ recon, kl, elbo
    originals: np.ndarray | None  # (K, 28, 28) the fixed test images
    reconstructions: np.ndarray | None  # (K, 28, 28) their reconstructions by the current weights
    queue_position: int | None  # 1 = next to start; None unless queued
    running: int  # trainings running on this server right now
    limit: int
    saved_path: Path | None
    seconds: float  # training time so far
    started_at: float = field(default=0.0)  # time.time() when submitted
