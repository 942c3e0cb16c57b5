"""The lesson's live maps: the latent map component of the Latent map page (``ui.map_component``), where hovering
decodes the place under the pointer in the browser, for the model under it and for the other one at the same
place. A step pins the place it talks about (the middle of its path) so the decoded image there shows at once."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from vae_core.store.catalog import CheckpointInfo

from .latent_map import latent_map
from .loaders import dataset, latents, load_model
from .map_component import ROLE, MapModel
from .marked_maps import mount_test_maps


def hover_maps(models: Sequence[tuple[str, CheckpointInfo]], pins: dict[str, np.ndarray], *, key: str) -> None:
    """Mount the maps of ``models`` [(label, checkpoint)] side by side (a 2-D latent's map is its own plane), each
    pinned at ``pins[label]``, a code. A click pins nothing new here: the step's place stays pinned."""
    shown = []
    for label, info in models:
        lat = latents(info)
        z = np.asarray(pins[label], np.float64)
        shown.append(
            MapModel(
                ROLE[label],
                label,
                info,
                load_model(info),
                latent_map(lat.mu, "pca", None),
                f"latent plane · {info.name}",
                pin=(float(z[0]), float(z[1])),
                prior=label == "VAE",
            )
        )
    mount_test_maps(shown, dataset(models[0][1].dataset), key=key, on_pin=lambda _pin: None)
