"""Does a decoded code look like data? A classifier trained on the dataset is the judge.

- ``sample_validity``: the share of decoded samples the classifier labels with high confidence, and whether
  the samples cover every class;
- ``validity_map``: its confidence over a grid on a 2-D plane of the latent space: the holes, drawn.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..latent.map_decoding import LatentMap
from ..latent.projection import LatentPCA
from .classifier import Classifier, predict_proba
from .smoothness import Decodes, decode_means


@dataclass(frozen=True)
class Validity:
    """What a classifier thinks of decoded samples. Higher ``valid_share`` and ``coverage`` are better."""

    valid_share: float  # share of samples the classifier labels with confidence >= threshold
    mean_confidence: float  # mean of the top class probability
    coverage: float  # entropy of the predicted-label histogram / log(K): 1 = every class equally often
    label_counts: tuple[int, ...]  # how many samples got each label (argmax)
    threshold: float


def label_coverage(counts: np.ndarray) -> float:
    """Entropy of a label histogram divided by its maximum log(K): 1 when all K labels are equally common,
    0 when every sample gets the same label."""
    p = np.asarray(counts, dtype=np.float64)
    if p.sum() == 0 or len(p) < 2:
        return 0.0
    p = p[p > 0] / p.sum()
    return max(0.0, float(-(p * np.log(p)).sum() / math.log(len(counts))))


def sample_validity(model: Decodes, classifier: Classifier, z: np.ndarray, threshold: float = 0.9) -> Validity:
    """Decode ``z`` and ask the classifier: share labelled with confidence >= ``threshold`` (higher is better),
    and how evenly the samples cover the classes."""
    probs = predict_proba(classifier, decode_means(model, z))
    top = probs.max(axis=1)
    counts = np.bincount(probs.argmax(axis=1), minlength=probs.shape[1])
    return Validity(
        valid_share=float((top >= threshold).mean()),
        mean_confidence=float(top.mean()),
        coverage=label_coverage(counts),
        label_counts=tuple(int(c) for c in counts),
        threshold=threshold,
    )


@dataclass(frozen=True)
class ValidityMap:
    """The classifier's confidence on the decoded image at every point of a grid over a 2-D plane of the latent
    space: the latent space itself for a 2-D model, else the PCA plane of the codes (through their mean)."""

    plane: str  # "latent" or "pca"
    xs: np.ndarray  # (n,) grid coordinates along the plane's first axis
    ys: np.ndarray  # (n,) along the second axis
    confidence: np.ndarray  # (n, n): row r is ys[r], column c is xs[c]
    label: np.ndarray  # (n, n) the most probable class
    pca: LatentPCA | None = None
    explained: float = 1.0  # share of the codes' variance the plane shows

    def codes_at(self, points: np.ndarray) -> np.ndarray:
        """Points (M, 2) on this plane -> the codes (M, D) they stand for: the grid's own way back."""
        points = np.asarray(points, np.float64)
        return points.astype(np.float32) if self.pca is None else self.pca.inverse_transform(points)

    def corners(self) -> np.ndarray:
        """The grid drawn as an image (row 0 at the top: the largest y), its top-left, top-right and bottom-left
        corners on this plane, (3, 2): each grid point is the centre of a cell, half a step from the image's edge."""
        dx, dy = (
            (self.xs[-1] - self.xs[0]) / max(len(self.xs) - 1, 1),
            (self.ys[-1] - self.ys[0]) / max(len(self.ys) - 1, 1),
        )
        x0, x1 = self.xs[0] - dx / 2, self.xs[-1] + dx / 2
        y0, y1 = self.ys[0] - dy / 2, self.ys[-1] + dy / 2
        return np.array([[x0, y1], [x1, y1], [x0, y0]], dtype=np.float64)

    def corners_on(self, lmap: LatentMap, tol: float = 1e-4) -> np.ndarray | None:
        """Where this grid's image lands on a PCA map ``lmap`` (its ``corners``, placed with ``lmap.transform``), so a
        cell is drawn exactly where the map decodes the code that cell was decoded at; None when ``lmap`` is another
        plane (a different mean or span: the grid's codes are not on the map). The plane is affine, so three corners
        that come back unchanged (``lmap.code_at``) mean every point does."""
        codes = self.codes_at(self.corners()).astype(np.float64)
        if lmap.method != "pca" or codes.shape[1] != lmap.latent_dim:
            return None
        placed = lmap.transform(codes).astype(np.float64)
        back = lmap.inverse_.inverse_transform(placed).astype(np.float64)
        scale = max(1.0, float(np.abs(codes).max()))
        return placed if np.abs(back - codes).max() <= tol * scale else None

    def plane_map(self, codes: np.ndarray) -> LatentMap:
        """A PCA map of ``codes`` on this grid's own plane (a 2-D latent: the latent plane), for when the usual map of
        the codes is another plane: ``corners_on`` of it always places the grid."""
        lmap = LatentMap("pca").fit(codes)
        if self.pca is not None:
            lmap.inverse_, lmap.points_ = self.pca, self.pca.transform(lmap.codes_)
        return lmap

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "plane": self.plane, "explained": round(self.explained, 4),
            "xs": np.round(self.xs, 4).tolist(), "ys": np.round(self.ys, 4).tolist(),
            "confidence": np.round(self.confidence, 3).tolist(), "label": self.label.astype(int).tolist(),
        }  # fmt: skip
        if self.pca is not None:
            d["pca_mean"] = self.pca.mean_.tolist()
            d["pca_components"] = self.pca.components_.tolist()
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ValidityMap:
        pca = None
        if d.get("pca_mean") is not None:
            pca = LatentPCA()
            pca.mean_, pca.components_ = np.asarray(d["pca_mean"]), np.asarray(d["pca_components"])
        return cls(
            plane=str(d["plane"]), xs=np.asarray(d["xs"], np.float32), ys=np.asarray(d["ys"], np.float32),
            confidence=np.asarray(d["confidence"], np.float32), label=np.asarray(d["label"], np.int64),
            pca=pca, explained=float(d.get("explained", 1.0)),
        )  # fmt: skip


