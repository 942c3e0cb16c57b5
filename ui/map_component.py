"""The latent map component: the VAE's and the autoencoder's maps side by side, decoded under the cursor.

A ``st.components.v2`` component with our own JavaScript (nothing from a CDN): ``map_component.js`` and the files it
is assembled from draw each model's test codes as a 2-D scatter coloured by label (the legend toggles classes),
thumbnails of test images, zoom (wheel, +/-) and pan (drag), on canvases sized by devicePixelRatio. Hovering
decodes the place under the cursor on every animation frame, with the live pad's decoder (``live_pad_decoder.js``,
the same forward pass), and the other model at the same test image or place. The way back from a place to a code
is vae_core's (``map_inverse.js`` mirrors ``LatentMap.code_at``: PCA exactly, t-SNE through the inverse-distance
weighted nearest codes). Hovering and zooming send nothing to the server; a click (or Enter) *pins* a place, and
that is the only message: one rerun, so the page below can follow the pin (a page without anything to follow passes
``on_pin=None``: a click then holds the place in the browser alone). A map can carry **marks** drawn over its dots:
an image's own code (a star), codes drawn from q(z|x) (hollow dots), a path between two codes (a line through its
points); they travel in the small JSON header, and the map's first view fits them too. A map can also carry a
**background** under its dots (``ui.map_layers.Background``: a grid of values over the map's plane, such as the
classifier's confidence on what each place decodes to), sent once per tab as a uint8 asset.

What the browser needs per model (decoder weights, codes, map points) and per dataset (labels, a PNG atlas of the
test images) travels as named assets, once per browser tab: the session remembers which asset keys it sent
(content hashes, so a retrained model or a fresh t-SNE is new) and later reruns carry only a small JSON header.
The message is ``ui.live_pad.pack_message``'s: a uint32 length, the JSON header, then the raw bytes.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import streamlit as st
from PIL import Image

from vae_core.latent.map_decoding import LatentMap
from vae_core.store.catalog import CheckpointInfo
from vae_core.store.checkpoints import Checkpoint

from .figures import PALETTE, to_uint8
from .live_pad import decoder_payload, pack_message
from .map_layers import MARK_KINDS, Background, Mark, marks_at

__all__ = [
    "MARK_KINDS",
    "ROLE",
    "Background",
    "MapModel",
    "MapTransfer",
    "Mark",
    "Pin",
    "latent_map_component",
    "marks_at",
]

_HERE = Path(__file__).parent
# One ES module: the live pad's decoder, what our components share (component_base.js), then the map's inverse,
# drawing, its background layer, one map's events, the worker's client and the component. The decoder's text also
# travels once per tab as an asset: a Web Worker runs a second copy of it.
_DECODER = (_HERE / "live_pad_decoder.js").read_text(encoding="utf-8")
_JS = (
    "component_base.js",
    "map_inverse.js",
    "map_draw.js",
    "map_layer.js",
    "map_view.js",
    "map_worker.js",
    "map_component.js",
)
_HTML = (
    '<div class="mc-root"><div class="mc-legend" role="group" aria-label="What the maps show"></div>'
    '<div class="mc-grid"></div><div class="mc-status" role="status" aria-live="polite"></div></div>'
)
_component = st.components.v2.component(
    "vae_explorer_latent_map",
    html=_HTML,
    css=(_HERE / "map_component.css").read_text(encoding="utf-8"),
    js="\n".join([_DECODER, *((_HERE / f).read_text(encoding="utf-8") for f in _JS)]),
)
_SENT = "_latent_map_sent_keys"  # session state: the asset keys this browser tab has been sent
ATLAS_COLUMNS = 32  # thumbnails per row of the atlas
ATLAS_MAX = 1024  # thumbnails sent per dataset at most (a 28x28 image is ~0.3 kB in the PNG)
PLACE_LIMIT = 1e4  # a pinned place beyond this was not clicked on any map (maps span the test codes)
METHOD_NAMES = {"pca": "PCA", "tsne": "t-SNE", "plane": "latent plane"}
ROLE = {"VAE": "vae", "Autoencoder": "ae"}  # a map's role by its label: ?vae_at= / ?ae_at= hold its last click
AXES = {"pca": ("PC1", "PC2"), "tsne": ("t-SNE 1", "t-SNE 2"), "plane": ("z1", "z2")}  # z1, z2 on every page


@dataclass(frozen=True)
class MapModel:
    """One map of the component: a model, its map of the test codes, and its pin."""

    role: str  # "vae" or "ae": the map's query parameter (?vae_at=) and how a pin comes back; unique on a page
    label: str  # "VAE" or "Autoencoder": the map's heading
    info: CheckpointInfo
    checkpoint: Checkpoint
    lmap: LatentMap
    title: str  # beside the heading: method and model name
    pin: int | tuple[float, float] | None = None  # a test image, or a place on this map
    prior: bool = False  # draw the prior N(0, I)'s 1/2/3-sigma circles (a VAE's PCA map)
    marks: tuple[Mark, ...] = ()  # drawn over the dots, in this map's coordinates
    background: Background | None = None  # drawn under the dots (the legend's toggle hides it)

    def __post_init__(self) -> None:
        for mark in self.marks:
            if mark.code and len(mark.code) != self.lmap.latent_dim:
                raise ValueError(f"a mark's code needs the map's {self.lmap.latent_dim} numbers (got {len(mark.code)})")

    @property
    def method(self) -> str:
        """ "pca", "tsne", or "plane" for a 2-D latent shown as itself (PCA of a 2-D latent is no projection)."""
        return "plane" if self.lmap.method == "pca" and self.lmap.latent_dim == 2 else self.lmap.method


@dataclass(frozen=True)
class Pin:
    """A click the browser reported: on a test image (``target`` an int) or a place on the ``role``'s map."""

    role: str
    target: int | tuple[float, float]


