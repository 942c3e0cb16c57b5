"""What a running training shows: a few fixed test images, one per class, and the model's reconstructions of them."""

from __future__ import annotations

import numpy as np
import torch

from ..model import VAE


@torch.no_grad()
def reconstruct(model: VAE, x: torch.Tensor) -> np.ndarray:
    was_training = model.training
    model.eval()
    try:
        mu, _ = model.encode(x)
        return model.decoder_mean(mu)[:, 0].numpy().copy()
    finally:
        model.train(was_training)


def preview_indices(labels: np.ndarray, k: int) -> np.ndarray:
    """k fixed test images, one per class in turn (0, 1, 2, ...), so the preview shows every kind of image."""
    labels = np.asarray(labels)
    order: list[int] = []
    classes = np.unique(labels)
    per_class = [list(np.flatnonzero(labels == c)) for c in classes]
    while len(order) < min(k, len(labels)):
        for members in per_class:
            if members and len(order) < k:
                order.append(int(members.pop(0)))
    return np.asarray(order, dtype=np.int64)
