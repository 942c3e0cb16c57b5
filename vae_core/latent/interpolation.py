"""Paths between two latent codes (linear and spherical) and how much each step of a decoded path changes the image.

A VAE is trained so that nearby codes decode to similar images, so a straight walk between two codes changes
the image a little at every step. A plain autoencoder has no such pressure: the walk can cross a "hole" where the
image jumps, or stays put and then jumps. ``step_changes`` measures exactly that.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

PATHS = ("linear", "spherical")


def _check_endpoints(z0: np.ndarray, z1: np.ndarray, n_steps: int) -> tuple[np.ndarray, np.ndarray]:
    z0 = np.asarray(z0, dtype=np.float64).reshape(-1)
    z1 = np.asarray(z1, dtype=np.float64).reshape(-1)
    if z0.shape != z1.shape:
        raise ValueError(f"both endpoints must be codes of the same size (got {z0.size} and {z1.size})")
    if n_steps < 2:
        raise ValueError(f"a path needs at least 2 steps, its two endpoints (got n_steps={n_steps})")
    return z0, z1


def path_times(n_steps: int) -> np.ndarray:
    """t = 0, 1/(n-1), ..., 1: where each step of an n-step path sits between the endpoints."""
    return np.linspace(0.0, 1.0, n_steps)


def lerp(z0: np.ndarray, z1: np.ndarray, n_steps: int) -> np.ndarray:
    """Linear path z(t) = (1 - t) z0 + t z1 for n_steps evenly spaced t in [0, 1]; rows 0 and -1 are z0 and z1."""
    z0, z1 = _check_endpoints(z0, z1, n_steps)
    t = path_times(n_steps)[:, None]
    path = (1.0 - t) * z0 + t * z1
    path[0], path[-1] = z0, z1  # exact endpoints, no rounding
    return path.astype(np.float32)


def slerp(z0: np.ndarray, z1: np.ndarray, n_steps: int) -> np.ndarray:
    """Spherical path (Shoemake 1985; White 2016, "Sampling Generative Networks"):

        z(t) = sin((1 - t) W) / sin W * z0 + sin(t W) / sin W * z1,   cos W = z0.z1 / (|z0| |z1|)

    It follows the great circle between the two directions, so for endpoints of equal norm every step keeps that
    norm. Under a Gaussian prior in many dimensions almost all mass sits near the sphere of radius sqrt(D), while
    the middle of a straight line between two codes is pulled towards the origin, which is rarely sampled.
    Falls back to the straight line when the two codes point the same way (W ~ 0) or one of them is zero.
    """
    z0, z1 = _check_endpoints(z0, z1, n_steps)
    n0, n1 = np.linalg.norm(z0), np.linalg.norm(z1)
    if n0 < 1e-12 or n1 < 1e-12:
        return lerp(z0, z1, n_steps)
    omega = np.arccos(np.clip(z0 @ z1 / (n0 * n1), -1.0, 1.0))
    if np.sin(omega) < 1e-6:  # parallel (or opposite: no unique great circle)
        return lerp(z0, z1, n_steps)
    t = path_times(n_steps)[:, None]
    path = (np.sin((1.0 - t) * omega) * z0 + np.sin(t * omega) * z1) / np.sin(omega)
    path[0], path[-1] = z0, z1
    return path.astype(np.float32)


def latent_path(z0: np.ndarray, z1: np.ndarray, n_steps: int, kind: str = "linear") -> np.ndarray:
    """The path of ``kind`` ("linear" or "spherical") between two codes, (n_steps, D) float32."""
    if kind == "linear":
        return lerp(z0, z1, n_steps)
    if kind == "spherical":
        return slerp(z0, z1, n_steps)
    raise ValueError(f"unknown path {kind!r}: choose one of {', '.join(PATHS)}")


# A step that changes the image by less than this (L2 over all pixels) changed nothing anyone can see: one grey level
# (1/255) on every pixel of a 28x28 image is 0.11. Below it is floating-point noise: the decoder run on codes that
# differ in their last bits (an image interpolated with itself) gives steps of ~1e-6 that, divided by their mean,
# looked like a 14x "jump" (issue #12).
NOISE_FLOOR = 1e-3


def step_changes(images: np.ndarray) -> np.ndarray:
    """L2 pixel distance between consecutive images of a path, (n_steps - 1,): how much each step changes it; steps
    under NOISE_FLOOR count as 0.

    A smooth walk spreads the total change evenly; a jump shows up as one tall step."""
    x = np.asarray(images, dtype=np.float64)
    x = x.reshape(len(x), -1)
    changes = np.linalg.norm(np.diff(x, axis=0), axis=1)
    changes[changes < NOISE_FLOOR] = 0.0
    return changes.astype(np.float32)


def jumpiness(changes: np.ndarray) -> float:
    """The largest step over the mean step (1 = perfectly even; a path of n steps can reach n - 1 at most).

    A path that does not change the image (every step under NOISE_FLOOR) counts as even, 1."""
    changes = np.asarray(changes, dtype=np.float64)
    mean = changes.mean() if changes.size else 0.0
    return float(changes.max() / mean) if mean >= NOISE_FLOOR else 1.0


@dataclass(frozen=True)
class DecodedPath:
    """One decoded walk between two codes: the codes, the images, and how much each step changes the image."""

    kind: str  # "linear" or "spherical"
    codes: np.ndarray  # (n_steps, D)
    images: np.ndarray  # (n_steps, 28, 28) in [0, 1]
    changes: np.ndarray  # (n_steps - 1,) L2 pixel distance between consecutive images

    @property
    def total_change(self) -> float:
        """Length of the path in pixel space: the sum of its step changes."""
        return float(self.changes.sum())

    @property
    def jumpiness(self) -> float:
        return jumpiness(self.changes)


def decode_path(
    decode: Callable[[np.ndarray], np.ndarray], z0: np.ndarray, z1: np.ndarray, n_steps: int, kind: str = "linear"
) -> DecodedPath:
    """Walk from z0 to z1 along ``kind`` and decode every step with ``decode`` (codes (N, D) -> images (N, H, W)),
    e.g. ``lambda z: decode_codes(model, z)``."""
    codes = latent_path(z0, z1, n_steps, kind)
    images = np.asarray(decode(codes), dtype=np.float32)
    if len(images) != n_steps:
        raise ValueError(f"the decoder returned {len(images)} images for {n_steps} codes")
    return DecodedPath(kind=kind, codes=codes, images=images, changes=step_changes(images))
