"""Many small images as one: a grid of tiles, in numpy alone (the home page tiles its digits before torch loads)."""

from __future__ import annotations

import numpy as np


def tile_images(images: np.ndarray, n_cols: int, pad: int = 0) -> np.ndarray:
    """(N, H, W) -> one (rows*(H+pad)-pad, n_cols*(W+pad)-pad) image, row-major, black between and after the tiles."""
    n, h, w = images.shape
    rows = -(-n // n_cols)
    out = np.zeros((rows * (h + pad) - pad, n_cols * (w + pad) - pad), dtype=np.float32)
    for i, img in enumerate(images):
        r, c = divmod(i, n_cols)
        out[r * (h + pad) : r * (h + pad) + h, c * (w + pad) : c * (w + pad) + w] = img
    return out
