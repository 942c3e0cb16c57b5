"""Paths between codes: exact endpoints, the spherical path keeps the norm, and step changes measure the decoder."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vae_core.config import ModelConfig
from vae_core.latent.codes import decode_codes
from vae_core.latent.interpolation import decode_path, jumpiness, latent_path, lerp, slerp, step_changes
from vae_core.model import build_model

RNG = np.random.default_rng(0)


def test_lerp_endpoints_are_exact_and_steps_are_even():
    z0, z1 = RNG.normal(size=16).astype(np.float32), RNG.normal(size=16).astype(np.float32)
    path = lerp(z0, z1, 9)
    assert path.shape == (9, 16) and path.dtype == np.float32
    np.testing.assert_array_equal(path[0], z0)
    np.testing.assert_array_equal(path[-1], z1)
    gaps = np.linalg.norm(np.diff(path, axis=0), axis=1)
    np.testing.assert_allclose(gaps, gaps[0], rtol=1e-4)


def test_slerp_keeps_the_norm_of_equal_norm_endpoints():
    z0, z1 = RNG.normal(size=16), RNG.normal(size=16)
    z1 *= np.linalg.norm(z0) / np.linalg.norm(z1)
    path = slerp(z0, z1, 11)
    np.testing.assert_allclose(np.linalg.norm(path, axis=1), np.linalg.norm(z0), rtol=1e-5)
    np.testing.assert_allclose(path[0], z0, rtol=1e-6)
    np.testing.assert_allclose(path[-1], z1, rtol=1e-6)
    # ...while the straight line cuts inside the sphere
    assert np.linalg.norm(lerp(z0, z1, 11)[5]) < np.linalg.norm(z0) - 1e-3


def test_slerp_of_parallel_or_zero_codes_falls_back_to_the_line():
    z = np.array([1.0, 2.0, 3.0])
    np.testing.assert_allclose(slerp(z, 2 * z, 5), lerp(z, 2 * z, 5), rtol=1e-6)
    np.testing.assert_allclose(slerp(np.zeros(3), z, 5), lerp(np.zeros(3), z, 5), rtol=1e-6)


def test_bad_paths_say_what_is_wrong():
    with pytest.raises(ValueError, match="same size"):
        lerp(np.zeros(2), np.zeros(3), 5)
    with pytest.raises(ValueError, match="at least 2 steps"):
        slerp(np.zeros(2), np.ones(2), 1)
    with pytest.raises(ValueError, match="linear, spherical"):
        latent_path(np.zeros(2), np.ones(2), 5, "zigzag")


def test_step_change_of_a_constant_decoder_is_zero():
    constant = np.full((28, 28), 0.3, np.float32)
    path = decode_path(lambda z: np.repeat(constant[None], len(z), axis=0), np.zeros(4), np.ones(4), 8)
    assert path.images.shape == (8, 28, 28)
    np.testing.assert_array_equal(path.changes, np.zeros(7))
    assert path.total_change == 0.0 and path.jumpiness == 1.0


def test_step_changes_are_pixel_distances_and_a_jump_is_jumpy():
    images = np.zeros((4, 2, 2), np.float32)
    images[2:] = 1.0  # nothing, nothing, then every pixel jumps from 0 to 1
    np.testing.assert_allclose(step_changes(images), [0.0, 2.0, 0.0])
    assert jumpiness(step_changes(images)) == pytest.approx(3.0)  # the whole change in one of 3 steps
    assert jumpiness(np.ones(5)) == pytest.approx(1.0)


def test_decode_path_through_a_real_decoder():
    torch.manual_seed(0)
    model = build_model(ModelConfig(kind="vae", latent_dim=3)).eval()
    path = decode_path(lambda z: decode_codes(model, z), np.zeros(3), np.ones(3), 6, kind="spherical")
    assert path.kind == "spherical" and path.codes.shape == (6, 3) and path.images.shape == (6, 28, 28)
    assert path.changes.shape == (5,) and np.all(path.changes >= 0)
    np.testing.assert_allclose(path.images[0], decode_codes(model, np.zeros((1, 3)))[0], atol=1e-6)


def test_an_image_interpolated_with_itself_has_no_jump_even_with_floating_point_noise():
    rng = np.random.default_rng(0)
    image = rng.random((28, 28)).astype(np.float32)
    noisy = lambda z: image[None] + rng.normal(0, 1e-7, (len(z), 28, 28)).astype(np.float32)  # noqa: E731
    path = decode_path(noisy, np.ones(4), np.ones(4) + 1e-7, 10)
    np.testing.assert_array_equal(path.changes, np.zeros(9))
    assert path.jumpiness == 1.0, "float noise is not a 14x spike"
