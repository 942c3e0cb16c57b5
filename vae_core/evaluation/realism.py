"""Is a decoded image a digit, a blend of two digits, or a smudge that looks like neither?

Classifier confidence alone cannot tell: a morph halfway between a 1 and a 7 is exactly what a smooth latent space
should decode between two clusters, yet no classifier is sure of it. So realism is judged in the shipped
classifier's feature space (its penultimate layer, ``Classifier.embed``), against real digits *and* blends of two
real digits:

- ``KNNManifold``: the improved precision/recall manifold of Kynkaanniemi et al. (2019): the union of balls around
  reference features, each reaching its k-th nearest neighbour (k = 3, as in the paper). *Precision* of a set of
  samples is the share inside the manifold of real digits; *recall* is the share of real digits inside the
  manifold of the samples (do the samples cover what digits look like?).
- ``RealismJudge``: an image is *plausible* when its realism score against real digits and two-digit blends is
  high enough **and** the classifier (trained with mixup, so it answers "half 1, half 7" for a blend) puts enough
  of its probability on at most two classes; both thresholds are calibrated on held-out test digits and their
  blends (each lets through all but 2.5 % of them). Plausible and confident (top class >= 0.9) is a *digit*,
  plausible otherwise a *blend*; not plausible is a *smudge*.

The rule errs towards calling a smudge a blend, never the other way: on mnist5k about 4 % of test digits and 3 %
of their two-digit blends are called smudges, but so are only about 15 % of averages of four digits, while a
blank or uniform grey image always is. The judge keeps its own held-out shares (``held_out_``) so a page can quote
them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..data import Dataset
from .classifier import Classifier, predict_proba

DIGIT, BLEND, SMUDGE = 0, 1, 2
KINDS = ("digit", "blend", "smudge")


@torch.no_grad()
def embed_images(classifier: Classifier, images: np.ndarray, batch_size: int = 1000) -> np.ndarray:
    """Classifier features (N, hidden) float64 for images (N, 28, 28) in [0, 1]."""
    x = torch.as_tensor(np.array(images, np.float32)).reshape(-1, 1, 28, 28)  # a copy: arrays may be read-only
    was_training = classifier.training
    classifier.eval()
    parts = [classifier.embed(x[i : i + batch_size]) for i in range(0, len(x), batch_size)]
    classifier.train(was_training)
    return torch.cat(parts).double().numpy() if parts else np.zeros((0, 1))


def two_digit_blends(
    images: np.ndarray, labels: np.ndarray, n: int, seed: int = 0, lam: tuple[float, float] = (0.35, 0.65)
) -> np.ndarray:
    """n images lam * x_a + (1 - lam) * x_b of two images with different labels, lam uniform in ``lam`` (the
    range the classifier was taught blends in)."""
    rng = np.random.default_rng(seed)
    labels = np.asarray(labels)
    if len(np.unique(labels)) < 2:
        raise ValueError("blends need images of at least two different labels")
    a = rng.integers(0, len(images), n)
    b = rng.integers(0, len(images), n)
    for _ in range(100):  # redraw partners with the same label (about 1 in 10 for digits)
        same = labels[a] == labels[b]
        if not same.any():
            break
        b[same] = rng.integers(0, len(images), int(same.sum()))
    keep = labels[a] != labels[b]
    w = rng.uniform(*lam, int(keep.sum()))[:, None, None]
    return (w * images[a[keep]] + (1 - w) * images[b[keep]]).astype(np.float32)


def _realism(queries: np.ndarray, points: np.ndarray, radii: np.ndarray, chunk: int = 2000) -> np.ndarray:
    """Kynkaanniemi et al.'s realism score max_i radii[i] / |q - points[i]| for each query, (N,): >= 1 exactly when
    the query lies inside some point's ball."""
    q, p, r = (torch.as_tensor(a, dtype=torch.float64) for a in (queries, points, radii))
    out = [
        (r[None] / torch.cdist(q[s : s + chunk], p).clamp_min(1e-12)).max(dim=1).values for s in range(0, len(q), chunk)
    ]
    return torch.cat(out).numpy() if out else np.zeros(0)


