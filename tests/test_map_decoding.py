"""From a point on a 2-D latent map back to a code: exact for PCA, a neighbour average for t-SNE."""

from __future__ import annotations

import numpy as np
import pytest

from vae_core.latent.map_decoding import LatentMap
from vae_core.latent.projection import LatentPCA

RNG = np.random.default_rng(0)


def test_pca_map_of_a_2d_latent_decodes_exactly_the_code_there():
    codes = RNG.normal(size=(200, 2)).astype(np.float32)
    lmap = LatentMap("pca").fit(codes)
    np.testing.assert_array_equal(lmap.points_, codes)  # the latent plane itself: no centring, no rotation
    point = lmap.decode_point(np.array([4.0, -3.0]))  # far from every code: still exactly the code there
    np.testing.assert_allclose(point.code, [4.0, -3.0])
    point = lmap.decode_point(lmap.points_[17])
    np.testing.assert_allclose(point.code, codes[17], atol=1e-5)
    assert point.exact and "exactly" in point.how
    assert point.neighbours[0] == 17


def test_pca_map_of_a_16d_latent_decodes_on_the_pca_plane():
    codes = RNG.normal(size=(300, 16)).astype(np.float32)
    lmap = LatentMap("pca").fit(codes)
    xy = np.array([1.5, -0.5], np.float32)
    point = lmap.decode_point(xy)
    assert point.code.shape == (16,) and not point.exact and "14 directions" in point.how
    # the decoded code maps back to the clicked place
    np.testing.assert_allclose(LatentPCA().fit(codes).transform(point.code[None])[0], xy, atol=1e-4)


def test_tsne_map_decodes_a_weighted_mean_of_nearby_codes():
    codes = RNG.normal(size=(100, 8)).astype(np.float32)
    points = RNG.normal(size=(100, 2)).astype(np.float32) * 10
    lmap = LatentMap("tsne", k=5).fit(codes, points)
    point = lmap.decode_point(points[3])
    np.testing.assert_allclose(point.code, codes[3], atol=1e-3)  # on a mapped point: (almost) its own code
    far = lmap.decode_point(np.array([500.0, 500.0]))
    nearest = codes[far.neighbours]
    assert np.all(far.code >= nearest.min(0) - 1e-5) and np.all(far.code <= nearest.max(0) + 1e-5)
    assert not far.exact and "no inverse" in far.how


def test_grid_covers_the_map_and_leaves_room_around_the_points():
    codes = RNG.normal(size=(50, 4)).astype(np.float32)
    lmap = LatentMap("pca").fit(codes)
    full = lmap.grid(20)
    lo, hi = lmap.bounds()
    assert full.shape == (400, 2) and np.allclose(full.min(0), lo) and np.allclose(full.max(0), hi)
    clear = lmap.grid(20, clearance=1.0)
    assert 0 < len(clear) < len(full)
    step = (hi - lo) / 19
    d = np.linalg.norm((clear[:, None, :] - lmap.points_[None]) / step, axis=-1)
    assert d.min() >= 1.0 - 1e-5


def test_spread_picks_distinct_points_across_the_map():
    codes = RNG.normal(size=(400, 3)).astype(np.float32)
    idx = LatentMap("pca").fit(codes).spread(6)
    assert len(idx) == len(set(idx.tolist())) and 10 < len(idx) <= 36


def test_bad_maps_say_what_is_wrong():
    with pytest.raises(ValueError, match="pca, tsne"):
        LatentMap("umap").fit(np.zeros((5, 2)))
    with pytest.raises(ValueError, match="at least 2 codes"):
        LatentMap("pca").fit(np.zeros((1, 2)))
    with pytest.raises(ValueError, match=r"\(5, 2\)"):
        LatentMap("tsne").fit(np.zeros((5, 3)), np.zeros((4, 2)))
