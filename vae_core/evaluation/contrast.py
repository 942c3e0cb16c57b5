"""Two scoreboards side by side: each measure's difference with its interval and a verdict (VAE better / tie /
AE better), and the typical interpolation pair. Reads only what the metrics files hold, so a page and the command
line say the same thing.

The ties rule (``intervals.compare``): a difference counts only when its 95 % bootstrap interval excludes 0 and it
shows at the printed precision. The intervals cover the sampling of the measurement (prior draws, pairs, test
images) for the two checkpoints at hand. When the same recipes were retrained with other seeds (``seeds.py``), a
difference also has to point the same way on every seed, or it is a tie.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from .intervals import Difference, compare, verdict_text
from .measures import SCOREBOARD, MetricSpec
from .scoreboard import Scores
from .seeds import seed_agreement


@dataclass(frozen=True)
class ContrastRow:
    """One measure for two models: their values and intervals, the difference a - b, and the verdict."""

    spec: MetricSpec
    a: tuple[float | None, float | None, float | None]  # value, lo, hi
    b: tuple[float | None, float | None, float | None]
    difference: Difference | None  # None when a value is missing
    verdict: str  # "VAE better", "AE better", "tie", "not a contest" or "n/a"
    seeds: tuple[int, int] | None = None  # seeds on which the difference points the way it does here, of how many

    @property
    def better(self) -> int | None:
        return None if self.difference is None else self.difference.better


def _triple(s: Scores, key: str) -> tuple[float | None, float | None, float | None]:
    return (s.values.get(key), *s.interval(key))


def contrast_row(spec: MetricSpec, a: Scores, b: Scores, names: tuple[str, str] = ("VAE", "AE")) -> ContrastRow:
    """The contrast of one measure; 'n/a' when either model has no value (e.g. an autoencoder's test NLL)."""
    va, vb = a.values.get(spec.key), b.values.get(spec.key)
    ra, rb = a.replicates.get(spec.key), b.replicates.get(spec.key)
    if va is None or vb is None or not ra or not rb or len(ra) != len(rb):
        return ContrastRow(spec, _triple(a, spec.key), _triple(b, spec.key), None, "n/a")
    diff = compare(va, np.asarray(ra), vb, np.asarray(rb), spec.better, spec.resolution)
    seeds = None
    if spec.better and abs(diff.value) >= spec.resolution:
        seeds = seed_agreement(spec, a, b, 0 if (diff.value > 0) == (spec.better == "higher") else 1)
        if seeds is not None and seeds[0] < seeds[1]:
            diff = replace(diff, better=None)  # a win that another seed does not repeat is a tie
    verdict = verdict_text(diff.better, names, contest=bool(spec.better))
    return ContrastRow(spec, _triple(a, spec.key), _triple(b, spec.key), diff, verdict, seeds)


def contrast(a: Scores, b: Scores, names: tuple[str, str] = ("VAE", "AE")) -> list[ContrastRow]:
    """Every measure of the scoreboard, in its order, for models ``a`` and ``b``."""
    return [contrast_row(spec, a, b, names) for spec in SCOREBOARD]


def tally(rows: list[ContrastRow]) -> dict[str, list[str]]:
    """The measures each verdict went to: {"VAE better": [...], "AE better": [...], "tie": [...]}."""
    out: dict[str, list[str]] = {}
    for row in rows:
        if row.verdict not in ("n/a", "not a contest"):
            out.setdefault(row.verdict, []).append(row.spec.key)
    return out


@dataclass(frozen=True)
class TypicalPair:
    """The interpolation pair nearest the middle of both models' distributions of a path measure."""

    index: int  # row in the scoreboards' path table
    pair: tuple[int, int]  # test-image indices
    values: tuple[float, float]  # the measure for model a and model b on this pair
    percentiles: tuple[float, float, float]  # where it falls for a, for b, and for the difference a - b (0-100)


def _percentile_ranks(x: np.ndarray) -> np.ndarray:
    """Each value's mid-rank as a percentile of the sample, 0-100 (tied values share the middle of their ranks)."""
    _, inverse, counts = np.unique(x, return_inverse=True, return_counts=True)
    below = np.cumsum(counts) - counts
    return 100.0 * (below + counts / 2)[inverse] / len(x)


def _ranks(a: Scores, b: Scores, measure: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Both models' per-pair ``measure`` and the (3, P) percentile ranks of a's, b's and their difference."""
    pa, pb = a.paths, b.paths
    if not pa or not pb or pa.get("pairs") != pb.get("pairs") or not pa.get(measure) or not pb.get(measure):
        raise ValueError("the two scoreboards did not walk the same pairs; rescore them with the same settings")
    va, vb = np.asarray(pa[measure], np.float64), np.asarray(pb[measure], np.float64)
    return va, vb, np.stack([_percentile_ranks(va), _percentile_ranks(vb), _percentile_ranks(va - vb)])


def pair_standing(a: Scores, b: Scores, index: int, measure: str = "max_step") -> TypicalPair:
    """Where the pair in row ``index`` of the path tables stands among all the pairs walked."""
    va, vb, ranks = _ranks(a, b, measure)
    x, y = (int(v) for v in a.paths["pairs"][index])
    return TypicalPair(index, (x, y), (float(va[index]), float(vb[index])), tuple(float(r) for r in ranks[:, index]))


def typical_pair(a: Scores, b: Scores, measure: str = "max_step") -> TypicalPair:
    """The rule for a page's default pair: among the pairs both scoreboards walked whose two ends both models
    reconstruct as their own digit (so the example is not about a failed reconstruction), the one whose
    ``measure`` is nearest the median for model a, for model b, and for their difference at once (the smallest
    largest distance of the three percentile ranks from 50, ranks taken over all pairs). Never the pair that makes
    a point best."""
    _, _, ranks = _ranks(a, b, measure)
    distance = np.abs(ranks - 50.0).max(axis=0)
    ends = np.ones(ranks.shape[1], bool)
    for p in (a.paths, b.paths):
        if p.get("ends_recognised") is not None:
            ends &= np.asarray(p["ends_recognised"], bool)
    i = int(np.where(ends, distance, np.inf).argmin()) if ends.any() else int(distance.argmin())
    return pair_standing(a, b, i, measure)


def pair_index(scores: Scores, a: int, b: int) -> int | None:
    """The row of the test pair (a, b), in either order, in a scoreboard's path table; None if it was not walked."""
    for i, (x, y) in enumerate(scores.paths.get("pairs", [])):
        if {x, y} == {a, b}:
            return i
    return None