class KNNManifold:
    """Kynkaanniemi et al. (2019): the union of balls around each reference feature, of radius the distance to its
    k-th nearest other reference. ``fit(features) -> self``, ``contains(queries) -> (N,) bool``."""

    def __init__(self, k: int = 3) -> None:
        self.k = k

    def fit(self, features: np.ndarray) -> KNNManifold:
        f = torch.as_tensor(np.asarray(features), dtype=torch.float64)
        if len(f) <= self.k:
            raise ValueError(f"a k-NN manifold with k = {self.k} needs more than {self.k} points (got {len(f)})")
        radii = [torch.cdist(f[s : s + 2000], f).kthvalue(self.k + 1, dim=1).values for s in range(0, len(f), 2000)]
        self.points_, self.radii_ = f.numpy(), torch.cat(radii).numpy()  # k + 1: each point is its own nearest
        return self

    def realism(self, queries: np.ndarray) -> np.ndarray:
        """The realism score of each query (N,): how far inside the nearest-reaching ball it is; >= 1 is inside."""
        return _realism(np.asarray(queries), self.points_, self.radii_)

    def contains(self, queries: np.ndarray) -> np.ndarray:
        return self.realism(queries) >= 1.0


def top_two_mass(probs: np.ndarray) -> np.ndarray:
    """The probability the classifier puts on its two likeliest classes, (N,)."""
    return np.sort(np.asarray(probs), axis=1)[:, -2:].sum(axis=1)


@dataclass(frozen=True)
class Judgement:
    """What the judge makes of each of N images."""

    kind: np.ndarray  # (N,) DIGIT, BLEND or SMUDGE
    confidence: np.ndarray  # (N,) the top class probability
    label: np.ndarray  # (N,) the top class
    in_real: np.ndarray  # (N,) bool: inside the manifold of real digits (a precision hit)
    features: np.ndarray  # (N, hidden) for recall

    def share(self, kind: int) -> float:
        return float((self.kind == kind).mean()) if len(self.kind) else 0.0

    def shares(self) -> dict[str, float]:
        """{"digit": ..., "blend": ..., "smudge": ..., "precision": ...} over the N images."""
        return {k: round(self.share(i), 4) for i, k in enumerate(KINDS)} | {
            "precision": round(float(self.in_real.mean()), 4)
        }


class RealismJudge:
    """Digit, blend or smudge (see the module docstring). ``fit(classifier, dataset) -> self``, ``judge(images)``.

    The references are ``n_reference`` training digits and as many two-digit blends of training digits. Held out
    for calibration: the test digits and as many blends of them. ``rho_`` is the ``quantile`` of the held-out
    images' realism scores against the references, ``tau_`` that of the held-out blends' top-two mass; an image
    below either is a smudge, so about ``2 * quantile`` of real blends are (and fewer real digits)."""

    def __init__(
        self, n_reference: int = 2000, k: int = 3, confident: float = 0.9, quantile: float = 0.025, seed: int = 0
    ) -> None:
        self.n_reference, self.k, self.confident, self.quantile, self.seed = n_reference, k, confident, quantile, seed

    def fit(self, classifier: Classifier, dataset: Dataset) -> RealismJudge:
        self.classifier_ = classifier
        rng = np.random.default_rng(self.seed)
        n = min(self.n_reference, len(dataset.train_x))
        real = dataset.train_x[np.sort(rng.choice(len(dataset.train_x), n, replace=False))]
        blends = two_digit_blends(dataset.train_x, dataset.train_y, n, self.seed + 1)
        self.real_features_ = embed_images(classifier, real)
        self.real_ = KNNManifold(self.k).fit(self.real_features_)
        self.plausible_ = KNNManifold(self.k).fit(np.vstack([self.real_features_, embed_images(classifier, blends)]))
        held_digits = dataset.test_x
        held_blends = two_digit_blends(dataset.test_x, dataset.test_y, len(held_digits), self.seed + 2)
        held = np.concatenate([held_digits, held_blends])
        self.rho_ = float(np.quantile(self.plausible_.realism(embed_images(classifier, held)), self.quantile))
        self.tau_ = float(np.quantile(top_two_mass(predict_proba(classifier, held_blends)), self.quantile))
        self.held_out_ = {"test digits": self.judge(held_digits).shares(), "blends": self.judge(held_blends).shares()}
        return self

    def judge(self, images: np.ndarray) -> Judgement:
        probs = predict_proba(self.classifier_, images)
        features = embed_images(self.classifier_, images)
        plausible = (self.plausible_.realism(features) >= self.rho_) & (top_two_mass(probs) >= self.tau_)
        confidence = probs.max(axis=1) if len(probs) else np.zeros(0)
        kind = np.where(plausible, np.where(confidence >= self.confident, DIGIT, BLEND), SMUDGE)
        return Judgement(kind, confidence, probs.argmax(axis=1), self.real_.contains(features), features)

    def recall(self, sample_features: np.ndarray) -> np.ndarray:
        """Kynkaanniemi's recall, per reference digit: is it inside the manifold of the samples? (n_reference,)"""
        return KNNManifold(self.k).fit(sample_features).contains(self.real_features_)
