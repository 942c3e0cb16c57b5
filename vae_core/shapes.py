"""A procedural, dSprites-like dataset: white shapes on black whose generative factors are known exactly.

Each 28x28 image shows one shape (square, ellipse or heart) drawn from five independent factors:

- ``shape``: 0 = square, 1 = ellipse, 2 = heart (also the class label);
- ``scale``: uniform in ``SCALE_RANGE``; the shape's outer radius is ``scale * MAX_RADIUS`` pixels;
- ``rotation``: uniform in ``ROTATION_RANGE`` radians, clockwise on screen;
- ``x``, ``y``: uniform in [0, 1], the centre's position across the area where even the largest shape fits
  (``x`` grows to the right and ``y`` grows downward, as image columns and rows do).

Knowing the factors lets the app ask whether a latent dimension tracks one of them (the question behind
beta-VAE, Higgins et al. 2017, and the dSprites data set of Matthey et al. 2017). Shapes are drawn as
polygons at ``SUPERSAMPLE`` times the resolution and box-averaged down, so edges are anti-aliased.
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image, ImageDraw

IMAGE_SIZE = 28
SHAPE_NAMES: tuple[str, ...] = ("square", "ellipse", "heart")
FACTOR_NAMES: tuple[str, ...] = ("shape", "scale", "rotation", "x", "y")
SCALE_RANGE = (0.5, 1.0)
ROTATION_RANGE = (0.0, 2.0 * math.pi)
POSITION_RANGE = (0.0, 1.0)
# The outer radius (centre to farthest point) of a shape at scale 1, in pixels of the 28x28 image.
MAX_RADIUS = 7.0
# Empty space kept between the largest shape and the image border: one pixel, plus a quarter pixel for
# PIL's fill, which takes in every subpixel an edge touches.
MARGIN = 1.25
# Render at 4x and average 4x4 blocks: 16 grey levels of edge coverage, cheap enough for thousands of images.
SUPERSAMPLE = 4
# The range of factor values, in the column order of FACTOR_NAMES ("shape" is a class index).
FACTOR_RANGES: dict[str, tuple[float, float]] = {
    "shape": (0.0, float(len(SHAPE_NAMES) - 1)),
    "scale": SCALE_RANGE,
    "rotation": ROTATION_RANGE,
    "x": POSITION_RANGE,
    "y": POSITION_RANGE,
}


def _outline(name: str) -> np.ndarray:
    """The unit outline of one shape: (P, 2) polygon vertices, centred, farthest vertex at radius 1."""
    if name == "square":
        angles = math.pi / 4 + np.arange(4) * math.pi / 2
        points = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    elif name == "ellipse":
        # An aspect ratio of 2:1, so that rotation changes the image.
        t = np.linspace(0.0, 2.0 * math.pi, 48, endpoint=False)
        points = np.stack([np.cos(t), 0.5 * np.sin(t)], axis=1)
    elif name == "heart":
        # The classic heart curve; y is negated so the point is at the bottom of the image (rows grow down).
        t = np.linspace(0.0, 2.0 * math.pi, 64, endpoint=False)
        hx = 16.0 * np.sin(t) ** 3
        hy = -(13.0 * np.cos(t) - 5.0 * np.cos(2 * t) - 2.0 * np.cos(3 * t) - np.cos(4 * t))
        points = np.stack([hx, hy], axis=1)
        points -= (points.max(axis=0) + points.min(axis=0)) / 2.0
    else:  # pragma: no cover - only called with SHAPE_NAMES
        raise ValueError(f"unknown shape {name!r}; expected one of {SHAPE_NAMES}")
    return points / np.linalg.norm(points, axis=1).max()


def _centre_pixels(position: np.ndarray) -> np.ndarray:
    """Map a position factor in [0, 1] to a centre coordinate in pixels where the largest shape still fits."""
    low = MARGIN + MAX_RADIUS
    high = IMAGE_SIZE - MARGIN - MAX_RADIUS
    return low + np.asarray(position, dtype=np.float64) * (high - low)


def render_shapes(
    shape: np.ndarray, scale: np.ndarray, rotation: np.ndarray, x: np.ndarray, y: np.ndarray
) -> np.ndarray:
    """Draw one image per row of factors: returns (N, 28, 28) float32 in [0, 1].

    The arguments are equal-length 1-D arrays (or scalars, for a single image) with the meanings and ranges
    given in the module docstring. Values outside the ranges are refused, since the shape could leave the image.
    """
    arrays = [np.atleast_1d(np.asarray(a, dtype=np.float64)) for a in (shape, scale, rotation, x, y)]
    n = arrays[0].shape[0]
    for name, values in zip(FACTOR_NAMES, arrays, strict=True):
        if values.shape != (n,):
            raise ValueError(f"factor {name!r} must be a 1-D array of length {n} like 'shape' (got {values.shape})")
        low, high = FACTOR_RANGES[name]
        # The tolerance admits float32 round-off of the range ends (float32(2 pi) > 2 pi).
        if n and (not np.all(np.isfinite(values)) or values.min() < low - 1e-6 or values.max() > high + 1e-6):
            raise ValueError(
                f"factor {name!r} must lie in [{low:g}, {high:g}] (got {values.min():g}..{values.max():g})"
            )
    shape_idx, scale_v, rotation_v, x_v, y_v = arrays
    if not np.array_equal(shape_idx, np.round(shape_idx)):
        raise ValueError(f"factor 'shape' must be a whole number: 0..{len(SHAPE_NAMES) - 1} for {SHAPE_NAMES}")

    big = IMAGE_SIZE * SUPERSAMPLE
    outlines = [_outline(name) for name in SHAPE_NAMES]
    cos, sin = np.cos(rotation_v), np.sin(rotation_v)
    radius = scale_v * MAX_RADIUS * SUPERSAMPLE
    # Pixel i spans [i, i+1) for us and for PIL, which fills every subpixel the polygon touches: edges come
    # out about half a subpixel (1/8 pixel) fat, evenly on all sides, so centres of mass stay exact.
    cx = _centre_pixels(x_v) * SUPERSAMPLE
    cy = _centre_pixels(y_v) * SUPERSAMPLE

    canvas = Image.new("L", (big, big), 0)
    draw = ImageDraw.Draw(canvas)
    images = np.empty((n, IMAGE_SIZE, IMAGE_SIZE), dtype=np.uint8)
    for i in range(n):
        unit = outlines[int(shape_idx[i])]
        px = cx[i] + radius[i] * (unit[:, 0] * cos[i] - unit[:, 1] * sin[i])
        py = cy[i] + radius[i] * (unit[:, 0] * sin[i] + unit[:, 1] * cos[i])
        draw.rectangle((0, 0, big, big), fill=0)
        draw.polygon(np.stack([px, py], axis=1).ravel().tolist(), fill=255)
        # Box-average each SUPERSAMPLE x SUPERSAMPLE block: the fraction of the pixel the shape covers.
        images[i] = np.asarray(canvas.reduce(SUPERSAMPLE))
    return images.astype(np.float32) / np.float32(255.0)


def sample_factors(n: int, seed: int) -> np.ndarray:
    """Draw ``n`` independent factor rows, (n, 5) float32 in FACTOR_NAMES order, deterministically from ``seed``."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"n must be a whole number >= 0 (got {n!r})")
    rng = np.random.default_rng(seed)
    return np.stack(
        [
            rng.integers(0, len(SHAPE_NAMES), size=n).astype(np.float64),
            rng.uniform(*SCALE_RANGE, size=n),
            rng.uniform(*ROTATION_RANGE, size=n),
            rng.uniform(*POSITION_RANGE, size=n),
            rng.uniform(*POSITION_RANGE, size=n),
        ],
        axis=1,
    ).astype(np.float32)


def generate_shapes(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sample ``n`` shapes from ``seed`` and draw them.

    Returns ``(images, labels, factors)``: (n, 28, 28) float32 in [0, 1], (n,) int64 shape indices into
    SHAPE_NAMES, and (n, 5) float32 factors in FACTOR_NAMES order. The same seed gives the same arrays.
    """
    factors = sample_factors(n, seed)
    # Render from the float32 factors that are returned, so images and factors agree exactly.
    images = render_shapes(*factors.T.astype(np.float64))
    labels = factors[:, 0].astype(np.int64)
    return images, labels, factors


def factor_sweep(factors: np.ndarray, name: str, names: tuple[str, ...]) -> np.ndarray:
    """The true generative process: one image's factors (a row of the dataset's factors, ordered as ``names``)
    with only ``name`` swept over its range: the rendered images (n, 28, 28)."""
    lo, hi = FACTOR_RANGES[name]
    values = np.arange(len(SHAPE_NAMES)) if name == "shape" else np.linspace(lo, hi, 9)
    rows = np.tile(np.asarray(factors, dtype=np.float64), (len(values), 1))
    rows[:, names.index(name)] = values
    return render_shapes(*rows.T)
