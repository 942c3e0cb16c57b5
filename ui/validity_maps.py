"""The Smoothness lab's maps: each model's validity map (the classifier's confidence on the image decoded at every
place of a plane of its latent space, ``vae_core.evaluation.validity``) drawn as the background of the latent map
component, the test codes on top. Hovering decodes the place under the cursor in the browser, so a student can move
into a dark region and watch the smudge that lives there. Nothing to follow a pin: a click holds a place in the
browser and sends nothing."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import streamlit as st

from vae_core.data import DatasetUnavailable
from vae_core.evaluation.validity import ValidityMap
from vae_core.latent.map_decoding import LatentMap
from vae_core.store.catalog import CheckpointInfo
from vae_core.store.checkpoints import Checkpoint

from .loaders import dataset, latents
from .map_component import Background, MapModel
from .marked_maps import mount_test_maps, pca_map
from .scoreboard_view import scores

CONFIDENT = 0.9  # the ramp's step to near-white (ui.map_layers.CONFIDENCE_RAMP) and the scoreboard's threshold
LEGEND = "behind the dots: the classifier's confidence (dark: a smudge, white: a confident digit, \u2265 0.9)"


def validity_layer(vmap: ValidityMap, lmap: LatentMap, codes: np.ndarray) -> tuple[LatentMap, Background]:
    """The map to draw and the validity grid as its background, placed so that each cell lies exactly where the map
    decodes the code that cell was judged at. The grid's plane is the map's (a 2-D latent: the latent itself; else
    the PCA plane of the same test codes), so ``lmap`` is kept; were it another plane, the map is redrawn on the
    grid's own plane (``ValidityMap.plane_map``) rather than place the grid where its codes are not."""
    corners = vmap.corners_on(lmap)
    if corners is None:
        lmap = vmap.plane_map(codes)
        corners = vmap.corners_on(lmap)
    values = np.clip(np.asarray(vmap.confidence, np.float64)[::-1], 0.0, 1.0)  # row 0 of an image is its top
    return lmap, Background(values, tuple(map(tuple, corners)), name="confidence", legend=LEGEND)


def validity_maps(models: Sequence[tuple[str, str, CheckpointInfo, Checkpoint]], *, key: str) -> list[MapModel]:
    """Mount one component with a map per model [(role, label, info, checkpoint)], side by side, each over its own
    validity map (a model without one, for a dataset without a classifier, shows its codes alone). Returns what was
    drawn ([] with a note when the test images are not on this server)."""
    try:
        ds = dataset(models[0][2].dataset)
    except DatasetUnavailable as e:
        st.info(f"The latent maps need the test images of this dataset: {e}")
        return []
    shown = []
    for role, label, info, ckpt in models:
        lmap, vmap, background = pca_map(info), scores(info).validity_map, None
        if vmap is not None:
            lmap, background = validity_layer(vmap, lmap, latents(info).mu)
        title = f"{'latent plane' if lmap.latent_dim == 2 else 'PCA'} \u00b7 {info.name}"
        shown.append(MapModel(role, label, info, ckpt, lmap, title, prior=True, background=background))
    mount_test_maps(shown, ds, key=key)
    return shown
