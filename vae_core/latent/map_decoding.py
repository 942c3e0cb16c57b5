"""A 2-D map of latent codes and the way back: from any point on the map to a code the decoder can draw.

PCA is linear, so a map point has an exact pre-image on the PCA plane through the mean code; a 2-D latent is not
projected at all: its map is the latent plane itself, so every place is exactly a code and holes show where they
are. t-SNE has no inverse at all; the best we can do is the inverse-distance-weighted mean of the codes of the
nearest mapped points, which stays inside the cloud of real codes. The page says which of the two produced the
decoded image (and ui/map_inverse.js does the same in the browser).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np

from .projection import LatentPCA, NeighbourInverse, TSNESettings, fit_tsne, procrustes_rotation

METHODS = {"pca": "PCA", "tsne": "t-SNE"}


@dataclass(frozen=True)
class MapPoint:
    """A clicked point decoded through the map: the code, whether it is exact, and how it was obtained."""

    xy: np.ndarray  # (2,) map coordinates
    code: np.ndarray  # (D,) code handed to the decoder
    neighbours: np.ndarray  # indices of the nearest mapped points, nearest first
    exact: bool  # True when the code maps back to exactly xy
    how: str  # one sentence for the page


class LatentMap:
    """``LatentMap(method).fit(codes, points=None) -> self``; then ``decode_point(xy)`` gives a ``MapPoint``.

    ``points`` are precomputed map coordinates (e.g. a t-SNE shipped beside the checkpoint); without them the
    map is computed here (PCA: instantly; t-SNE: with ``tsne_settings``, seconds for a few thousand codes).
    Learned attributes: ``points_`` (N, 2), ``codes_`` (N, D), ``inverse_`` (LatentPCA or NeighbourInverse).
    """

    def __init__(self, method: str = "pca", k: int = 5, tsne_settings: TSNESettings = TSNESettings()) -> None:
        self.method = method
        self.k = k
        self.tsne_settings = tsne_settings

    def fit(self, codes: np.ndarray, points: np.ndarray | None = None) -> LatentMap:
        if self.method not in METHODS:
            raise ValueError(f"unknown map {self.method!r}: choose one of {', '.join(METHODS)}")
        self.codes_ = np.asarray(codes, dtype=np.float32)
        if self.codes_.ndim != 2 or len(self.codes_) < 2:
            raise ValueError(f"a map needs at least 2 codes as an (N, D) array (got shape {self.codes_.shape})")
        if self.method == "pca":
            pca = LatentPCA.plane(self.codes_) if self.latent_dim == 2 else LatentPCA().fit(self.codes_)
            self.points_ = pca.transform(self.codes_) if points is None else np.asarray(points, np.float32)
            self.inverse_: LatentPCA | NeighbourInverse = pca
        else:
            self.points_ = fit_tsne(self.codes_, self.tsne_settings) if points is None else np.asarray(points)
            self.inverse_ = NeighbourInverse(self.k).fit(self.points_, self.codes_)
        if self.points_.shape != (len(self.codes_), 2):
            raise ValueError(f"map points must be ({len(self.codes_)}, 2) for {len(self.codes_)} codes")
        self.points_ = self.points_.astype(np.float32)
        return self

    @property
    def latent_dim(self) -> int:
        return self.codes_.shape[1]

    def transform(self, codes: np.ndarray) -> np.ndarray:
        """Where codes (M, D) land on this map, (M, 2): a new image's code, a path between two codes. Exact for PCA
        (and a 2-D latent's plane, where the place is the code itself). A t-SNE map places only the codes it was
        fitted on: its points come out of an optimisation, not a function of the code."""
        if self.method != "pca":
            raise ValueError("only a PCA map (or a 2-D latent's plane) can place new codes; a t-SNE map cannot")
        codes = np.asarray(codes, dtype=np.float64)
        if codes.ndim != 2 or codes.shape[1] != self.latent_dim:
            raise ValueError(f"codes must be (M, {self.latent_dim}) for this map (got shape {codes.shape})")
        return self.inverse_.transform(codes)

    def through(self, code: np.ndarray) -> LatentMap:
        """The same map (same points, same ``transform``) whose way back passes through ``code``: at the place where
        ``code`` lands, ``code_at`` gives ``code`` itself, and around it ``code`` moved along the map's two directions
        (``LatentPCA.through``). A 2-D latent's plane already passes through every code. PCA maps only."""
        if self.method != "pca":
            raise ValueError("only a PCA map (or a 2-D latent's plane) can pass through a code; a t-SNE map cannot")
        moved = copy.copy(self)
        moved.inverse_ = self.inverse_.through(code)
        return moved

    def aligned_to(self, reference: np.ndarray) -> LatentMap:
        """The same map turned (rotated or reflected about its centre, never scaled) so that its points land as close
        as possible to ``reference`` (N, 2): where the same test images sit on another model's map. Two models'
        maps can then be compared place for place. PCA: the plane's axes turn (``LatentPCA.align_to``), so
        ``transform`` and ``code_at`` stay exact. t-SNE: the points turn and the neighbour inverse is refitted on
        them (distances between points are unchanged, so every place decodes as before). A 2-D latent's plane is
        returned as it is: its axes are the code's own coordinates, and turning them would hide that."""
        reference = np.asarray(reference, dtype=np.float64)
        if reference.shape != self.points_.shape:
            raise ValueError(f"the reference must place the same {len(self.points_)} images (got {reference.shape})")
        if self.method == "pca" and self.latent_dim == 2:
            return self
        turned = copy.copy(self)
        if self.method == "pca":
            turned.inverse_ = copy.deepcopy(self.inverse_).align_to(reference, self.codes_)
            turned.points_ = turned.inverse_.transform(self.codes_).astype(np.float32)
        else:
            centre = self.points_.astype(np.float64).mean(axis=0)
            rotation = procrustes_rotation(self.points_, reference)
            turned.points_ = ((self.points_ - centre) @ rotation + centre).astype(np.float32)
            turned.inverse_ = NeighbourInverse(self.k).fit(turned.points_, self.codes_)
        return turned

    def nearest(self, xy: np.ndarray, k: int | None = None) -> np.ndarray:
        """Indices of the k mapped points nearest to xy, nearest first."""
        d = np.linalg.norm(self.points_ - np.asarray(xy, dtype=np.float32).reshape(1, 2), axis=1)
        return np.argsort(d)[: k or self.k]

    def code_at(self, xy: np.ndarray) -> np.ndarray:
        """The code (D,) that the map sends to xy (PCA), or the best stand-in for it (t-SNE)."""
        return self.inverse_.inverse_transform(np.asarray(xy, dtype=np.float64).reshape(1, 2))[0]

    def decode_point(self, xy: np.ndarray) -> MapPoint:
        """Everything the page shows about a click at xy, except the decoded image itself."""
        xy = np.asarray(xy, dtype=np.float32).reshape(2)
        if self.method == "pca":
            exact = self.latent_dim <= 2
            how = (
                "The latent is 2-D, so the map is the latent plane itself: this place is exactly the code decoded."
                if exact
                else f"PCA inverse transform: the code on the PCA plane through the mean code. The other "
                f"{self.latent_dim - 2} directions of the {self.latent_dim}-D latent are set to their mean."
            )
        else:
            exact = False
            how = (
                f"t-SNE has no inverse: this is the distance-weighted mean of the codes of the {self.k} nearest "
                "mapped test images, so it stays among real codes even where the map is empty."
            )
        return MapPoint(xy=xy, code=self.code_at(xy), neighbours=self.nearest(xy), exact=exact, how=how)

    def bounds(self, margin: float = 0.08) -> tuple[np.ndarray, np.ndarray]:
        """Lower and upper corners of the map's bounding box, widened by ``margin`` of its size on every side."""
        lo, hi = self.points_.min(axis=0), self.points_.max(axis=0)
        pad = np.maximum(hi - lo, 1e-6) * margin
        return lo - pad, hi + pad

    def grid(self, n: int = 40, margin: float = 0.08, clearance: float = 0.0) -> np.ndarray:
        """An n x n grid of points (m, 2) covering the map: the page overlays it, invisible, so that a click
        anywhere on the plane lands on a point. Grid points closer than ``clearance`` grid steps to a mapped
        point are left out, so that near the data a click picks the test image, not the grid."""
        lo, hi = self.bounds(margin)
        gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], n), np.linspace(lo[1], hi[1], n))
        grid = np.column_stack([gx.ravel(), gy.ravel()]).astype(np.float32)
        if clearance > 0:
            step = (hi - lo) / max(n - 1, 1)
            g, p = grid / step, self.points_ / step
            d2 = (g**2).sum(1)[:, None] - 2 * g @ p.T + (p**2).sum(1)[None, :]  # squared distances, in grid steps
            grid = grid[d2.min(axis=1) >= clearance**2]
        return grid

    def spread(self, n_cells: int = 8) -> np.ndarray:
        """Indices of up to n_cells**2 mapped points spread over the map (the one nearest each cell's centre of a
        coarse grid, in occupied cells only): where to draw thumbnails without piling them up."""
        lo, hi = self.bounds(0.0)
        cell = np.floor((self.points_ - lo) / np.maximum(hi - lo, 1e-6) * n_cells).clip(0, n_cells - 1).astype(int)
        centres = lo + (cell + 0.5) * (hi - lo) / n_cells
        dist = np.linalg.norm(self.points_ - centres, axis=1)
        best: dict[tuple[int, int], int] = {}
        for i, c in enumerate(map(tuple, cell)):
            if c not in best or dist[i] < dist[best[c]]:
                best[c] = i
        return np.array(sorted(best.values()), dtype=np.int64)
