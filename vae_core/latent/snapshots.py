"""Training replayed: the test images' codes at fixed moments of a run (every epoch, more often in the first, where
the map changes most), saved beside the checkpoint as ``NAME.snapshots.safetensors``.

A ``SnapshotRecorder`` is a training callback: it encodes the test images (the mean of q(z|x), the autoencoder's
code) at the planned steps and keeps the training loss terms averaged over the batches since the previous frame.
It only reads the model (no gradients, no random numbers), so a run with the recorder trains exactly as one
without. ``save_snapshots`` writes the frames on fixed axes - a 2-D latent is its own plane, a larger one is
projected on the PCA of its final codes - and records the checkpoint's content hash, as the latents beside it do:
the frames are never paired with another version of the checkpoint.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..model import VAE, as_tensor
from ..store.disk import content_hash, load_arrays, save_arrays
from ..store.files import CheckpointError
from ..training import Callback, TrainState
from .projection import LatentPCA

logger = logging.getLogger(__name__)

SNAPSHOTS_VERSION = 1
TERMS = ("recon", "kl")  # training loss terms kept per frame, nats per image


@dataclass(frozen=True)
class SnapshotSchedule:
    """When a frame is taken: before the first step, ``first_epoch`` times evenly through epoch 1 (the clusters
    form there), then ``per_epoch`` times evenly through every later epoch. 20 epochs make 1 + 16 + 38 = 55 frames:
    500 test codes in 2-D as float16 are 2 kB a frame, about 110 kB a model."""

    first_epoch: int = 16
    per_epoch: int = 2

    def steps(self, epochs: int, steps_per_epoch: int) -> set[tuple[int, int]]:
        """The (epoch, step) pairs after which a frame is taken (1-based epochs, steps counted within the epoch)."""
        planned = set()
        for epoch in range(1, epochs + 1):
            n = min(steps_per_epoch, self.first_epoch if epoch == 1 else self.per_epoch)
            for k in range(1, n + 1):
                planned.add((epoch, round(k * steps_per_epoch / n)))
        return planned


@dataclass(frozen=True, eq=False)
class Snapshots:
    """The frames of one run, read-only: ``xy`` (F, N, 2) codes on fixed axes, ``epoch`` (F,) epochs done at each
    frame (0 = before training), the training terms (F,) averaged since the previous frame (0 at frame 0), and the
    test images' ``labels`` (N,). ``axes`` is "latent" (a 2-D model's own plane) or "pca" (of the final codes; then
    ``pca_mean`` (D,) and ``pca_components`` (2, D) take a place on the map back to a code: mean + xy @ components)."""

    xy: np.ndarray
    epoch: np.ndarray
    recon: np.ndarray
    kl: np.ndarray
    labels: np.ndarray
    axes: str
    kind: str
    pca_mean: np.ndarray | None = None
    pca_components: np.ndarray | None = None

    @property
    def frames(self) -> int:
        return len(self.epoch)


def inside_share(snaps: Snapshots, radius: float = 3.0, frame: int = -1) -> float:
    """Share of the test codes within ``radius`` of the origin at ``frame``: on a latent plane, with radius 3, the
    codes inside the prior's 3-sigma circle (which holds 99 % of N(0, I) in 2-D)."""
    return float((np.linalg.norm(snaps.xy[frame], axis=1) <= radius).mean())


def opening_epoch(snaps: Snapshots, radius: float = 0.5) -> float | None:
    """The first moment (in epochs) at which the median test code lies farther than ``radius`` from the origin:
    when the codes leave the centre, if ever. A VAE whose codes all sit at 0 carries nothing about its images."""
    median = np.median(np.linalg.norm(snaps.xy, axis=2), axis=1)
    beyond = np.flatnonzero(median > radius)
    return float(snaps.epoch[beyond[0]]) if len(beyond) else None


