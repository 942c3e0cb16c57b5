"""Other training seeds: does a contrast survive a new draw of the training randomness?

A bootstrap interval covers the sampling of the *measurement* (prior draws, pairs, test images) for the two
checkpoints at hand. Whether "the VAE is smoother than its autoencoder" holds for the *recipe* also depends on the
random initialisation and batch order of training. So the same recipe (networks, data, epochs, optimiser; only the
seed changes) is retrained a few times (``python -m vae_core.cli.seeds``) and each run's measures are kept in the
shipped checkpoint's scoreboard, under ``seeds``::

    {"recipe": {...model and training configs, seed left out...}, "runs": {"1": {key: value}, "2": {...}}}

``seed_agreement`` counts the seeds (the shipped one included) on which a difference points the same way as on the
shipped pair; ``contrast.py`` calls a difference a tie unless every seed agrees.
"""

from __future__ import annotations

from typing import Any

from ..store.catalog import CheckpointInfo
from .measures import MetricSpec
from .scoreboard import Scores


def recipe_of(info: CheckpointInfo) -> dict[str, Any]:
    """What defines a training run apart from its seed: the model's config and the training config without the
    seed. Two checkpoints with the same recipe differ only by the draw of the training randomness."""
    train = {k: v for k, v in dict(info.meta.train_config or {}).items() if k != "seed"}
    return {"model_config": info.config.to_dict(), "train_config": train}


def record_run(scores: Scores, recipe: dict[str, Any], seed: int, values: dict[str, float | None]) -> None:
    """Keep one retrained run's measures in ``scores.seeds`` (runs of another recipe are dropped first)."""
    if scores.seeds.get("recipe") != recipe:
        scores.seeds = {"recipe": recipe, "runs": {}}
    scores.seeds["runs"][str(seed)] = dict(values)


def carry_over(old: Scores | None, new: Scores, recipe: dict[str, Any]) -> None:
    """When a checkpoint is rescored, keep the retrained runs of the old scoreboard if the recipe is the same."""
    if old is not None and old.seeds.get("recipe") == recipe:
        new.seeds = old.seeds


def runs(scores: Scores) -> dict[str, dict[str, float | None]]:
    """{seed: values} of the checkpoint itself (under its own seed) and of every retrained run."""
    own = str(scores.provenance.get("train_seed", 0))
    return {own: scores.values} | dict(scores.seeds.get("runs", {}))


def seed_agreement(spec: MetricSpec, a: Scores, b: Scores, direction: int) -> tuple[int, int] | None:
    """On how many seeds model ``direction`` (0: a, 1: b) is better by at least the printed precision, out of the
    seeds both models were trained with; None when only one seed was measured."""
    ra, rb = runs(a), runs(b)
    common = sorted(set(ra) & set(rb))
    if len(common) < 2:
        return None
    agree = 0
    for seed in common:
        va, vb = ra[seed].get(spec.key), rb[seed].get(spec.key)
        if va is None or vb is None or abs(va - vb) < spec.resolution:
            continue
        a_better = (va > vb) == (spec.better == "higher")
        agree += int(a_better == (direction == 0))
    return agree, len(common)
