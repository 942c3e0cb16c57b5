"""Intervals and ties: a bootstrap interval that covers what it should, and a verdict that calls a difference inside
the noise a tie (issue 14: the scoreboard once named a winner on 0.152 vs 0.155)."""

from __future__ import annotations

import numpy as np
import pytest

from vae_core.evaluation.intervals import N_BOOT, compare, estimate, percentile_interval, resample_indices, verdict_text
from vae_core.evaluation.regions import fit_gaussian


def test_the_resampling_plan_depends_only_on_the_number_of_rows():
    np.testing.assert_array_equal(resample_indices(50), resample_indices(50))
    assert resample_indices(50).shape == (N_BOOT, 50) and resample_indices(50).max() < 50
    assert not np.array_equal(resample_indices(50)[:, :40], resample_indices(40))
    with pytest.raises(ValueError, match="at least one row"):
        resample_indices(0)


def test_the_interval_of_a_share_has_the_binomial_width():
    rows = np.random.default_rng(0).random(2000) < 0.3
    est = estimate(rows)
    assert est.value == pytest.approx(rows.mean())
    half_width = 1.96 * np.sqrt(0.3 * 0.7 / 2000)  # about 2 points
    assert est.lo < est.value < est.hi
    assert (est.hi - est.lo) / 2 == pytest.approx(half_width, rel=0.2)


def test_a_constant_measure_has_a_zero_width_interval():
    est = estimate(np.ones(300))
    assert est.value == est.lo == est.hi == 1.0


def test_a_biased_statistic_is_corrected_and_its_interval_covers_the_truth():
    """A fitted Gaussian's KL to N(0, I) from 500 codes in 16-D comes out too high (and higher still on resamples,
    whose duplicated rows shrink the covariance): the plug-in value misses the truth, the corrected one does not."""
    codes = np.random.default_rng(1).standard_normal((500, 16)) * 1.2
    truth = 0.5 * 16 * (1.44 - 1 - np.log(1.44))  # KL(N(0, 1.44 I) || N(0, I))
    kl = lambda r: fit_gaussian(r).kl_to_prior()  # noqa: E731
    plain, corrected = estimate(codes, kl), estimate(codes, kl, bias_correct=True)
    assert not plain.lo <= truth <= plain.hi
    assert corrected.lo <= truth <= corrected.hi and corrected.lo <= corrected.value <= corrected.hi


def test_two_samples_of_the_same_thing_are_a_tie():
    rng = np.random.default_rng(2)
    a, b = estimate(rng.random(500) < 0.5), estimate(rng.random(500) < 0.5)
    assert compare(a.value, a.replicates, b.value, b.replicates, "higher").better is None


def test_a_difference_far_outside_the_noise_is_a_win_in_the_right_direction():
    rng = np.random.default_rng(3)
    a, b = estimate(rng.random(1000) < 0.2), estimate(rng.random(1000) < 0.6)
    lower = compare(a.value, a.replicates, b.value, b.replicates, "lower")
    assert lower.better == 0 and lower.hi < 0 and lower.lo < lower.value < lower.hi
    assert compare(a.value, a.replicates, b.value, b.replicates, "higher").better == 1


def test_pairing_finds_a_small_consistent_difference_that_independent_samples_hide():
    """The same 200 items measured on two models (the same pairs of test images): a consistent small offset is
    real, even though each model's own interval is wider than the offset."""
    rng = np.random.default_rng(4)
    base = rng.normal(0.15, 0.05, 200)
    a, b = estimate(base), estimate(base + 0.004 + rng.normal(0, 0.002, 200))
    assert a.hi > b.lo, "the two intervals overlap"
    assert compare(a.value, a.replicates, b.value, b.replicates, "lower").better == 0


def test_a_difference_too_small_to_print_is_a_tie():
    a, b = estimate(np.full(100, 0.1520)), estimate(np.full(100, 0.1521))
    assert compare(a.value, a.replicates, b.value, b.replicates, "lower").better == 0
    assert compare(a.value, a.replicates, b.value, b.replicates, "lower", resolution=0.0005).better is None


def test_a_measure_without_a_direction_is_never_a_contest():
    a, b = estimate(np.zeros(100)), estimate(np.ones(100))
    assert compare(a.value, a.replicates, b.value, b.replicates, "").better is None
    assert verdict_text(None, contest=False) == "not a contest"
    assert [verdict_text(w) for w in (0, 1, None)] == ["VAE better", "AE better", "tie"]


def test_models_with_different_numbers_of_replicates_cannot_be_compared():
    with pytest.raises(ValueError, match="different numbers of replicates"):
        compare(0.1, np.zeros(10), 0.2, np.zeros(20), "lower")


def test_the_interval_is_the_central_95_percent_of_the_replicates():
    reps = np.random.default_rng(5).normal(0, 1, 4000)
    lo, hi = percentile_interval(reps)
    assert (lo, hi) == pytest.approx(tuple(np.percentile(reps, [2.5, 97.5])), abs=1e-9)
