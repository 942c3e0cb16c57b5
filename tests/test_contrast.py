"""Two scoreboards compared: verdicts only outside the noise, other seeds that must agree, the typical pair, and the
table the command line prints. Scoreboards are built by hand from known per-sample values."""

from __future__ import annotations

import numpy as np
import pytest

from vae_core.cli.metrics import contrast_table
from vae_core.evaluation.contrast import contrast, contrast_row, pair_index, tally, typical_pair
from vae_core.evaluation.intervals import estimate
from vae_core.evaluation.measures import SPECS
from vae_core.evaluation.scoreboard import Scores
from vae_core.evaluation.seeds import record_run, seed_agreement


def board(name: str, rows: dict[str, np.ndarray], paths: dict | None = None) -> Scores:
    """A scoreboard whose measures are the means of the given rows."""
    values, intervals, replicates = {}, {}, {}
    for key, r in rows.items():
        est = estimate(np.asarray(r, np.float64))
        values[key], intervals[key], replicates[key] = est.value, [est.lo, est.hi], est.replicates.tolist()
    return Scores(name, "vae", "mnist5k", values, intervals, replicates, paths or {})


def shares(p: float, n: int = 2000, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).random(n) < p


def test_a_clear_difference_is_a_win_and_noise_is_a_tie():
    vae = board("v", {"fitted_holes": shares(0.08, seed=1), "prior_smudges": shares(0.10, seed=2)})
    ae = board("a", {"fitted_holes": shares(0.17, seed=3), "prior_smudges": shares(0.105, seed=4)})
    rows = {r.spec.key: r for r in contrast(vae, ae)}
    assert rows["fitted_holes"].verdict == "VAE better" and rows["fitted_holes"].difference.hi < 0
    assert rows["prior_smudges"].verdict == "tie", "half a point apart on 2,000 samples each is noise"
    assert rows["test_nll"].verdict == "n/a", "a measure neither scoreboard has"
    assert tally(list(rows.values())) == {"VAE better": ["fitted_holes"], "tie": ["prior_smudges"]}


def test_the_verdict_follows_each_measures_direction():
    vae = board("v", {"prior_precision": shares(0.5, seed=1), "prior_holes": shares(0.5, seed=1)})
    ae = board("a", {"prior_precision": shares(0.8, seed=2), "prior_holes": shares(0.8, seed=2)})
    assert contrast_row(SPECS["prior_precision"], vae, ae).verdict == "AE better", "higher precision is better"
    assert contrast_row(SPECS["prior_holes"], vae, ae).verdict == "VAE better", "fewer holes are better"
    assert contrast_row(SPECS["prior_blends"], board("v", {"prior_blends": shares(0.8)}),
                        board("a", {"prior_blends": shares(0.2)})).verdict == "not a contest"  # fmt: skip


def test_a_win_that_another_seed_does_not_repeat_is_a_tie():
    vae = board("v", {"path_max_step": np.full(200, 0.19)})
    ae = board("a", {"path_max_step": np.full(200, 0.26)})
    assert contrast_row(SPECS["path_max_step"], vae, ae).verdict == "VAE better"
    recipe = {"model_config": {}, "train_config": {}}
    for seed, (v, a) in {1: (0.20, 0.25), 2: (0.24, 0.22)}.items():  # seed 2 says the opposite
        record_run(vae, recipe, seed, {"path_max_step": v})
        record_run(ae, recipe, seed, {"path_max_step": a})
    row = contrast_row(SPECS["path_max_step"], vae, ae)
    assert row.verdict == "tie" and row.seeds == (2, 3)
    assert seed_agreement(SPECS["path_max_step"], vae, ae, direction=0) == (2, 3)
    record_run(ae, recipe, 2, {"path_max_step": 0.27})
    assert contrast_row(SPECS["path_max_step"], vae, ae).verdict == "VAE better", "all three seeds agree"


def test_runs_of_another_recipe_are_dropped():
    s = board("v", {})
    record_run(s, {"train_config": {"epochs": 20}}, 1, {"x": 1.0})
    record_run(s, {"train_config": {"epochs": 40}}, 2, {"x": 2.0})
    assert list(s.seeds["runs"]) == ["2"]


def paths_table(va: np.ndarray, vb: np.ndarray, ends: np.ndarray | None = None) -> tuple[dict, dict]:
    pairs = [[i, i + 100] for i in range(len(va))]
    a = {"pairs": pairs, "max_step": va.tolist(), "n_steps": 16}
    b = {"pairs": pairs, "max_step": vb.tolist(), "n_steps": 16}
    if ends is not None:
        a["ends_recognised"] = b["ends_recognised"] = ends.tolist()
    return a, b


def test_the_typical_pair_sits_at_the_median_of_both_models_and_their_difference():
    rng = np.random.default_rng(0)
    va = rng.permutation(101) / 512 + 0.125  # distinct values, exact in binary
    pa, pb = paths_table(va, va + 1 / 64)  # every pair is equally worse for b: the difference says nothing
    t = typical_pair(board("v", {}, pa), board("a", {}, pb))
    assert t.index == int(np.argsort(va)[50]), "the median pair"
    assert abs(t.percentiles[0] - 50) < 1 and abs(t.percentiles[1] - 50) < 1
    assert t.pair == (t.index, t.index + 100) and t.values == pytest.approx((va[t.index], va[t.index] + 1 / 64))


def test_the_typical_pair_has_ends_both_models_reconstruct():
    va = np.linspace(0.1, 0.2, 11)
    ends = np.ones(11, bool)
    ends[5] = False  # the median pair: one end is reconstructed as another digit
    pa, pb = paths_table(va, va, ends)
    t = typical_pair(board("v", {}, pa), board("a", {}, pb))
    assert t.index in (4, 6)


def test_pairs_are_found_in_either_order_and_scoreboards_must_share_them():
    pa, pb = paths_table(np.ones(5), np.ones(5))
    v = board("v", {}, pa)
    assert pair_index(v, 102, 2) == 2 and pair_index(v, 1, 2) is None
    with pytest.raises(ValueError, match="same pairs"):
        typical_pair(v, board("a", {}, {"pairs": [[0, 1]], "max_step": [0.1]}))


def test_the_command_line_table_shows_values_intervals_differences_and_verdicts():
    vae = board("mnist5k-vae-2", {"fitted_holes": shares(0.08, seed=1)})
    ae = board("mnist5k-ae-2", {"fitted_holes": shares(0.17, seed=3)})
    text = contrast_table(vae, ae)
    line = next(x for x in text.splitlines() if x.startswith("Holes under a fitted Gaussian"))
    assert "7.8 % [6.6, 8.8] %" in line and "-10.5 [-12.5, -8.5] points" in line and line.endswith("VAE better")
    assert (
        "contains 0, or that a retrained seed does not repeat, is a tie" in text.splitlines()[0]
        and text.splitlines()[-1] == "VAE better: 1"
    )
