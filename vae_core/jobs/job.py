"""A training job beside a server: one thread, a progress snapshot to poll, cancel, and a save that never overwrites.

A job builds its own model from its config, so it can never change a model other sessions are using. It waits for
a slot (``job_registry.TrainingSlots``: at most a few trainings at once) and can tell its place in the queue. Every
job ends: it is bounded by its epochs, it can be cancelled, and it cancels itself when the owner it was started for
has been gone for a while (a closed browser tab). No UI here: the Train page polls ``TrainingJob.snapshot()``.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from .checkpoints import CheckpointError, validate_name
from .config import ConfigError, ModelConfig, TrainConfig
from .data import Dataset, load_dataset
from .latents import save_with_latents
from .model import VAE, build_model
from .train import describe
from .training import Callback, TrainingStopped, TrainState, train

if TYPE_CHECKING:
    from .job_registry import TrainingSlots

logger = logging.getLogger(__name__)

MAX_APP_EPOCHS = 200  # a training started from a web page must end in minutes, not days
ORPHAN_GRACE_SECONDS = 30.0  # a reloaded tab gets this long to take its job back before the job cancels itself
PREVIEW_SECONDS = 1.0  # how often a running job refreshes its preview reconstructions


class JobStatus(StrEnum):
    QUEUED = "queued"  # waiting for a free slot
    RUNNING = "running"
    SAVED = "saved"  # trained and saved as a checkpoint
    UNSAVED = "unsaved"  # trained, but saving failed (e.g. the name was taken meanwhile): save() may retry
    STOPPED = "stopped"  # the loss became NaN/inf; the model holds its last good weights, save() keeps them
    CANCELLED = "cancelled"
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
                f"(got {self.train_config.epochs}); use python -m vae_core.train for longer runs"
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
    originals: np.ndarray | None  # (K, 28, 28) the fixed test images
    reconstructions: np.ndarray | None  # (K, 28, 28) their reconstructions by the current weights
    queue_position: int | None  # 1 = next to start; None unless queued
    running: int  # trainings running on this server right now
    limit: int
    saved_path: Path | None
    seconds: float  # training time so far
    started_at: float = field(default=0.0)  # time.time() when submitted


class _Progress(Callback):
    """Copies the training state into the job after every step, and the preview every PREVIEW_SECONDS."""

    def __init__(self, job: TrainingJob) -> None:
        self.job = job
        self.last_preview = 0.0

    def on_step(self, model: VAE, state: TrainState) -> None:
        now = time.monotonic()
        preview = now - self.last_preview > PREVIEW_SECONDS
        if preview:
            self.last_preview = now
        self.job._update(state, model, preview)

    def on_epoch_end(self, model: VAE, state: TrainState) -> None:
        self.job._update(state, model, preview=True)


class TrainingJob:
    """One training in a background thread. ``start()``, poll ``snapshot()``, ``cancel()``; ``save()`` after a stop.

    ``load`` loads the dataset by name (the app passes its cached loader; arrays are copied, never written).
    ``owner_alive`` says whether whoever started the job is still there; once it has said no for
    ORPHAN_GRACE_SECONDS the job cancels itself.
    """

    def __init__(
        self,
        spec: JobSpec,
        slots: TrainingSlots,
        *,
        load: Callable[[str], Dataset] = load_dataset,
        owner_alive: Callable[[], bool] | None = None,
        callbacks: tuple[Callback, ...] = (),
    ) -> None:
        self.spec = spec
        self.job_id = uuid.uuid4().hex
        self.slots = slots
        self._load = load
        self.owner_alive = owner_alive
        self._callbacks = callbacks
        self._lock = threading.Lock()
        self._cancel = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"train-{spec.name}", daemon=True)
        self._status = JobStatus.QUEUED
        self._message = ""
        self._state: TrainState | None = None
        self._history: tuple[dict[str, float], ...] = ()
        self._originals: np.ndarray | None = None
        self._recons: np.ndarray | None = None
        self._saved: Path | None = None
        self._seconds = 0.0
        self._train_start: float | None = None
        self._orphan_since: float | None = None
        self._last_owner_check = 0.0
        self._cancel_reason = "Training cancelled."
        self.model: VAE | None = None  # the job's own model; nobody else holds it
        self._dataset: Dataset | None = None
        self._result_meta: dict[str, Any] = {}
        self.submitted_at = time.time()

    # ------------------------------------------------------------------------------------------- public API

    def start(self) -> TrainingJob:
        self._thread.start()
        return self

    def cancel(self, reason: str = "Training cancelled.") -> None:
        """Stop after the current step (or leave the queue). Nothing is saved."""
        self._cancel_reason = reason
        self._cancel.set()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the thread; True if it has finished."""
        self._thread.join(timeout)
        return not self._thread.is_alive()

    @property
    def status(self) -> JobStatus:
        with self._lock:
            return self._status

    def snapshot(self) -> JobSnapshot:
        with self._lock:
            state = self._state
            seconds = self._seconds + (time.perf_counter() - self._train_start if self._train_start else 0.0)
            position = self.slots.position(self.job_id) if self._status == JobStatus.QUEUED else None
            running = self.slots.running
            message = self._message
            if self._status == JobStatus.QUEUED and position is not None:
                message = queue_message(running, position)
            return JobSnapshot(
                job_id=self.job_id,
                name=self.spec.name,
                status=self._status,
                message=message,
                progress=1.0 if self._status in (JobStatus.SAVED, JobStatus.UNSAVED) else (
                    state.progress if state else 0.0),
                epoch=state.epoch if state else 0,
                epochs=self.spec.train_config.epochs,
                history=self._history,
                originals=self._originals,
                reconstructions=self._recons,
                queue_position=position,
                running=running,
                limit=self.slots.limit,
                saved_path=self._saved,
                seconds=seconds,
                started_at=self.submitted_at,
            )  # fmt: skip

    def save(self, name: str | None = None) -> Path:
        """Save the job's current weights (after a NaN stop they are the last good ones) as ``name`` (default:
        the job's name). Never overwrites. Raises CheckpointError with a message for the user."""
        if self.status not in (JobStatus.STOPPED, JobStatus.UNSAVED):
            raise CheckpointError("only a finished training that is not saved yet can be saved")
        if self.model is None or self._dataset is None:
            raise CheckpointError("this training has no weights to save (it stopped before the first step)")
        path = self._save(validate_name(name or self.spec.name))
        with self._lock:
            self._status, self._saved = JobStatus.SAVED, path
            self._message = f"Saved as {path.stem}."
        return path

    # ------------------------------------------------------------------------------------------ the thread

    def _set(self, status: JobStatus, message: str = "") -> None:
        with self._lock:
            self._status, self._message = status, message
            if self._train_start is not None:
                self._seconds += time.perf_counter() - self._train_start
                self._train_start = None

    def _owner_gone(self) -> bool:
        """True once the owner has been away for ORPHAN_GRACE_SECONDS (checked at most every 2 s)."""
        if self.owner_alive is None:
            return False
        now = time.monotonic()
        if now - self._last_owner_check < 2.0:
            return self._orphan_since is not None and now - self._orphan_since > ORPHAN_GRACE_SECONDS
        self._last_owner_check = now
        try:
            alive = bool(self.owner_alive())
        except Exception:  # the liveness probe must never kill a training
            alive = True
        self._orphan_since = None if alive else (self._orphan_since or now)
        return self._orphan_since is not None and now - self._orphan_since > ORPHAN_GRACE_SECONDS

    def _should_stop(self) -> bool:
        if not self._cancel.is_set() and self._owner_gone():
            self.cancel("Training cancelled: the browser tab that started it was closed.")
        return self._cancel.is_set()

    def _run(self) -> None:
        try:
            if not self.slots.acquire(self.job_id, give_up=self._should_stop):
                self._set(JobStatus.CANCELLED, self._cancel_reason)
                return
            try:
                self._train()
            finally:
                self.slots.release(self.job_id)
        except Exception as e:  # noqa: BLE001 - a job's failure must reach the page, not kill the server
            logger.exception("training job %s failed", self.spec.name)
            self._set(JobStatus.FAILED, f"Training failed unexpectedly ({type(e).__name__}); the server log says more.")

    def _train(self) -> None:
        spec, tc = self.spec, self.spec.train_config
        with self._lock:
            self._status, self._train_start = JobStatus.RUNNING, time.perf_counter()
        try:
            ds = self._load(tc.dataset)
        except Exception as e:  # DatasetUnavailable, ValueError: their messages are written for users
            self._set(JobStatus.FAILED, str(e))
            return
        self._dataset = ds
        n_train = len(ds.train_x) if tc.max_train is None else min(tc.max_train, len(ds.train_x))
        train_x = np.array(ds.train_x[:n_train], dtype=np.float32)  # a private, writable copy
        test_x = np.array(ds.test_x, dtype=np.float32)
        pick = preview_indices(ds.test_y, spec.preview_count)
        with self._lock:
            self._originals = test_x[pick].copy()
        self._preview_x = torch.as_tensor(test_x[pick])[:, None]
        self.model = build_model(spec.model_config)  # the job's own model, from its config alone
        try:
            result = train(self.model, train_x, tc, test_x, callbacks=[_Progress(self), *self._callbacks],
                           should_stop=self._should_stop)  # fmt: skip
        except TrainingStopped as e:
            self.model.eval()
            self._result_meta = self._meta(None)
            self._set(JobStatus.STOPPED, f"Training stopped: {e}")
            return
        if result.cancelled:
            self._set(JobStatus.CANCELLED, self._cancel_reason)
            return
        self._result_meta = self._meta(result.test)
        try:
            path = self._save(spec.name)
        except CheckpointError as e:
            self._set(JobStatus.UNSAVED, f"Training finished, but the checkpoint was not saved: {e}")
            return
        with self._lock:
            self._saved = path
        self.model = None  # saved: nothing more to do with the weights, free them
        self._set(JobStatus.SAVED, f"Saved as {spec.name}.")

    def _update(self, state: TrainState, model: VAE, preview: bool) -> None:
        recons = _reconstruct(model, self._preview_x) if preview else None
        with self._lock:
            self._state = TrainState(state.epoch, state.epochs, state.step, state.steps_per_epoch)
            self._history = tuple(dict(r) for r in state.history)
            if recons is not None:
                self._recons = recons

    def _meta(self, test: dict[str, float] | None) -> dict[str, Any]:
        mc, tc = self.spec.model_config, self.spec.train_config
        return {
            "dataset": tc.dataset,
            "kind": mc.kind,
            "description": describe(mc),
            "beta": mc.beta,
            "latent_dim": mc.latent_dim,
            "epochs": len(self._history),
            "seed": tc.seed,
            "train_config": tc.to_dict(),
            "metrics": {f"test_{k}": round(v, 4) for k, v in (test or {}).items()},
            "history": list(self._history),
            "trained_in": "app",
        }

    def _save(self, name: str) -> Path:
        """Checkpoint (never overwriting) and its latent maps beside it (PCA only: t-SNE takes too long here)."""
        assert self.model is not None and self._dataset is not None
        path = Path(self.spec.out_dir) / f"{name}.safetensors"
        meta = {**self._result_meta, "weights_dtype": "float32"}
        return save_with_latents(self.model, path, meta, self._dataset.test_x, self._dataset.test_y)


def queue_message(running: int, position: int) -> str:
    """What a waiting job tells its owner, e.g. '2 trainings are running; yours starts when one finishes ...'."""
    busy = "1 training is running" if running == 1 else f"{running} trainings are running"
    return f"{busy}; yours starts when one finishes (it is number {position} in the queue)."


@torch.no_grad()
def _reconstruct(model: VAE, x: torch.Tensor) -> np.ndarray:
    was_training = model.training
    model.eval()
    try:
        mu, _ = model.encode(x)
        return model.decoder_mean(mu)[:, 0].numpy().copy()
    finally:
        model.train(was_training)


def preview_indices(labels: np.ndarray, k: int) -> np.ndarray:
    """k fixed test images, one per class in turn (0, 1, 2, ...), so the preview shows every kind of image."""
    labels = np.asarray(labels)
    order: list[int] = []
    classes = np.unique(labels)
    per_class = [list(np.flatnonzero(labels == c)) for c in classes]
    while len(order) < min(k, len(labels)):
        for members in per_class:
            if members and len(order) < k:
                order.append(int(members.pop(0)))
    return np.asarray(order, dtype=np.int64)
