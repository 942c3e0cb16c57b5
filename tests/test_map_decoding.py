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


def test_a_pca_map_places_new_codes_where_its_test_codes_lie_and_a_tsne_map_refuses():
    codes = RNG.normal(size=(120, 6)).astype(np.float32)
    lmap = LatentMap("pca").fit(codes)
    np.testing.assert_allclose(lmap.transform(codes), lmap.points_, atol=1e-5)
    far = np.array([25.0, -40.0])  # far outside the cloud: the way there and back is still exact
    np.testing.assert_allclose(lmap.transform(lmap.code_at(far)[None])[0], far, atol=1e-3)
    plane = LatentMap("pca").fit(codes[:, :2])
    np.testing.assert_allclose(plane.transform(np.array([[4.0, -3.0]])), [[4.0, -3.0]])  # 2-D: the code itself
    with pytest.raises(ValueError, match=r"\(M, 6\)"):
        lmap.transform(np.zeros((3, 2)))
    tsne = LatentMap("tsne").fit(codes, RNG.normal(size=(120, 2)))
    with pytest.raises(ValueError, match="t-SNE map cannot"):
        tsne.transform(codes[:1])


def test_a_map_through_a_code_keeps_its_places_and_decodes_that_code_where_it_lands():
    codes = RNG.normal(size=(150, 10)).astype(np.float32)
    lmap = LatentMap("pca").fit(codes)
    z = RNG.normal(size=10) * 3  # an uploaded image's code, off the PCA plane
    mean = lmap.inverse_.mean_.copy()
    moved = lmap.through(z)
    np.testing.assert_allclose(moved.transform(codes), lmap.transform(codes), atol=1e-5)  # the same map
    xy = moved.transform(z[None])[0]
    np.testing.assert_allclose(moved.code_at(xy), z, atol=1e-5)  # where z lands, z itself (not the plane's code)
    step = moved.code_at(xy + [0.5, 0.0]) - z  # around it: z moved along the map's first direction only
    np.testing.assert_allclose(step, 0.5 * lmap.inverse_.components_[0], atol=1e-5)
    assert np.abs(lmap.code_at(xy) - z).max() > 0.5, "the plane through the mean code misses z"
    np.testing.assert_array_equal(lmap.inverse_.mean_, mean)  # the original map (a cached one) is untouched
    plane = LatentMap("pca").fit(codes[:, :2])
    np.testing.assert_allclose(plane.through(np.array([5.0, 1.0])).code_at(np.array([2.0, 2.0])), [2.0, 2.0])


def _turn(points: np.ndarray, angle: float, reflect: bool = False) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    rotation = np.array([[c, -s], [s, c]]) @ (np.diag([1.0, -1.0]) if reflect else np.eye(2))
    return (points - points.mean(axis=0)) @ rotation + points.mean(axis=0) + np.array([0.3, -0.2])


@pytest.mark.parametrize("reflect", [False, True])
def test_an_aligned_pca_map_lands_on_the_other_models_map_and_still_decodes_exactly(reflect):
    """The autoencoder's map turned onto the VAE's: where its test images land on the other map is recovered (up to
    the other map's shift), no scaling, and every place still decodes to the code the plane puts there."""
    codes = (RNG.normal(size=(300, 16)) * np.linspace(3, 0.2, 16)).astype(np.float32)
    lmap = LatentMap("pca").fit(codes)
    reference = _turn(lmap.points_.astype(np.float64), 2.1, reflect)
    aligned = lmap.aligned_to(reference)
    moved = aligned.points_ - aligned.points_.mean(axis=0)
    np.testing.assert_allclose(moved, reference - reference.mean(axis=0), atol=1e-4)
    np.testing.assert_allclose(aligned.transform(codes), aligned.points_, atol=1e-5)
    for i in (0, 42, 299):  # the same image's place decodes to the same code on both versions of the map
        np.testing.assert_allclose(aligned.code_at(aligned.points_[i]), lmap.code_at(lmap.points_[i]), atol=1e-4)
    assert np.allclose(lmap.points_, LatentMap("pca").fit(codes).points_), "the map it was turned from is unchanged"


def test_an_aligned_tsne_map_turns_its_points_and_decodes_every_place_as_before():
    codes = RNG.normal(size=(120, 8)).astype(np.float32)
    points = RNG.normal(size=(120, 2)).astype(np.float32) * 10
    lmap = LatentMap("tsne").fit(codes, points)
    aligned = lmap.aligned_to(_turn(points.astype(np.float64), -0.7))
    centre = points.mean(axis=0)
    rotation = np.linalg.lstsq(points - centre, aligned.points_ - centre, rcond=None)[0]
    np.testing.assert_allclose(rotation @ rotation.T, np.eye(2), atol=1e-4)  # a rotation about the centre
    for xy in ([0.0, 0.0], [5.0, -3.0], points[7]):  # a place and its turned place decode to the same code
        turned = (np.asarray(xy, np.float64) - centre) @ rotation + centre
        np.testing.assert_allclose(aligned.code_at(turned), lmap.code_at(np.asarray(xy)), atol=1e-4)


def test_a_2d_latent_plane_is_never_turned():
    codes = RNG.normal(size=(50, 2)).astype(np.float32)
    lmap = LatentMap("pca").fit(codes)
    assert lmap.aligned_to(_turn(codes.astype(np.float64), 1.0)) is lmap
    with pytest.raises(ValueError, match="same 50 images"):
        lmap.aligned_to(np.zeros((3, 2)))
