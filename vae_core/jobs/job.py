"""A training job beside a server: one thread, a progress snapshot to poll, cancel, and a save that never overwrites.

A job builds its own model from its config, so it can never change a model other sessions are using. It waits for
a slot (``slots.TrainingSlots``: at most a few trainings at once) and can tell its place in the queue. Every
job ends: it is bounded by its epochs, it can be cancelled, and it cancels itself when the owner it was started for
has been gone for a while (a closed browser tab). No UI here: the Train page polls ``TrainingJob.snapshot()``.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..data import Dataset, load_dataset
from ..latent.codes import save_with_latents
from ..latent.snapshots import SnapshotRecorder, save_snapshots
from ..model import VAE, build_model
from ..store.checkpoints import CheckpointError, validate_name
from ..store.meta import CheckpointMeta
from ..training import Callback, TrainingStopped, TrainState, train
from .preview import preview_indices, reconstruct
from .slots import TrainingSlots, queue_message
from .spec import JobSnapshot, JobSpec, JobStatus

logger = logging.getLogger(__name__)

ORPHAN_GRACE_SECONDS = 30.0  # a reloaded tab gets this long to take its job back before the job cancels itself
PREVIEW_SECONDS = 1.0  # how often a running job refreshes its preview reconstructions and adds a point to its curves


class _Progress(Callback):
    """Copies the training state into the job after every step. Every PREVIEW_SECONDS (and at each epoch's end) it
    also refreshes the preview and closes a *window*: the mean training terms of the batches since the last one, a
    point on the live curves at a fractional epoch, so the curves move within seconds rather than once per epoch."""

    def __init__(self, job: TrainingJob) -> None:
        self.job = job
        self.last_preview = 0.0
        self.sums = {"recon": 0.0, "kl": 0.0, "elbo": 0.0}
        self.images = 0
        self.seen = 0  # state.images_seen at the previous step

    def on_step(self, model: VAE, state: TrainState) -> None:
        batch, self.seen = state.images_seen - self.seen, state.images_seen
        for k in self.sums:
            self.sums[k] += state.last.get(k, 0.0) * batch
        self.images += batch
        now = time.monotonic()
        preview = now - self.last_preview > PREVIEW_SECONDS
        if preview:
            self.last_preview = now
        self.job._update(state, model, preview, self._window(state) if preview else None)

    def on_epoch_end(self, model: VAE, state: TrainState) -> None:
        self.job._update(state, model, True, self._window(state))

    def _window(self, state: TrainState) -> dict[str, float] | None:
        if not self.images:
            return None
        done = state.epoch - 1 + state.step / max(1, state.steps_per_epoch)
        row = {"epoch": done, **{f"train_{k}": v / self.images for k, v in self.sums.items()}}
        self.sums, self.images = dict.fromkeys(self.sums, 0.0), 0
        return row


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
        self._windows: list[dict[str, float]] = []
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
        self._recorder: SnapshotRecorder | None = None
        self.submitted_at = time.time()

    # ------------------------------------------------------------------------------------------- public API

    def start(self) -> TrainingJob:
        self._thread.start()
        return self

    def cancel(self, reason: str = "Training cancelled.") -> None:
        """Stop after the current step (or leave the queue). Nothing is saved unless ``save()`` is called then."""
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
                windows=tuple(self._windows),
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
        """Save the job's current weights (after a NaN stop they are the last good ones; after a cancel, what it had
        learned) as ``name`` (default: the job's name). Never overwrites. Raises CheckpointError with a message for
        the user."""
        if self.status not in (JobStatus.STOPPED, JobStatus.UNSAVED, JobStatus.CANCELLED):
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
        self._recorder = SnapshotRecorder(test_x, ds.test_y)  # the replay of this training, saved with it
        try:
            result = train(self.model, train_x, tc, test_x, callbacks=[_Progress(self), *self._callbacks,
                           self._recorder], should_stop=self._should_stop)  # fmt: skip
        except TrainingStopped as e:
            self.model.eval()
            self._result_meta = self._meta(None)
            self._set(JobStatus.STOPPED, f"Training stopped: {e}")
            return
        if result.cancelled:  # the weights after the last step it finished: the user may still save them
            self._result_meta = self._meta(result.test)
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

    def _update(self, state: TrainState, model: VAE, preview: bool, window: dict[str, float] | None = None) -> None:
        recons = reconstruct(model, self._preview_x) if preview else None
        with self._lock:
            self._state = TrainState(state.epoch, state.epochs, state.step, state.steps_per_epoch)
            self._history = tuple(dict(r) for r in state.history)
            if recons is not None:
                self._recons = recons
            if window is not None:
                self._windows.append(window)

    def _meta(self, test: dict[str, float] | None) -> dict[str, Any]:
        mc, tc = self.spec.model_config, self.spec.train_config
        return CheckpointMeta.for_training(mc, tc, list(self._history), test, trained_in="app").to_dict()

    def _save(self, name: str) -> Path:
        """Checkpoint (never overwriting) and its latent maps beside it (PCA only: t-SNE takes too long here)."""
        assert self.model is not None and self._dataset is not None
        path = Path(self.spec.out_dir) / f"{name}.safetensors"
        meta = {**self._result_meta, "weights_dtype": "float32"}
        path = save_with_latents(self.model, path, meta, self._dataset.test_x, self._dataset.test_y)
        try:
            if self._recorder is not None:
                save_snapshots(path, self._recorder.snapshots())
        except (OSError, ValueError) as e:  # CheckpointError is a ValueError; the checkpoint stands without a replay
            logger.warning("could not save the training replay beside %s: %s", path.name, e)
        return path
