"""Interpolation as a distribution: straight paths between many random pairs of test images, for any model.

One pair proves nothing (issue 14: the Interpolate page's old default pair happened to be smoother for the
autoencoder). So ``path_stats`` walks ``n_pairs`` random pairs of test images with different labels - the same
pairs for every model scored on the same test set - and keeps one number per pair for each question:

- ``mean_step``: the mean pixel change per step divided by the change end to end (an even morph: 1/(steps-1));
- ``max_step``: the largest single step, as a share of the change end to end (near 1: the image flips at once);
- ``holes``: the share of the path's inner codes that lie in a hole (farther from every data code than the
  hole rule of ``smoothness.hole_share`` allows): the path leaves the region of the data's codes;
- ``smudges``: the share of its inner decoded images the realism judge calls smudges: the path leaves the data
  in image space (a morph through blends of two digits does not count).

Keeping the per-pair values lets a page pick a *typical* pair (near the median), never a lucky one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..latent.interpolation import lerp
from .realism import SMUDGE, RealismJudge
from .smoothness import Decodes, decode_means, nearest_distances


def random_pairs(labels: np.ndarray, n_pairs: int, seed: int = 0) -> np.ndarray:
    """(n_pairs, 2) indices of test images, the two of each pair with different labels when there are two labels
    at all (else merely different images). Depends only on (labels, n_pairs, seed)."""
    labels = np.asarray(labels)
    n = len(labels)
    if n < 2:
        raise ValueError(f"pairs need at least 2 images (got {n})")
    rng = np.random.default_rng(seed)
    a = rng.integers(0, n, n_pairs)
    b = (a + rng.integers(1, n, n_pairs)) % n  # b != a
    if len(np.unique(labels)) > 1:
        for _ in range(1000):
            same = labels[a] == labels[b]
            if not same.any():
                break
            b[same] = rng.integers(0, n, int(same.sum()))
    return np.stack([a, b], axis=1)


@dataclass(frozen=True)
class PathStats:
    """Per-pair path measures (see the module docstring); lower is better for all four."""

    pairs: np.ndarray  # (P, 2) test-image indices
    mean_step: np.ndarray  # (P,)
    max_step: np.ndarray  # (P,)
    holes: np.ndarray  # (P,)
    smudges: np.ndarray | None  # (P,), None without a judge
    n_steps: int

    @property
    def even_step(self) -> float:
        return 1.0 / (self.n_steps - 1)


def path_stats(
    model: Decodes,
    codes: np.ndarray,
    labels: np.ndarray,
    data_codes: np.ndarray,
    radius: float,
    judge: RealismJudge | None = None,
    n_pairs: int = 200,
    n_steps: int = 16,
    seed: int = 0,
) -> PathStats:
    """Walk straight lines between ``codes`` (each test image's code, e.g. the VAE's mean) of ``n_pairs`` random
    pairs, in ``n_steps`` decoded steps. ``data_codes`` and ``radius`` define the holes (``hole_share``); a path
    whose two ends decode to the same image has relative steps 0 (nothing to morph)."""
    if n_steps < 3:
        raise ValueError(f"a path needs at least 3 steps, so that it has an inside (got {n_steps})")
    codes = np.asarray(codes, np.float32)
    pairs = random_pairs(labels, n_pairs, seed)
    z = np.stack([lerp(codes[i], codes[j], n_steps) for i, j in pairs])  # (P, S, D)
    x = decode_means(model, z.reshape(-1, z.shape[-1])).reshape(n_pairs, n_steps, -1).astype(np.float64)
    steps = np.linalg.norm(np.diff(x, axis=1), axis=-1)  # (P, S-1)
    ends = np.linalg.norm(x[:, -1] - x[:, 0], axis=-1)  # (P,)
    rel = np.where(ends[:, None] > 1e-6, steps / np.maximum(ends, 1e-6)[:, None], 0.0)
    inner = z[:, 1:-1].reshape(-1, z.shape[-1])
    holes = (nearest_distances(inner, data_codes) > radius).reshape(n_pairs, -1).mean(axis=1)
    smudges = None
    if judge is not None:
        inner_images = x[:, 1:-1].reshape(-1, 28, 28).astype(np.float32)
        smudges = (judge.judge(inner_images).kind == SMUDGE).reshape(n_pairs, -1).mean(axis=1)
    return PathStats(pairs, rel.mean(axis=1), rel.max(axis=1), holes, smudges, n_steps)
