"""Every measure of the Smoothness lab for one model, each with its bootstrap interval: the scoreboard written
beside a checkpoint as ``NAME.metrics.json`` (``results.py``). What each measure means is in ``measures.py``; how
two scoreboards are compared (intervals of differences, ties) in ``contrast.py``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch

from ..data import Dataset
from ..latent.codes import encode_images
from ..objectives import iwae_bound
from ..store.checkpoints import Checkpoint
from ..training import evaluation_images
from . import disentanglement as dis
from . import smoothness as sm
from .classifier import TrainedClassifier, predict_proba
from .intervals import N_BOOT, estimate
from .measures import SCOREBOARD
from .paths import path_stats
from .realism import BLEND, SMUDGE, RealismJudge
from .regions import fit_gaussian, region_samples
from .validity import ValidityMap, label_coverage, validity_map

METRICS_VERSION = 3  # bump when a measure's definition changes: older scoreboards are then recomputed


@dataclass(frozen=True)
class ScoreSettings:
    """Sample sizes and seeds: enough for intervals of a few points, small enough that the ten shipped checkpoints
    score in a few minutes on 2 CPU cores."""

    n_prior: int = 2000  # samples per region (N(0, I), fitted Gaussian, box) and real reference digits
    n_pairs: int = 200  # interpolation paths between random test pairs ...
    n_steps: int = 16  # ... of this many decoded steps
    threshold: float = 0.9  # classifier confidence that counts as a confident digit
    hole_quantile: float = 0.95
    iwae_k: int = 100  # importance samples per test image for the test NLL
    iwae_images: int = 500
    map_size: int = 40  # the validity map is map_size x map_size decoded images
    n_boot: int = N_BOOT
    seed: int = 0


@dataclass
class Scores:
    """A checkpoint's scoreboard: values with intervals and bootstrap replicates, the per-pair path measures, the
    details behind them, the validity map, and provenance."""

    name: str
    kind: str
    dataset: str
    values: dict[str, float | None]
    intervals: dict[str, list[float]] = field(default_factory=dict)  # key -> [lo, hi], 95 %
    replicates: dict[str, list[float]] = field(default_factory=dict)  # key -> n_boot bootstrap values
    paths: dict[str, Any] = field(default_factory=dict)  # pairs, mean_step, max_step, holes, smudges, n_steps
    details: dict[str, Any] = field(default_factory=dict)
    validity_map: ValidityMap | None = None
    factors: dict[str, Any] | None = None  # names, mi (D, F), spearman (D, F), mig: only with known factors
    provenance: dict[str, Any] = field(default_factory=dict)
    seeds: dict[str, Any] = field(default_factory=dict)  # the same recipe retrained: {"recipe", "runs"} (seeds.py)

    def interval(self, key: str) -> tuple[float | None, float | None]:
        lo_hi = self.intervals.get(key)
        return (lo_hi[0], lo_hi[1]) if lo_hi else (None, None)

    def to_json(self) -> str:
        d = asdict(self) | {"validity_map": self.validity_map.to_dict() if self.validity_map else None}
        return json.dumps(d, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> Scores:
        d = json.loads(text)
        vmap = ValidityMap.from_dict(d["validity_map"]) if d.get("validity_map") else None
        return cls(d["name"], d["kind"], d["dataset"], d["values"], d.get("intervals", {}),
                   d.get("replicates", {}), d.get("paths", {}), d.get("details", {}), vmap, d.get("factors"),
                   d.get("provenance", {}), d.get("seeds", {}))  # fmt: skip


def _r(x: float | None, digits: int = 5) -> float | None:
    return None if x is None else round(float(x), digits)


def iwae_nll_per_image(ckpt: Checkpoint, dataset: Dataset, settings: ScoreSettings) -> np.ndarray | None:
    """-log p(x) per test image (nats), from the IWAE bound with K = ``iwae_k``; None for an autoencoder."""
    if not ckpt.config.is_vae:
        return None
    binarized = bool(ckpt.meta.get("train_config", {}).get("binarize", True))
    x = evaluation_images(ckpt.model, dataset.test_x[: settings.iwae_images], binarized, settings.seed)
    gen = torch.Generator().manual_seed(settings.seed + 1)
    with torch.no_grad():
        return -iwae_bound(ckpt.model, x, k=settings.iwae_k, generator=gen).double().numpy()


def _coverage(num_classes: int) -> Callable[[np.ndarray], float]:
    return lambda labels: label_coverage(np.bincount(labels.astype(np.int64), minlength=num_classes))


def _active(rows: np.ndarray) -> float:
    return float(sm.active_units(rows).count)


def _kl_to_prior(rows: np.ndarray) -> float:
    return fit_gaussian(rows).kl_to_prior()


def _nonnegative_mean(rows: np.ndarray) -> float:
    return max(0.0, float(rows.mean()))


def fit_judge(classifier: TrainedClassifier, dataset: Dataset, settings: ScoreSettings) -> RealismJudge:
    """The realism judge of a dataset as these settings use it (``n_prior`` reference digits, their threshold)."""
    return RealismJudge(n_reference=settings.n_prior, confident=settings.threshold, seed=settings.seed).fit(
        classifier.model, dataset
    )


def compute_scores(
    ckpt: Checkpoint,
    dataset: Dataset,
    classifier: TrainedClassifier | None,
    settings: ScoreSettings = ScoreSettings(),
    log: Callable[[str], None] | None = None,
    judge: RealismJudge | None = None,
) -> Scores:
    """Every measure of the scoreboard for one checkpoint, with intervals (without a classifier, the ones that
    judge decoded images are None). ``judge`` may be passed in when several checkpoints of a dataset are scored."""
    start, s, model = time.perf_counter(), settings, ckpt.model
    say = log or (lambda _msg: None)
    mu, logvar = encode_images(model, dataset.test_x)
    data_codes = sm.posterior_samples(mu, logvar, s.seed)  # where the test images' codes actually fall
    radius = sm.hole_radius(data_codes, s.hole_quantile)
    samples = region_samples(data_codes, s.n_prior, s.seed)
    rows: dict[str, tuple[np.ndarray, Callable[[np.ndarray], float] | None]] = {}  # key -> (rows, statistic)
    details: dict[str, Any] = {"n_test": len(mu), "hole_radius": _r(radius)}
    say("holes in three regions")
    for region, z in samples.items():
        rows[f"{region}_holes"] = (sm.nearest_distances(z, data_codes) > radius, None)
    vmap = None
    if classifier is not None:
        say("digits, blends and smudges in three regions")
        if judge is None:
            judge = RealismJudge(n_reference=s.n_prior, confident=s.threshold, seed=s.seed).fit(
                classifier.model, dataset
            )
        details["judge"] = {"rho": _r(judge.rho_), "tau": _r(judge.tau_), "held_out": judge.held_out_}
        judged = {region: judge.judge(sm.decode_means(model, z)) for region, z in samples.items()}
        for region, j in judged.items():
            rows[f"{region}_smudges"] = (j.kind == SMUDGE, None)
            if region == "box":
                continue
            rows[f"{region}_valid"] = (j.confidence >= s.threshold, None)
            rows[f"{region}_precision"] = (j.in_real, None)
            rows[f"{region}_recall"] = (judge.recall(j.features), None)
            details[f"{region}_label_counts"] = np.bincount(j.label, minlength=len(classifier.class_names)).tolist()
        rows["prior_blends"] = (judged["prior"].kind == BLEND, None)
        rows["prior_coverage"] = (judged["prior"].label, _coverage(len(classifier.class_names)))
        details["class_names"] = classifier.class_names
        say("validity map")
        vmap = validity_map(model, classifier.model, mu, s.map_size)
    say("interpolation paths")
    paths = path_stats(model, mu, dataset.test_y, data_codes, radius, judge, s.n_pairs, s.n_steps, s.seed)
    rows |= {"path_mean_step": (paths.mean_step, None), "path_max_step": (paths.max_step, None),
             "path_holes": (paths.holes, None)}  # fmt: skip
    if paths.smudges is not None:
        rows["path_smudges"] = (paths.smudges, None)
    details["even_step"] = paths.even_step
    rows["recon_mse"] = (sm.reconstruction_errors(model, mu, dataset.test_x), None)
    say("test log-likelihood")
    nll = iwae_nll_per_image(ckpt, dataset, s)
    if nll is not None:
        rows["test_nll"] = (nll, None)
        rows["aggregate_kl"] = (sm.aggregate_posterior_kl(mu, logvar, s.n_prior, s.seed), _nonnegative_mean)
        details["kl_per_dim"] = [_r(v) for v in sm.mean_kl_per_dimension(mu, logvar)]
        details["checkpoint_nll"] = ckpt.meta.get("metrics", {}).get("test_iwae_nll")
    rows["code_kl"] = (data_codes, _kl_to_prior)
    rows["active_units"] = (mu, _active)
    details["code_variance"] = [_r(v) for v in sm.active_units(mu).variances]
    say("intervals")
    values: dict[str, float | None] = {spec.key: None for spec in SCOREBOARD}
    intervals, replicates = {}, {}
    for key, (r, stat) in rows.items():
        est = estimate(np.asarray(r, np.float64), stat, bias_correct=key == "code_kl", n_boot=s.n_boot)
        values[key], intervals[key] = _r(est.value), [_r(est.lo), _r(est.hi)]
        replicates[key] = [_r(v) for v in est.replicates]
    path_table = {"pairs": paths.pairs.tolist(), "n_steps": paths.n_steps}
    if classifier is not None:  # a page's default pair should have ends the model reconstructs as their digit
        read_as = predict_proba(classifier.model, sm.decode_means(model, mu)).argmax(axis=1) == dataset.test_y
        path_table["ends_recognised"] = (read_as[paths.pairs[:, 0]] & read_as[paths.pairs[:, 1]]).tolist()
    for name in ("mean_step", "max_step", "holes", "smudges"):
        arr = getattr(paths, name)
        path_table[name] = None if arr is None else [_r(v, 4) for v in arr]
    factors = None
    if dataset.test_factors is not None:
        mi = dis.factor_mutual_information(mu, dataset.test_factors)
        factors = {"names": list(dataset.factor_names), "mi": np.round(mi, 4).tolist(), "mig": _r(dis.mig(mi)),
                   "spearman": np.round(dis.factor_correlation(mu, dataset.test_factors), 4).tolist()}  # fmt: skip
    return Scores(
        name=ckpt.name, kind=ckpt.config.kind, dataset=dataset.name, values=values, intervals=intervals,
        replicates=replicates, paths=path_table, details=details, validity_map=vmap, factors=factors,
        provenance={"version": METRICS_VERSION, "settings": asdict(s), "seconds": round(time.perf_counter() - start, 1),
                    "classifier_accuracy": classifier.meta.get("test_accuracy") if classifier else None,
                    "train_seed": ckpt.meta.get("seed", 0)},
    )  # fmt: skip
