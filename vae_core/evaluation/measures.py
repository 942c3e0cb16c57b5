"""The measures of the scoreboard: what each number is, which direction is better, and how it is printed.

Every measure is written to ``NAME.metrics.json`` with a 95 % bootstrap interval (``intervals.py``); a page or
the command line compares two models only through ``contrast.py``, which calls a difference inside the noise a
tie.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MetricSpec:
    """One row of the scoreboard: what the number is, and which direction is better."""

    key: str
    label: str
    explanation: str
    better: str  # "higher", "lower", or "" when it is not a contest
    group: str
    percent: bool = False
    digits: int = 3

    def format(self, value: float | None) -> str:
        if value is None:
            return "n/a"
        return f"{100 * value:.1f} %" if self.percent else f"{value:.{self.digits}f}"

    def format_interval(self, lo: float | None, hi: float | None) -> str:
        """'[12.1, 14.0] %' or '[0.148, 0.157]'; '' when there is no interval."""
        if lo is None or hi is None:
            return ""
        if self.percent:
            return f"[{100 * lo:.1f}, {100 * hi:.1f}] %"
        return f"[{lo:.{self.digits}f}, {hi:.{self.digits}f}]"

    def format_difference(self, value: float, lo: float | None = None, hi: float | None = None) -> str:
        """A signed difference with its interval: '+3.2 [1.1, 5.0] points' for shares, '-0.012 [-0.020, -0.004]'."""
        scale, unit, digits = (100, " points", 1) if self.percent else (1, "", self.digits)
        text = f"{scale * value:+.{digits}f}"
        if lo is not None and hi is not None:
            text += f" [{scale * lo:+.{digits}f}, {scale * hi:+.{digits}f}]"
        return text + unit

    @property
    def resolution(self) -> float:
        """Half a unit of the last printed digit: a smaller difference does not show, so it is a tie."""
        return 0.5 * 10 ** -(3 if self.percent else self.digits)  # a share prints as 12.3 %: to 0.001


HOLES, SMUDGES, PATHS, FIT = (
    "Holes, in each model's own regions",
    "Smudges, blends and digits",
    "Interpolation over random pairs",
    "Fit to the data",
)
GROUPS = (HOLES, SMUDGES, PATHS, FIT)

_HOLE = (
    "farther from every test code than 95 % of test codes are from their nearest neighbour (about 5 % means no holes)"
)
_SMUDGE = (
    "decoded images that look like no digit and no blend of two digits (judged against real digits and blends "
    "in the classifier's feature space, and by the classifier's top two classes)"
)
SCOREBOARD: tuple[MetricSpec, ...] = (
    MetricSpec("prior_holes", "Holes under N(0, I)", f"Share of z ~ N(0, I) {_HOLE}.", "lower", HOLES, True),
    MetricSpec("fitted_holes", "Holes under a fitted Gaussian",
               f"Share of samples of a Gaussian fitted to the model's own codes {_HOLE}.", "lower", HOLES, True),
    MetricSpec("box_holes", "Holes in the box of the codes",
               f"Share of uniform samples of the box holding the central 99 % of its codes {_HOLE}.", "lower",
               HOLES, True),
    MetricSpec("prior_smudges", "Smudges under N(0, I)", f"Share of {_SMUDGE}, for z ~ N(0, I).", "lower",
               SMUDGES, True),
    MetricSpec("fitted_smudges", "Smudges under a fitted Gaussian",
               f"Share of {_SMUDGE}, sampling a Gaussian fitted to the model's own codes.", "lower", SMUDGES, True),
    MetricSpec("box_smudges", "Smudges in the box of the codes",
               f"Share of {_SMUDGE}, sampling the box of its codes uniformly.", "lower", SMUDGES, True),
    MetricSpec("prior_blends", "Blends under N(0, I)",
               "Share of decoded z ~ N(0, I) that are plausible but not a confident digit: mostly morphs between "
               "two digits, which a smooth space should decode between clusters. Not a contest.", "", SMUDGES, True),
    MetricSpec("prior_valid", "Confident digits under N(0, I)",
               "Share of decoded z ~ N(0, I) the classifier labels with >= 90 % confidence.", "higher", SMUDGES, True),
    MetricSpec("fitted_valid", "Confident digits under a fitted Gaussian",
               "The same, sampling a Gaussian fitted to the model's own codes.", "higher", SMUDGES, True),
    MetricSpec("prior_precision", "Precision under N(0, I)",
               "Kynkaanniemi et al. 2019: share of decoded z ~ N(0, I) inside the manifold of real digits (k = 3 "
               "nearest neighbours in the classifier's feature space). Realism.", "higher", SMUDGES, True),
    MetricSpec("prior_recall", "Recall under N(0, I)",
               "Share of real digits inside the manifold of those samples: do the samples cover every way digits "
               "look?", "higher", SMUDGES, True),
    MetricSpec("fitted_precision", "Precision under a fitted Gaussian",
               "Precision for samples of a Gaussian fitted to the model's own codes.", "higher", SMUDGES, True),
    MetricSpec("fitted_recall", "Recall under a fitted Gaussian",
               "Recall for samples of a Gaussian fitted to the model's own codes.", "higher", SMUDGES, True),
    MetricSpec("prior_coverage", "Class coverage under N(0, I)",
               "Entropy of the labels the decoded z ~ N(0, I) get, divided by its maximum: 1 = every class equally "
               "often.", "higher", SMUDGES, digits=2),
    MetricSpec("path_mean_step", "Path: mean step",
               "On straight lines between two test images of different digits (16 steps), the mean pixel change "
               "per step divided by the change end to end, averaged over the pairs. Even: 1/15 = 0.067.", "lower",
               PATHS),
    MetricSpec("path_max_step", "Path: largest step",
               "The biggest single jump on such a line, as a share of the change end to end, averaged over the "
               "pairs: near 1 means the image flips in one step.", "lower", PATHS),
    MetricSpec("path_holes", "Path: share in holes",
               "Share of the inner points of such lines that lie in a hole: the path leaves the codes' region.",
               "lower", PATHS, True),
    MetricSpec("path_smudges", "Path: share smudged",
               "Share of the inner images of such lines that are smudges: the path leaves the data (a morph "
               "through blends does not count).", "lower", PATHS, True),
    MetricSpec("recon_mse", "Reconstruction error",
               "Mean squared pixel error of decode(encode(x)) on test images: the autoencoder's home game.", "lower",
               FIT, digits=4),
    MetricSpec("test_nll", "Test NLL (IWAE bound)",
               "-log p(x) in nats per test image, from the importance-weighted bound (K = 100). Only a VAE defines "
               "p(x).", "lower", FIT, digits=1),
    MetricSpec("aggregate_kl", "KL(aggregate posterior || prior)",
               "Nats between all the codes' clouds together and N(0, I). An autoencoder's codes are points, so it "
               "has none.", "lower", FIT, digits=2),
    MetricSpec("code_kl", "KL(fitted Gaussian || prior)",
               "Nats between a Gaussian fitted to the codes and N(0, I): how differently from the prior the codes "
               "are spread. Only the VAE is asked to match N(0, I), so not a contest; it explains the N(0, I) rows.",
               "", FIT, digits=2),
    MetricSpec("active_units", "Active units",
               "Latent dimensions whose mean code varies with the image (Burda et al. 2016: variance > 0.01). "
               "Capacity used; not a contest.", "", FIT, digits=0),
)  # fmt: skip
SPECS = {s.key: s for s in SCOREBOARD}