@dataclass(frozen=True)
class MapTransfer:
    """What one mount sent to the browser."""

    data_bytes: int  # the component's data this rerun
    asset_bytes: int  # of which assets (0 once this tab has them all)
    first_load_bytes: dict[str, int]  # per role: its model's assets plus its share of the dataset's


def _array_asset(prefix: str, values: np.ndarray, dtype: str) -> tuple[str, dict[str, Any], bytes]:
    raw = np.ascontiguousarray(values, dtype="<f4" if dtype == "f32" else np.uint8).tobytes()
    key = f"{prefix}@{hashlib.sha256(raw).hexdigest()[:16]}"
    return key, {"kind": dtype, "shape": list(np.shape(values))}, raw


@st.cache_resource(show_spinner=False, max_entries=8)
def _atlas(dataset_name: str, n: int, _images: np.ndarray) -> tuple[str, dict[str, Any], bytes]:
    """The test images as one greyscale PNG, ATLAS_COLUMNS thumbnails a row (the first ATLAS_MAX images, or
    ATLAS_MAX spread evenly over the test set); encoded once per process and dataset."""
    index = np.arange(n) if n <= ATLAS_MAX else np.linspace(0, n - 1, ATLAS_MAX).round().astype(int)
    rows = math.ceil(len(index) / ATLAS_COLUMNS)
    sheet = np.zeros((rows * 28, ATLAS_COLUMNS * 28), dtype=np.uint8)
    for t, i in enumerate(index):
        r, c = divmod(t, ATLAS_COLUMNS)
        sheet[r * 28 : (r + 1) * 28, c * 28 : (c + 1) * 28] = to_uint8(_images[i])
    buf = io.BytesIO()
    Image.fromarray(sheet, mode="L").save(buf, format="PNG", optimize=True)
    raw = buf.getvalue()
    asset = {"kind": "atlas", "cols": ATLAS_COLUMNS, "n": len(index), "tile": 28}
    if n > ATLAS_MAX:
        asset["index"] = index.tolist()
    return f"atlas:{dataset_name}@{hashlib.sha256(raw).hexdigest()[:16]}", asset, raw


def inverse_spec(lmap: LatentMap) -> dict[str, Any]:
    """How the browser goes back from a place to a code, exactly as ``lmap.code_at`` does."""
    if lmap.method == "pca":
        pca = lmap.inverse_
        return {"kind": "linear", "mean": pca.mean_.tolist(), "components": pca.components_.tolist()}
    return {"kind": "neighbours", "k": int(lmap.k)}


def prior_centre(lmap: LatentMap) -> list[float]:
    """Where z = 0 (the prior's mean) lands on a PCA map. Its components are orthonormal, so N(0, I) projects to a
    unit Gaussian around this point: its 1/2/3-sigma circles have radii 1, 2 and 3 in map units."""
    return [float(v) for v in lmap.inverse_.transform(np.zeros((1, lmap.latent_dim)))[0]]


def read_pin(value: object, models: Sequence[MapModel]) -> Pin | None:
    """The browser's pin event ({"role", "index"} or {"role", "xy"}) checked: anything else is None. The browser is
    ours, but its messages are still input."""
    if not isinstance(value, dict):
        return None
    model = next((m for m in models if m.role == value.get("role")), None)
    if model is None:
        return None
    index, xy = value.get("index"), value.get("xy")
    if isinstance(index, int) and not isinstance(index, bool) and 0 <= index < len(model.lmap.points_):
        return Pin(model.role, index)
    if isinstance(xy, list) and len(xy) == 2 and all(isinstance(v, int | float) for v in xy):
        x, y = float(xy[0]), float(xy[1])
        if math.isfinite(x) and math.isfinite(y) and abs(x) <= PLACE_LIMIT and abs(y) <= PLACE_LIMIT:
            return Pin(model.role, (x, y))
    return None


