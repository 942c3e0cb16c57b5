"""Every metric of the Smoothness lab for one model, as one scoreboard: the numbers, what each one shows and
which direction is better, so a page can put a VAE and its autoencoder side by side and name the winner.
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
from .classifier import TrainedClassifier
from .validity import ValidityMap, sample_validity, validity_map

METRICS_VERSION = 2  # bump when a metric's definition changes: older scoreboards are then recomputed


@dataclass(frozen=True)
class ScoreSettings:
    """Sample sizes and seeds: modest, so ten checkpoints score in a few minutes on 2 CPU cores."""

    n_prior: int = 2000  # prior (and fitted-Gaussian) samples for validity and holes
    n_pairs: int = 100  # interpolation paths ...
    n_steps: int = 16  # ... of this many decoded steps
    threshold: float = 0.9  # classifier confidence that counts as "valid"
    hole_quantile: float = 0.95
    iwae_k: int = 100  # importance samples when the checkpoint carries no IWAE estimate of its own
    iwae_images: int = 100
    map_size: int = 40  # the validity map is map_size x map_size decoded images
    seed: int = 0


@dataclass(frozen=True)
class MetricSpec:
    """One row of the scoreboard: what the number is, and which direction is better."""

    key: str
    label: str
    explanation: str
    better: str  # "higher", "lower", or "" when it is not a contest
    percent: bool = False
    digits: int = 3

    def format(self, value: float | None) -> str:
        if value is None:
            return "n/a"
        return f"{100 * value:.1f} %" if self.percent else f"{value:.{self.digits}f}"


SCOREBOARD: tuple[MetricSpec, ...] = (
    MetricSpec("prior_valid", "Valid prior samples",
               "Share of decoded z ~ N(0, I) the classifier labels with >= 90 % confidence: does a random point "
               "decode to real-looking data?", "higher", percent=True),
    MetricSpec("prior_coverage", "Class coverage of prior samples",
               "Entropy of the labels those samples get, divided by its maximum: 1 = every class equally often.",
               "higher", digits=2),
    MetricSpec("fitted_valid", "Valid samples, Gaussian fitted to the codes",
               "The same, sampling a Gaussian fitted to the model's own codes instead of N(0, I): the fairest "
               "chance a plain autoencoder gets.", "higher", percent=True),
    MetricSpec("path_mean_step", "Path smoothness: mean step",
               "On straight lines between two test codes (16 steps), the mean pixel change per step divided by "
               "the change end to end. An even morph scores 1/15 = 0.067.", "lower"),
    MetricSpec("path_max_step", "Path smoothness: largest step",
               "The biggest single jump on such a line, as a share of the end-to-end change: near 1 means the "
               "image flips in one step.", "lower"),
    MetricSpec("prior_holes", "Holes under the prior",
               "Share of z ~ N(0, I) farther from every test code than 95 % of test codes are from their nearest "
               "neighbour. About 5 % means no holes.", "lower", percent=True),
    MetricSpec("fitted_holes", "Holes under a fitted Gaussian",
               "The same with samples from a Gaussian fitted to the codes: the gaps between clusters.", "lower",
               percent=True),
    MetricSpec("aggregate_kl", "KL(aggregate posterior || prior)",
               "Nats between all the codes' clouds together and N(0, I). An autoencoder's codes are points, so "
               "it has none.", "lower", digits=2),
    MetricSpec("code_kl", "KL(fitted Gaussian || prior)",
               "Nats between a Gaussian fitted to the codes and N(0, I): a wrong scale or offset shows here.",
               "lower", digits=2),
    MetricSpec("active_units", "Active units",
               "Latent dimensions whose mean code varies with the image (Burda et al. 2016: variance > 0.01). "
               "Capacity used; not a contest.", "", digits=0),
    MetricSpec("test_nll", "Test NLL (IWAE bound)",
               "-log p(x) in nats per test image, from the importance-weighted bound. Only a VAE defines p(x).",
               "lower", digits=1),
    MetricSpec("recon_mse", "Reconstruction error",
               "Mean squared pixel error of decode(encode(x)) on test images: the autoencoder's home game.",
               "lower", digits=4),
)  # fmt: skip
SPECS = {s.key: s for s in SCOREBOARD}


def winner(spec: MetricSpec, a: float | None, b: float | None) -> int | None:
    """0 if ``a`` is better, 1 if ``b`` is, None for a tie, a missing value or a metric that is not a contest."""
    if not spec.better or a is None or b is None or spec.format(a) == spec.format(b):
        return None
    return int((b > a) == (spec.better == "higher"))


# The questions the Smoothness lab answers, each by one or more scoreboard rows.
QUESTIONS: dict[str, tuple[str, ...]] = {
    "validity": ("prior_valid",),
    "path smoothness": ("path_mean_step", "path_max_step"),
    "holes": ("prior_holes", "fitted_holes"),
    "reconstruction": ("recon_mse",),
}


def question_winners(a: dict[str, float | None], b: dict[str, float | None]) -> dict[str, int | None]:
    """For each of QUESTIONS, 0 if ``a`` wins every one of its rows, 1 if ``b`` does, else None (split, tied or
    not measured)."""
    out: dict[str, int | None] = {}
    for question, keys in QUESTIONS.items():
        wins = {winner(SPECS[k], a.get(k), b.get(k)) for k in keys}
        out[question] = wins.pop() if len(wins) == 1 else None
    return out


@dataclass
class Scores:
    """A checkpoint's scoreboard: the numbers, the details behind them, the validity map, and provenance."""

    name: str
    kind: str
    dataset: str
    values: dict[str, float | None]
    details: dict[str, Any] = field(default_factory=dict)
    validity_map: ValidityMap | None = None
    factors: dict[str, Any] | None = None  # names, mi (D, F), spearman (D, F), mig: only with known factors
    provenance: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        d = asdict(self) | {"validity_map": self.validity_map.to_dict() if self.validity_map else None}
        return json.dumps(d, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> Scores:
        d = json.loads(text)
        vmap = ValidityMap.from_dict(d["validity_map"]) if d.get("validity_map") else None
        return cls(d["name"], d["kind"], d["dataset"], d["values"], d.get("details", {}), vmap, d.get("factors"),
                   d.get("provenance", {}))  # fmt: skip


def _r(x: float | None, digits: int = 5) -> float | None:
    return None if x is None else round(float(x), digits)


def iwae_nll(ckpt: Checkpoint, dataset: Dataset, settings: ScoreSettings) -> tuple[float | None, str]:
    """The IWAE estimate of -log p(x) (nats per image) and where it came from: the checkpoint's own (usually
    K = 1000 on every test image) when it has one, else K = ``iwae_k`` on ``iwae_images`` test images."""
    if not ckpt.config.is_vae:
        return None, "an autoencoder defines no p(x)"
    m = ckpt.meta.get("metrics", {})
    if "test_iwae_nll" in m:
        return float(m["test_iwae_nll"]), f"from the checkpoint (K = {m.get('iwae_k', '?')}, all test images)"
    binarized = bool(ckpt.meta.get("train_config", {}).get("binarize", True))
    x = evaluation_images(ckpt.model, dataset.test_x[: settings.iwae_images], binarized, settings.seed)
    ll = iwae_bound(ckpt.model, x, k=settings.iwae_k, generator=torch.Generator().manual_seed(settings.seed + 1))
    return float(-ll.mean()), f"K = {settings.iwae_k} on {len(x)} test images"


def compute_scores(
    ckpt: Checkpoint,
    dataset: Dataset,
    classifier: TrainedClassifier | None,
    settings: ScoreSettings = ScoreSettings(),
    log: Callable[[str], None] | None = None,
) -> Scores:
    """Every metric of the scoreboard for one checkpoint (without a classifier, the validity ones are None)."""
    start, s, model = time.perf_counter(), settings, ckpt.model
    say = log or (lambda _msg: None)
    mu, logvar = encode_images(model, dataset.test_x)
    data_codes = sm.posterior_samples(mu, logvar, s.seed)  # where the test images' codes actually fall
    prior_z = sm.prior_samples(model.latent_dim, s.n_prior, s.seed)
    fitted = sm.fit_gaussian(data_codes)
    fitted_z = fitted.sample(s.n_prior, s.seed + 1)
    values: dict[str, float | None] = {}
    details: dict[str, Any] = {"n_test": len(mu)}
    vmap = None
    if classifier is not None:
        say("validity of prior samples and of a fitted Gaussian's samples")
        prior_v = sample_validity(model, classifier.model, prior_z, s.threshold)
        fitted_v = sample_validity(model, classifier.model, fitted_z, s.threshold)
        values |= {"prior_valid": prior_v.valid_share, "prior_coverage": prior_v.coverage,
                   "fitted_valid": fitted_v.valid_share}  # fmt: skip
        details |= {"prior_label_counts": prior_v.label_counts, "fitted_label_counts": fitted_v.label_counts,
                    "prior_mean_confidence": _r(prior_v.mean_confidence), "fitted_coverage": _r(fitted_v.coverage),
                    "class_names": classifier.class_names}  # fmt: skip
        say("validity map")
        vmap = validity_map(model, classifier.model, mu, s.map_size)
    else:
        values |= {"prior_valid": None, "prior_coverage": None, "fitted_valid": None}
    say("interpolation paths")
    paths = sm.path_smoothness(model, mu, s.n_pairs, s.n_steps, s.seed)
    values |= {"path_mean_step": paths.mean_step, "path_max_step": paths.max_step}
    details |= {"worst_pair": list(paths.worst_pair), "even_step": paths.even_step}
    say("holes")
    prior_h = sm.hole_share(prior_z, data_codes, s.hole_quantile)
    values |= {"prior_holes": prior_h.hole_share, "fitted_holes": sm.hole_share(fitted_z, data_codes).hole_share}
    details["hole_radius"] = _r(prior_h.radius)
    values["aggregate_kl"] = None if logvar is None else sm.aggregate_posterior_kl(mu, logvar, s.n_prior, s.seed)
    values["code_kl"] = fitted.kl_to_prior()
    units = sm.active_units(mu)
    values["active_units"] = float(units.count)
    details["code_variance"] = [_r(v) for v in units.variances]
    details["kl_per_dim"] = None if logvar is None else [_r(v) for v in sm.mean_kl_per_dimension(mu, logvar)]
    say("test log-likelihood")
    values["test_nll"], details["test_nll_source"] = iwae_nll(ckpt, dataset, s)
    values["recon_mse"] = sm.reconstruction_mse(model, mu, dataset.test_x)
    factors = None
    if dataset.test_factors is not None:
        mi = dis.factor_mutual_information(mu, dataset.test_factors)
        factors = {"names": list(dataset.factor_names), "mi": np.round(mi, 4).tolist(), "mig": _r(dis.mig(mi)),
                   "spearman": np.round(dis.factor_correlation(mu, dataset.test_factors), 4).tolist()}  # fmt: skip
    return Scores(
        name=ckpt.name,
        kind=ckpt.config.kind,
        dataset=dataset.name,
        values={k: _r(v) for k, v in values.items()},
        details=details,
        validity_map=vmap,
        factors=factors,
        provenance={"version": METRICS_VERSION, "settings": asdict(s), "seconds": round(time.perf_counter() - start, 1),
                    "classifier_accuracy": classifier.meta.get("test_accuracy") if classifier else None},
    )  # fmt: skip
