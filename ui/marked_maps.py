"""The latent map component with marks, for pages that show where some codes land: one image's code and its samples
of q(z|x) (Upload), a path between two codes (Interpolate). Each model's map is the Latent map page's PCA map (a
2-D latent: its own plane), so a mark sits exactly where hovering decodes its code, and the test images' dots and
thumbnails around it show what lives nearby. These pages have nothing to follow a pin: a click holds a place in the
browser and sends nothing."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import streamlit as st

from vae_core.data import Dataset, DatasetUnavailable
from vae_core.latent.map_decoding import LatentMap
from vae_core.store.catalog import CheckpointInfo
from vae_core.store.checkpoints import Checkpoint

from .latent_map import ALIGNED, latent_map, turned_onto
from .loaders import dataset, latents
from .map_component import ROLE, MapModel, Mark, Pin, latent_map_component


def pca_map(info: CheckpointInfo) -> LatentMap:
    """The PCA map of a checkpoint's test codes, the one the Latent map page shows (cached there too)."""
    return latent_map(latents(info).mu, "pca", None)


def marked_maps(
    models: Sequence[tuple[str, CheckpointInfo, Checkpoint]],
    marks: Callable[[str, LatentMap], tuple[Mark, ...]],
    *,
    key: str,
    through: Mapping[str, np.ndarray] | None = None,
) -> bool:
    """Mount the maps of ``models`` [(label, info, checkpoint)] side by side, each with ``marks(label, its map)``;
    ``through[label]``, a code, moves that map's way back to pass through it (``LatentMap.through``: hovering where
    it lands decodes that very code, and around it that code moved along the map). False (and a note saying why)
    when the test images the maps show are not on this server."""
    try:
        ds = dataset(models[0][1].dataset)
    except DatasetUnavailable as e:
        st.info(f"The latent maps need the test images of this dataset: {e}")
        return False
    shown, reference = [], None
    for label, info, ckpt in models:
        own = pca_map(info)
        lmap = own if reference is None else turned_onto(own, reference)  # onto the first (the VAE's) map
        turned, reference = lmap is not own, lmap if reference is None else reference
        if through is not None and label in through:
            lmap = lmap.through(through[label])
        title = f"{'latent plane' if lmap.latent_dim == 2 else 'PCA'}{ALIGNED * turned} · {info.name}"
        vae = label == "VAE"  # the prior's circles: a VAE's codes are drawn towards N(0, I)
        shown.append(MapModel(ROLE[label], label, info, ckpt, lmap, title, prior=vae, marks=marks(label, lmap)))
    mount_test_maps(shown, ds, key=key)
    return True


def mount_test_maps(
    shown: Sequence[MapModel], ds: Dataset, *, key: str, on_pin: Callable[[Pin], None] | None = None
) -> None:
    """Mount the maps ``shown`` of the test images of ``ds`` (labels from the first model's latents), side by side;
    ``on_pin=None`` keeps a click in the browser (no rerun)."""
    latent_map_component(
        shown,
        dataset_name=ds.name,
        labels=np.asarray(latents(shown[0].info).labels),
        class_names=ds.class_names,
        images=ds.test_x,
        on_pin=on_pin,
        key=key,
    )
