"""Holes measured fairly, on latents whose answer is known: a filled disc has no holes in any of its own regions
and straight paths across it never leave it; separated islands have holes in their fitted Gaussian and their box,
and paths between islands cross them. N(0, I) alone can say the opposite (the islands may sit inside the prior)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from vae_core.evaluation import smoothness as sm
from vae_core.evaluation.paths import path_stats, random_pairs
from vae_core.evaluation.regions import REGIONS, fit_box, fit_gaussian, prior_samples, region_samples


def disc(n: int = 600, radius: float = 3.0, seed: int = 0) -> np.ndarray:
    """Codes filling a disc uniformly."""
    rng = np.random.default_rng(seed)
    r, t = radius * np.sqrt(rng.random(n)), rng.uniform(0, 2 * np.pi, n)
    return np.column_stack([r * np.cos(t), r * np.sin(t)]).astype(np.float32)


def islands(n: int = 600, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Codes in four tight islands at the corners of a square, and which island each is on."""
    rng = np.random.default_rng(seed)
    centres = np.array([[3, 3], [3, -3], [-3, 3], [-3, -3]], np.float32)
    label = np.arange(n) % 4
    return (centres[label] + 0.15 * rng.standard_normal((n, 2))).astype(np.float32), label


class LinearDecoder(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.w = torch.randn(2, 784, generator=torch.Generator().manual_seed(0))

    def decoder_mean(self, z: torch.Tensor) -> torch.Tensor:
        return (z @ self.w).view(-1, 1, 28, 28)


def holes_by_region(codes: np.ndarray) -> dict[str, float]:
    return {region: sm.hole_share(z, codes).hole_share for region, z in region_samples(codes, 2000, seed=1).items()}


def test_a_filled_disc_has_no_holes_in_its_own_regions():
    holes = holes_by_region(disc())
    # About 5 % by construction (the hole radius is the codes' own 95th-percentile spacing), plus what falls just
    # outside the rim: a Gaussian's tails, the square box's corners (a disc fills pi/4 of it).
    assert holes["fitted"] < 0.25 and holes["box"] < 0.25, holes


def test_separated_islands_have_holes_in_their_own_regions():
    holes = holes_by_region(islands()[0])
    assert holes["fitted"] > 0.8 and holes["box"] > 0.9, holes


def test_the_prior_alone_can_hide_or_invent_holes():
    """Spread wider than N(0, I), a filled disc of radius 6 'has no holes' under the prior and under its own
    regions alike; squeezed to radius 0.5 it looks full of holes under the prior while its own regions say not."""
    wide, narrow = holes_by_region(disc(radius=6.0)), holes_by_region(disc(radius=0.5))
    assert wide["prior"] < 0.15
    assert narrow["prior"] > 0.8 and narrow["fitted"] < 0.25


def test_the_regions_are_what_they_say():
    codes = islands()[0]
    samples = region_samples(codes, 3000, seed=2)
    assert set(samples) == set(REGIONS) and all(z.shape == (3000, 2) for z in samples.values())
    np.testing.assert_array_equal(samples["prior"], prior_samples(2, 3000, seed=2)), "the same z for every model"
    np.testing.assert_allclose(samples["fitted"].mean(axis=0), fit_gaussian(codes).mean, atol=0.2)
    box = fit_box(codes)
    assert (samples["box"] >= box.low).all() and (samples["box"] <= box.high).all()
    assert box.low == pytest.approx(np.quantile(codes, 0.005, axis=0)), "one stray code does not set the box"


def test_paths_across_a_disc_stay_on_the_data_and_paths_between_islands_leave_it():
    codes_disc = disc()
    labels = np.arange(len(codes_disc)) % 4
    on_disc = path_stats(LinearDecoder(), codes_disc, labels, codes_disc, sm.hole_radius(codes_disc), n_pairs=100)
    codes_islands, island = islands()
    across = path_stats(
        LinearDecoder(), codes_islands, island, codes_islands, sm.hole_radius(codes_islands), n_pairs=100
    )
    assert on_disc.holes.mean() < 0.08, "about the 5 % the hole rule allows on the data itself"
    assert across.holes.mean() > 0.8, "every pair joins two islands, and the gap between them is a hole"
    assert on_disc.smudges is None, "without a judge nothing is called a smudge"
    np.testing.assert_allclose(across.max_step, 1 / 15, rtol=1e-3), "a linear decoder morphs evenly, holes or not"


def test_random_pairs_join_different_labels_and_are_the_same_for_every_model():
    labels = np.arange(500) % 10
    pairs = random_pairs(labels, 200, seed=0)
    assert pairs.shape == (200, 2) and (labels[pairs[:, 0]] != labels[pairs[:, 1]]).all()
    np.testing.assert_array_equal(pairs, random_pairs(labels, 200, seed=0))
    one_label = random_pairs(np.zeros(20, int), 50)
    assert (one_label[:, 0] != one_label[:, 1]).all(), "with one label, merely two different images"