def _span(values: np.ndarray, include: float) -> tuple[float, float]:
    """The 0.5-99.5 % range of values, widened to contain [-include, include], padded by 10 %."""
    lo, hi = np.quantile(values, [0.005, 0.995])
    lo, hi = min(lo, -include), max(hi, include)
    pad = 0.1 * max(hi - lo, 1e-3)
    return float(lo - pad), float(hi + pad)


def validity_map(model: Decodes, classifier: Classifier, codes: np.ndarray, n: int = 40) -> ValidityMap:
    """Decode an n x n grid covering the codes (and, for a 2-D model, the prior's central region |z| <= 2) and
    record the classifier's confidence. Dark regions of a map are codes that decode to nothing recognisable."""
    codes = np.asarray(codes, np.float32)
    pca = None if codes.shape[1] == 2 else LatentPCA().fit(codes)
    points = codes if pca is None else pca.transform(codes)
    include = 2.0 if pca is None else 0.0
    xs = np.linspace(*_span(points[:, 0], include), n, dtype=np.float32)
    ys = np.linspace(*_span(points[:, 1], include), n, dtype=np.float32)
    grid = np.stack(np.meshgrid(xs, ys), axis=-1).reshape(-1, 2)  # row-major: ys outer, xs inner
    z = grid if pca is None else pca.inverse_transform(grid)
    if codes.shape[1] == 1:  # a 1-D model: the second axis is the PCA's padding axis
        z = z[:, :1]
    probs = predict_proba(classifier, decode_means(model, z))
    return ValidityMap(
        plane="latent" if pca is None else "pca",
        xs=xs,
        ys=ys,
        confidence=probs.max(axis=1).reshape(n, n),
        label=probs.argmax(axis=1).reshape(n, n),
        pca=pca,
        explained=1.0 if pca is None else float(pca.explained_variance_ratio_.sum()),
    )
