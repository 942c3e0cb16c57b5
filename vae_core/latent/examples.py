"""Examples a page shows by default, chosen by measurement: typical ones, never the ones that make a point best.

The rule for "a typical digit of each class": the test image whose reconstruction error, under the model at hand, is
the median of its class (the lower median when a class has an even count). A student then sees how the model does
on an ordinary digit, not on its best or its worst.
"""

from __future__ import annotations

import numpy as np
import torch

from ..model import VAE, as_tensor


@torch.no_grad()
def reconstruction_errors(model: VAE, images: np.ndarray, batch_size: int = 500) -> np.ndarray:
    """Mean squared pixel error of decode(mu(x)) against x, per image: (N,) float64. The model is only read."""
    x = as_tensor(images)
    out = []
    for i in range(0, len(x), batch_size):
        xb = x[i : i + batch_size]
        mu, _ = model.encode(xb)
        out.append(((model.decoder_mean(mu) - xb) ** 2).flatten(1).mean(dim=1).double())
    return torch.cat(out).numpy() if out else np.zeros(0)


def typical_per_class(errors: np.ndarray, labels: np.ndarray) -> dict[int, int]:
    """{class: test index} of the image whose error is its class's (lower) median, for every class present."""
    errors, labels = np.asarray(errors, np.float64), np.asarray(labels)
    if errors.shape != labels.shape:
        raise ValueError(f"one error per label is needed (got {errors.shape} and {labels.shape})")
    out = {}
    for c in np.unique(labels):
        members = np.flatnonzero(labels == c)
        order = members[np.argsort(errors[members], kind="stable")]
        out[int(c)] = int(order[(len(order) - 1) // 2])
    return out
