"""What a latent map draws besides the test codes: **marks** over the dots (an image's code, samples of q(z|x), a
path) and a **background** under them (a grid of values over the map's plane, e.g. the classifier's confidence on
what each place decodes to). Both are in the map's own coordinates, so they sit exactly where hovering decodes."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from vae_core.latent.map_decoding import LatentMap

MARK_KINDS = ("code", "sample", "path")  # what map_draw.js knows how to draw


@dataclass(frozen=True)
class Mark:
    """A place drawn over a map, in that map's coordinates (``LatentMap.transform`` of a code): ``"code"``, an image's
    own code (a star with its label); ``"sample"``, a code drawn from q(z|x) (a hollow dot); ``"path"``, one step of
    a path (a small square; consecutive path marks with the same label are one line). The label reads after "on":
    hovering it says "under the cursor, on {label}". With its ``code``, hovering the mark decodes that code itself
    (a PCA map of a larger latent would decode the code on its plane), and the other map its mark of the same
    kind, label and rank (the other model's code of the same image, the same step of its path)."""

    x: float
    y: float
    kind: str
    label: str
    code: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        if self.kind not in MARK_KINDS:
            raise ValueError(f"a mark's kind is one of {', '.join(MARK_KINDS)} (got {self.kind!r})")
        if not (math.isfinite(self.x) and math.isfinite(self.y)):
            raise ValueError(f"a mark needs a finite place on the map (got {self.x}, {self.y})")


def marks_at(lmap: LatentMap, codes: np.ndarray, kind: str, label: str) -> tuple[Mark, ...]:
    """One mark per code (M, D), where ``lmap`` places it: the map the component draws, so the mark sits exactly
    where hovering decodes that code (PCA maps and a 2-D latent's plane only; see ``LatentMap.transform``)."""
    codes = np.atleast_2d(np.asarray(codes, dtype=np.float64))
    return tuple(
        Mark(float(x), float(y), kind, label, tuple(float(v) for v in z))
        for (x, y), z in zip(lmap.transform(codes), codes, strict=True)
    )


# The classifier's confidence, dark to light: dark where nothing recognisable decodes, white where it is sure; the
# steep rise from lavender to near-white ends at 0.9, the scoreboard's threshold of "a confident digit". The top class
# of K classes is never below 1/K (0.1 for digits; the lowest cell of the shipped 2-D autoencoder's map is 0.26), so
# the ramp stays dark up to 0.3.
CONFIDENCE_RAMP = (
    (0.0, "#141220"), (0.3, "#2a2540"), (0.6, "#5b4f8a"), (0.8, "#b7a9e0"), (0.9, "#e9e4fa"), (1.0, "#ffffff"),
)  # fmt: skip


@dataclass(frozen=True)
class Background:
    """A grid of values in [0, 1] drawn under a map's dots, one cell per value, coloured by ``ramp`` (value,
    "#rrggbb") stops. ``values`` (rows, cols): row 0 is the top of the image. ``corners`` (3, 2): where the image's
    top-left, top-right and bottom-left corners land on the map, in map coordinates (any rotation or reflection of
    the grid's plane is drawn as such). ``name`` is said beside the decoded image ("confidence 0.42"), ``legend``
    explains the colours (the legend's toggle hides the layer)."""

    values: np.ndarray
    corners: tuple[tuple[float, float], ...]
    name: str
    legend: str
    ramp: tuple[tuple[float, str], ...] = CONFIDENCE_RAMP

    def __post_init__(self) -> None:
        v = np.asarray(self.values)
        if v.ndim != 2 or min(v.shape) < 1 or not np.isfinite(v).all() or v.min() < 0 or v.max() > 1:
            raise ValueError(f"a background is a (rows, cols) grid of values in [0, 1] (got shape {v.shape})")
        if np.shape(self.corners) != (3, 2) or not np.isfinite(self.corners).all():
            raise ValueError(f"a background needs 3 finite corners on the map (got {np.shape(self.corners)})")

    def grid_bytes(self) -> np.ndarray:
        """The values as uint8 (0..255), what travels to the browser."""
        return np.round(np.asarray(self.values, np.float64) * 255).astype(np.uint8)

    def header(self, key: str) -> dict:
        rows, cols = np.shape(self.values)
        return {
            "grid": key, "rows": rows, "cols": cols, "corners": [list(map(float, c)) for c in self.corners],
            "name": self.name, "legend": self.legend, "ramp": [[float(t), c] for t, c in self.ramp],
        }  # fmt: skip


def ramp_colour(ramp: tuple[tuple[float, str], ...], value: float) -> tuple[int, int, int]:
    """The colour of ``value`` on a ramp, linear between stops, exactly as map_layer.js paints it."""
    stops = [(t, [int(c[k : k + 2], 16) for k in (1, 3, 5)]) for t, c in ramp]
    for (t0, c0), (t1, c1) in zip(stops, stops[1:], strict=False):
        if value <= t1:
            f = 0.0 if t1 == t0 else min(1.0, max(0.0, (value - t0) / (t1 - t0)))
            return tuple(round(a + (b - a) * f) for a, b in zip(c0, c1, strict=True))  # type: ignore[return-value]
    return tuple(stops[-1][1])  # type: ignore[return-value]
