"""Which latent dimension follows which known factor: mutual information, MIG and traversals on codes built to
copy (or ignore) the factors."""

from __future__ import annotations

import numpy as np
import pytest

from vae_core.evaluation import disentanglement as dis
from vae_core.evaluation.regions import prior_samples

# ---- factors ----------------------------------------------------------------------------------------------


def test_each_factor_is_found_in_the_dimension_that_copies_it():
    rng = np.random.default_rng(0)
    factors = np.column_stack([rng.integers(0, 3, 600), rng.uniform(0, 1, 600)]).astype(np.float32)
    codes = np.column_stack([rng.normal(size=600), 2 * factors[:, 1] + 1, factors[:, 0] - 1])
    mi = dis.factor_mutual_information(codes, factors)
    assert mi[2, 0] == pytest.approx(1.0) and mi[1, 1] == pytest.approx(1.0)
    assert mi[0].max() < 0.1, "a noise dimension says (almost) nothing about any factor"
    rho = dis.factor_correlation(codes, factors)
    assert rho[1, 1] == pytest.approx(1.0) and rho[0, 1] < 0.15
    best = dis.best_dimensions(mi, ["shape", "x"])
    assert [(m.factor, m.dimension) for m in best] == [("shape", 2), ("x", 1)]
    assert dis.mig(mi) > 0.8


def test_traversal_moves_one_dimension_only():
    codes = prior_samples(3, 100)
    values = dis.traversal_values(codes, 1, n=5)
    z = dis.traversal(codes.mean(axis=0), 1, values)
    assert z.shape == (5, 3) and np.ptp(z[:, 0]) == 0 and np.ptp(z[:, 2]) == 0
    np.testing.assert_allclose(z[:, 1], values)