def _pin_json(pin: int | tuple[float, float] | None) -> dict[str, Any] | None:
    if pin is None:
        return None
    return {"index": int(pin)} if isinstance(pin, int) else {"xy": [float(pin[0]), float(pin[1])]}


def latent_map_component(
    models: Sequence[MapModel],
    *,
    dataset_name: str,
    labels: np.ndarray,
    class_names: Sequence[str],
    images: np.ndarray,
    on_pin: Callable[[Pin], None] | None,
    key: str = "latent_map",
) -> MapTransfer:
    """Mount the maps (one per model, side by side); ``on_pin`` runs as a widget callback, before the rerun, when the
    user pins a place (a click or Enter); with ``on_pin=None`` a click holds the place in the browser and sends
    nothing. ``labels``, ``class_names`` and ``images`` describe the test images the maps show (the same images, in
    the same order, in every map)."""
    sent: set[str] = st.session_state.setdefault(_SENT, set())
    assets: dict[str, dict[str, Any]] = {}
    blobs: list[bytes] = []
    offset = 0
    first_load: dict[str, int] = {}

    def add(key_: str, asset: dict[str, Any], raw: bytes) -> int:
        nonlocal offset
        if key_ not in sent and key_ not in assets:
            assets[key_] = asset | {"offset": offset, "length": len(raw)}
            blobs.append(raw)
            offset += len(raw)
        return len(raw)

    source = _DECODER.encode("utf-8")
    worker = (f"decoder-js@{hashlib.sha256(source).hexdigest()[:16]}", {"kind": "text"}, source)
    shared = [_array_asset("labels", np.asarray(labels), "u8"), _atlas(dataset_name, len(images), images), worker]
    shared_bytes = sum(add(*a) for a in shared)
    maps = []
    for m in models:
        payload = decoder_payload(m.info, m.checkpoint)
        own = add(payload.key, {"kind": "decoder", "key": payload.key, "manifest": payload.manifest}, payload.blob)
        codes = _array_asset("codes", m.lmap.codes_, "f32")
        points = _array_asset("points", m.lmap.points_, "f32")
        own += add(*codes) + add(*points)
        layer = _array_asset("layer", m.background.grid_bytes(), "u8") if m.background else None
        own += add(*layer) if layer else 0
        first_load[m.role] = own + shared_bytes // max(1, len(models))
        method = m.method
        maps.append(
            {
                "role": m.role,
                "label": m.label,
                "title": m.title,
                "method": method,
                "method_name": METHOD_NAMES[method],
                "axes": AXES[method],
                "decoder": payload.key,
                "codes": codes[0],
                "points": points[0],
                "n": len(m.lmap.points_),
                "dim": m.lmap.latent_dim,
                "inverse": inverse_spec(m.lmap),
                "prior": prior_centre(m.lmap) if m.prior and m.lmap.method == "pca" else None,
                "pin": _pin_json(m.pin),
                "marks": [{"x": k.x, "y": k.y, "kind": k.kind, "label": k.label, "code": k.code} for k in m.marks],
                "background": m.background.header(layer[0]) if m.background and layer else None,
            }
        )
    header = {
        "maps": maps,
        "assets": assets,
        "labels": shared[0][0],
        "atlas": shared[1][0],
        "worker": shared[2][0],  # the decoder's source, for the worker that decodes the other map
        "classes": [str(c) for c in class_names],
        "palette": PALETTE,
        "k": int(models[0].lmap.k) if models else 5,
        "pins": on_pin is not None,  # False: a click holds a place in the browser, and Python hears nothing
    }
    data = pack_message(header, blobs)

    def pinned() -> None:
        pin = read_pin((st.session_state.get(key) or {}).get("pin"), models)
        if pin is not None and on_pin is not None:
            on_pin(pin)

    def missing() -> None:  # the browser lacks these assets: send them again on this rerun
        keys = (st.session_state.get(key) or {}).get("missing") or []
        st.session_state.setdefault(_SENT, set()).difference_update(k for k in keys if isinstance(k, str))

    _component(key=key, data=data, on_pin_change=pinned, on_missing_change=missing)
    sent.update(assets)
    return MapTransfer(data_bytes=len(data), asset_bytes=offset, first_load_bytes=first_load)


def unpack_message(data: bytes) -> tuple[dict[str, Any], bytes]:
    """The inverse of ``pack_message``: (header, blobs). For tests, and anyone who reads what the browser got."""
    (n,) = struct.unpack_from("<I", data)
    return json.loads(data[4 : 4 + n].decode("utf-8")), data[4 + n :]
