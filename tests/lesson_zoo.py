"""A stand-in for the shipped 2-D models the lesson teaches with, for its page tests: small untrained networks on
mnist5k (the 2-D pair and two of the beta series) with their latents, a real (one-epoch) training replay for the
pair, and metrics files whose numbers are chosen by the test, so a test can check that the page quotes them.
``$VAE_EXPLORER_CHECKPOINTS`` points the app at the folder."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch

from vae_core.config import ModelConfig, TrainConfig
from vae_core.data import load_dataset
from vae_core.evaluation.intervals import N_BOOT
from vae_core.evaluation.results import write_scores
from vae_core.evaluation.scoreboard import METRICS_VERSION, Scores, ScoreSettings
from vae_core.latent.codes import compute_latents, save_latents
from vae_core.latent.snapshots import SnapshotRecorder, SnapshotSchedule, save_snapshots
from vae_core.model import build_model
from vae_core.store.checkpoints import save_checkpoint
from vae_core.store.disk import content_hash
from vae_core.training import train

MODELS = {  # name: (kind, beta, recon weight)
    "mnist5k-vae-2": ("vae", 1.0, 1.0),
    "mnist5k-ae-2": ("ae", 1.0, 1.0),
    "mnist5k-beta0-2": ("vae", 0.0, 1.0),
    "mnist5k-klonly-2": ("vae", 1.0, 0.0),
}
# What the metrics files say (value, 95 % interval), VAE then AE: made-up numbers a test looks for on the page.
MEASURED = {
    "prior_valid": ((0.612, 0.59, 0.634), (0.314, 0.293, 0.335)),
    "prior_smudges": ((0.041, 0.032, 0.05), (0.223, 0.205, 0.241)),
    "prior_blends": ((0.25, 0.23, 0.27), (0.31, 0.29, 0.33)),
    "prior_holes": ((0.052, 0.043, 0.062), (0.048, 0.039, 0.058)),  # overlapping intervals: a tie
    "fitted_holes": ((0.05, 0.04, 0.06), (0.21, 0.19, 0.23)),
    "path_smudges": ((0.06, 0.05, 0.07), (0.377, 0.35, 0.4)),
    "path_holes": ((0.02, 0.01, 0.03), (0.433, 0.41, 0.46)),
    "path_max_step": ((0.151, 0.147, 0.155), (0.182, 0.176, 0.188)),
    "recon_mse": ((0.0438, 0.0431, 0.0445), (0.0391, 0.0385, 0.0397)),
    "code_kl": ((0.105, 0.09, 0.12), (4.321, 4.1, 4.5)),
}
PAIRS = [[0, 1], [2, 3], [4, 5]]  # the scoreboard's interpolation pairs; [2, 3] is the typical one below
MAX_STEP = ([0.1, 0.15, 0.2], [0.12, 0.18, 0.3])


def _replicates(lo: float, hi: float, which: int) -> list[float]:
    """N_BOOT values spread over [lo, hi], shuffled differently for each model (so their differences spread too)."""
    return [float(v) for v in np.random.default_rng(which).permutation(np.linspace(lo, hi, N_BOOT))]


def _scores(name: str, kind: str, which: int, path: Path) -> Scores:
    values = {k: v[which][0] for k, v in MEASURED.items()}
    return Scores(
        name=name, kind=kind, dataset="mnist5k", values=values,
        intervals={k: [v[which][1], v[which][2]] for k, v in MEASURED.items()},
        replicates={k: _replicates(*v[which][1:], which) for k, v in MEASURED.items()},
        paths={"pairs": PAIRS, "max_step": MAX_STEP[which], "n_steps": 16},
        details={"kl_per_dim": [1.5, 2.25]} if kind == "vae" else {},
        provenance={"version": METRICS_VERSION, "settings": asdict(ScoreSettings()),
                    "checkpoint_sha256": content_hash(path), "classifier_sha256": None},
    )  # fmt: skip


def make_lesson_zoo(folder: Path) -> Path:
    """Write the models, latents, replays and metrics into ``folder`` (once). Returns the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    ds = load_dataset("mnist5k")
    for seed, (name, (kind, beta, recon_weight)) in enumerate(MODELS.items()):
        path = folder / f"{name}.safetensors"
        if path.exists():
            continue
        torch.manual_seed(seed)
        model = build_model(ModelConfig(kind=kind, latent_dim=2, beta=beta, recon_weight=recon_weight))
        replayed = name in ("mnist5k-vae-2", "mnist5k-ae-2")  # the beta series only needs its maps
        recorder = SnapshotRecorder(ds.test_x, ds.test_y, SnapshotSchedule(first_epoch=4))
        if replayed:
            train(model, ds.train_x, TrainConfig(epochs=1, max_train=256, seed=seed), callbacks=[recorder])
        model.eval()
        meta = {"dataset": "mnist5k", "kind": kind, "beta": beta, "description": f"tiny {kind}", "epochs": 1}
        save_checkpoint(model, path, meta)
        save_latents(path, compute_latents(model, ds.test_x, ds.test_y, tsne=False), len(ds.test_x))
        if replayed:
            save_snapshots(path, recorder.snapshots())
            write_scores(_scores(name, kind, 0 if kind == "vae" else 1, path), path)
    return folder