class SnapshotRecorder(Callback):
    """Records the codes of ``images`` (N, 28, 28) at the schedule's steps; pass it to ``train`` among the callbacks."""

    def __init__(self, images: np.ndarray, labels: np.ndarray, schedule: SnapshotSchedule = SnapshotSchedule()):
        self.images = np.asarray(images, dtype=np.float32)
        self.labels = np.asarray(labels, dtype=np.int64)
        self.schedule = schedule
        self.codes: list[np.ndarray] = []
        self.epoch: list[float] = []
        self.terms: dict[str, list[float]] = {t: [] for t in TERMS}
        self._planned: set[tuple[int, int]] | None = None
        self._sums = dict.fromkeys(TERMS, 0.0)
        self._batches = 0
        self.kind = "vae"  # the model's kind, read when training begins

    @torch.no_grad()
    def _record(self, model: VAE, epochs_done: float) -> None:
        was_training = model.training
        model.eval()
        device = next(model.parameters()).device
        x = as_tensor(self.images)
        mu = torch.cat([model.encode(x[i : i + 500].to(device))[0].cpu() for i in range(0, len(x), 500)]).numpy()
        model.train(was_training)
        self.codes.append(mu)
        self.epoch.append(epochs_done)
        for t in TERMS:
            self.terms[t].append(self._sums[t] / self._batches if self._batches else 0.0)
        self._sums, self._batches = dict.fromkeys(TERMS, 0.0), 0

    def on_train_begin(self, model: VAE, state: TrainState) -> None:
        """Plan the run and take frame 0 from the weights before the first step."""
        self._planned = self.schedule.steps(state.epochs, state.steps_per_epoch)
        self.kind = model.config.kind
        self._record(model, 0.0)

    def on_step(self, model: VAE, state: TrainState) -> None:
        for t in TERMS:
            self._sums[t] += state.last.get(t, 0.0)
        self._batches += 1
        if self._planned is not None and (state.epoch, state.step) in self._planned:
            self._record(model, state.epoch - 1 + state.step / state.steps_per_epoch)

    def snapshots(self) -> Snapshots:
        """The frames so far on fixed axes (needs at least one frame)."""
        if not self.codes:
            raise ValueError("no frames were recorded: the recorder was not passed to train(), or no step ran")
        codes = np.stack(self.codes)  # (F, N, D)
        axes, mean, components = "latent", None, None
        xy = codes
        if codes.shape[2] != 2:
            pca = LatentPCA().fit(codes[-1])
            axes, mean, components = "pca", pca.mean_.astype(np.float32), pca.components_.astype(np.float32)
            xy = np.stack([pca.transform(c) for c in codes])
        return Snapshots(
            xy=xy.astype(np.float32),
            epoch=np.asarray(self.epoch, np.float32),
            recon=np.asarray(self.terms["recon"], np.float32),
            kl=np.asarray(self.terms["kl"], np.float32),
            labels=self.labels,
            axes=axes,
            kind=self.kind,
            pca_mean=mean,
            pca_components=components,
        )


def snapshots_path(checkpoint_path: str | Path) -> Path:
    """``NAME.safetensors`` -> ``NAME.snapshots.safetensors``."""
    p = Path(checkpoint_path)
    return p.with_name(p.name.removesuffix(".safetensors") + ".snapshots.safetensors")


def save_snapshots(checkpoint_path: str | Path, snaps: Snapshots) -> Path:
    """Write the frames beside the checkpoint (codes as float16) with the checkpoint's content hash."""
    meta = {
        "version": SNAPSHOTS_VERSION,
        "checkpoint_sha256": content_hash(checkpoint_path),
        "axes": snaps.axes,
        "kind": snaps.kind,
        "frames": snaps.frames,
        "n": int(snaps.xy.shape[1]),
    }
    arrays = {
        "xy": snaps.xy.astype(np.float16),
        "epoch": snaps.epoch,
        "recon": snaps.recon,
        "kl": snaps.kl,
        "labels": snaps.labels.astype(np.uint8),
    }
    if snaps.pca_mean is not None and snaps.pca_components is not None:
        arrays |= {"pca_mean": snaps.pca_mean.astype(np.float32), "pca_components": snaps.pca_components}
    return save_arrays(snapshots_path(checkpoint_path), arrays, meta)


def load_snapshots(checkpoint_path: str | Path) -> Snapshots | None:
    """The frames beside a checkpoint, or None when there are none, they are damaged, or they were recorded for
    another version of the checkpoint (the recorded hash differs from the file's)."""
    path = snapshots_path(checkpoint_path)
    if not path.is_file():
        return None
    try:
        arrays, meta = load_arrays(path)
        if meta.get("checkpoint_sha256") != content_hash(checkpoint_path):
            logger.info("ignoring %s: it was recorded for another version of the checkpoint", path.name)
            return None
        xy = arrays["xy"].astype(np.float32)
        f, n = len(arrays["epoch"]), len(arrays["labels"])
        if xy.shape != (f, n, 2) or any(len(arrays[t]) != f for t in TERMS) or not np.isfinite(xy).all():
            raise CheckpointError(f"{path.name}: the frames do not fit together")
        snaps = Snapshots(
            xy=xy,
            epoch=arrays["epoch"],
            recon=arrays["recon"],
            kl=arrays["kl"],
            labels=arrays["labels"].astype(np.int64),
            axes=str(meta.get("axes", "latent")),
            kind=str(meta.get("kind", "vae")),
            pca_mean=arrays.get("pca_mean"),
            pca_components=arrays.get("pca_components"),
        )
    except (CheckpointError, KeyError) as e:
        logger.warning("ignoring %s: %s", path.name, e)
        return None
    for a in (snaps.xy, snaps.epoch, snaps.recon, snaps.kl, snaps.labels):
        a.flags.writeable = False
    return snaps
