"""2-D maps of codes and the way back from a map to a code."""

import numpy as np
import pytest
import torch

from vae_core.config import ModelConfig
from vae_core.latent.codes import compute_latents, decode_codes, manifold_codes, manifold_grid, normal_grid, tile_images
from vae_core.latent.projection import (
    LatentPCA,
    NeighbourInverse,
    TSNESettings,
    fit_tsne,
    knn_accuracy,
    procrustes_rotation,
    tsne_init,
)
from vae_core.model import build_model


def test_pca_of_a_2d_latent_is_invertible_exactly():
    z = np.random.default_rng(0).normal(size=(200, 2)).astype(np.float32) * [3.0, 0.5]
    pca = LatentPCA().fit(z)
    assert np.allclose(pca.inverse_transform(pca.transform(z)), z, atol=1e-4)
    assert pca.explained_variance_ratio_[0] > 0.9


def test_pca_inverse_lands_on_the_plane_for_higher_dims():
    z = np.random.default_rng(1).normal(size=(300, 6)).astype(np.float32)
    pca = LatentPCA().fit(z)
    p = np.array([[1.0, -2.0]])
    assert np.allclose(pca.transform(pca.inverse_transform(p)), p, atol=1e-4)


def test_pca_handles_a_1d_latent():
    z = np.random.default_rng(2).normal(size=(50, 1)).astype(np.float32)
    assert LatentPCA().fit_transform(z).shape == (50, 2)


def test_neighbour_inverse_returns_the_code_at_a_mapped_point():
    points = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    codes = np.array([[1.0, 1.0, 1.0], [2.0, 2.0, 2.0], [3.0, 3.0, 3.0]])
    inv = NeighbourInverse(k=2).fit(points, codes)
    assert np.allclose(inv.inverse_transform([[10.0, 0.0]]), [[2.0, 2.0, 2.0]], atol=1e-3)
    mid = inv.inverse_transform([[5.0, 0.0]])[0]
    assert 1.0 < mid[0] < 2.0


def test_tsne_keeps_separated_clusters_apart():
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(3), 40)
    z = rng.normal(size=(120, 8)) * 0.3 + labels[:, None] * 5.0
    y = fit_tsne(z)
    assert y.shape == (120, 2)
    assert knn_accuracy(y, labels) > 0.95


def test_manifold_grid_follows_the_inverse_normal_cdf():
    v = normal_grid(5)
    assert np.allclose(v, -v[::-1], atol=1e-6) and v[2] == 0
    z = manifold_codes(3, n=5, dims=(0, 2))
    assert z.shape == (25, 3) and np.all(z[:, 1] == 0)
    assert z[0, 0] < z[4, 0] and z[0, 2] > z[20, 2]  # columns go right, rows go down
    model = build_model(ModelConfig(latent_dim=3)).eval()
    assert manifold_grid(model, n=5).shape == (140, 140)


def test_compute_latents_gives_codes_and_maps():
    torch.manual_seed(0)
    model = build_model(ModelConfig(latent_dim=4)).eval()
    images = np.random.default_rng(0).random((40, 28, 28)).astype(np.float32)
    out = compute_latents(model, images, np.arange(40) % 4)
    assert out["mu"].shape == (40, 4) and out["logvar"].shape == (40, 4)
    assert out["pca"].shape == (40, 2) and out["tsne"].shape == (40, 2)
    decoded = decode_codes(model, out["mu"][:3])
    assert decoded.shape == (3, 28, 28) and 0 <= decoded.min() and decoded.max() <= 1
    assert tile_images(decoded, n_cols=3, pad=2).shape == (28, 88)


# ---- two models' maps, aligned point for point (issue 14) --------------------------------------------------------


def _two_models(seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Codes of the same 300 images under two 'models': b is a rotated, reflected, shifted copy of a in 8-D."""
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(300, 8)) * np.array([4, 2, 1, 0.5, 0.3, 0.2, 0.1, 0.1])
    q, _ = np.linalg.qr(rng.normal(size=(8, 8)))
    return a.astype(np.float32), (a @ q * 1.5 + 3.0).astype(np.float32), q


def test_procrustes_finds_a_rotation_and_never_scales():
    rng = np.random.default_rng(3)
    s = rng.normal(size=(100, 2))
    angle = 0.7
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    r = procrustes_rotation(s, s @ rot * 2.0 + 5.0)
    np.testing.assert_allclose(r, rot, atol=1e-9)
    np.testing.assert_allclose(r @ r.T, np.eye(2), atol=1e-12)


def test_an_aligned_pca_lands_each_image_near_its_place_on_the_other_map():
    a, b, _ = _two_models()
    ref = LatentPCA().fit(a).transform(a)
    plain = LatentPCA().fit(b)
    aligned = LatentPCA().fit(b).align_to(ref, b)
    err = lambda p: np.linalg.norm(p / p.std() - ref / ref.std(), axis=1).mean()  # noqa: E731 (shapes, not scale)
    assert err(aligned.transform(b)) < 0.05 < err(plain.transform(b))
    np.testing.assert_allclose(aligned.transform(aligned.inverse_transform(ref[:5])), ref[:5], atol=1e-3)
    assert aligned.explained_variance_ratio_.sum() == pytest.approx(plain.explained_variance_ratio_.sum())
    assert np.linalg.norm(aligned.transform(b), axis=1).std() == pytest.approx(
        np.linalg.norm(plain.transform(b), axis=1).std(), rel=1e-4
    ), "aligning turns the map, it does not stretch it"


def test_tsne_starts_from_an_aligned_layout():
    a, b, _ = _two_models(1)
    ref = LatentPCA().fit(a).transform(a)
    init = tsne_init(LatentPCA().fit(b).align_to(ref, b).transform(b))
    assert init.shape == (300, 2) and init[:, 0].std() == pytest.approx(1e-4, rel=1e-3)
    settings = TSNESettings(perplexity=10, max_iter=250)
    ta, tb = fit_tsne(a, settings, init=tsne_init(ref)), fit_tsne(b, settings, init=init)
    r = procrustes_rotation(tb, ta)
    assert np.trace(r) > 1.6, "the two t-SNE maps end up nearly aligned (rotation angle under ~35 degrees)"
