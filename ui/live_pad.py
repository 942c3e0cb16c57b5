"""The live latent pad: a Streamlit component that decodes z in the browser while you drag a pad or a slider.

Streamlit's own sliders report only on release and every rerun costs a server round trip, so nothing morphs under
the cursor. This component runs our decoder in JavaScript on every animation frame of a drag and reports z back to
Python when the user lets go, so the rest of the page follows. ``live_pad_decoder.js`` is the decoder (our forward
pass for the Decoder of vae_core/networks.py); ``live_pad.js`` draws the pad, the sliders and the images. Every model
gets a pad: a 2-D model's whole plane, or two chosen dimensions of a larger one (the others on sliders).

The component's data is one binary message: a little-endian uint32 N, N bytes of JSON (the models' keys, codes,
slider ranges and labels: under 1 kB; with a model's weights, also its test codes, drawn behind its pad: 500 x D
numbers), then raw decoder weights (``vae_core.export`` blobs, ~0.67 MB per shipped model, float16 where lossless)
for the models this browser tab does not have yet. Raw bytes skip base64 and a megabyte-long JSON string on both
ends. The session remembers which model keys it sent; the browser keeps the parsed decoders in a window-level Map, so
later reruns carry only the JSON (plus the component's HTML/CSS/JS, ~20 kB, which Streamlit resends with every
delta). If the browser ever lacks a decoder (say the tab evicted it), it asks again through the ``missing`` trigger.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import streamlit as st
import torch

from vae_core.export import DecoderPayload, export_decoder
from vae_core.latent.axes import LatentAxes
from vae_core.store.catalog import CheckpointInfo
from vae_core.store.checkpoints import Checkpoint

from .figures import PALETTE
from .loaders import model_key

_HERE = Path(__file__).parent
_HTML = '<div class="lp-root"><div class="lp-grid"></div><div class="lp-status" role="status"></div></div>'
_component = st.components.v2.component(
    "vae_explorer_live_pad",
    html=_HTML,
    css=(_HERE / "live_pad.css").read_text(encoding="utf-8"),
    # One ES module: the decoder (parsing, forward pass, test hooks), what our components share, then the pad's UI.
    js="\n".join(
        (_HERE / f).read_text(encoding="utf-8") for f in ("live_pad_decoder.js", "component_base.js", "live_pad.js")
    ),
)
_SENT = "_live_pad_sent_keys"  # session state: the model keys whose weights this browser tab has been sent


@st.cache_resource(show_spinner=False, max_entries=32)
def _payload(path: str, version: str, name: str, _model: torch.nn.Module) -> DecoderPayload:
    return export_decoder(_model, name)


def decoder_payload(info: CheckpointInfo, checkpoint: Checkpoint) -> DecoderPayload:
    """The decoder of a checkpoint as a browser payload, exported once per process and file version."""
    return _payload(str(info.path), model_key(info), info.name, checkpoint.model)


@dataclass(frozen=True)
class PadModel:
    """One column of the pad: a model, the code it shows, and which dimensions get sliders."""

    label: str  # "VAE" or "Autoencoder": the column's title, and how z comes back from the browser
    info: CheckpointInfo
    checkpoint: Checkpoint
    z: np.ndarray  # (D,) the code to show
    pad_dims: tuple[int, int]  # the pad's (across, up) dimensions
    dims: tuple[int, ...]  # dimensions with a slider
    axes: LatentAxes
    codes: np.ndarray | None = None  # (N, D) test codes, drawn faintly behind the pad
    labels: np.ndarray | None = None  # (N,) their labels (colours)


@dataclass(frozen=True)
class PadTransfer:
    """What one mount sent to the browser (the page can say so)."""

    data_bytes: int  # the component's data this rerun
    weights_bytes: int  # of which decoder weights (0 once this tab has them)
    keys: tuple[str, ...]  # the model keys shown


def _asset(payload: DecoderPayload, model: PadModel, offset: int) -> dict[str, Any]:
    """How the browser finds a decoder in the message: its manifest and where its blob sits after the JSON."""
    asset: dict[str, Any] = {
        "key": payload.key,
        "manifest": payload.manifest,
        "offset": offset,
        "length": len(payload.blob),
    }
    if model.codes is not None:  # (N, D) row-major; the pad reads the columns of its two dimensions
        asset["codes"] = [round(float(v), 3) for v in np.asarray(model.codes).ravel()]
        asset["labels"] = [int(v) for v in model.labels] if model.labels is not None else None
    return asset


def pack_message(header: dict[str, Any], blobs: Sequence[bytes]) -> bytes:
    """uint32 little-endian length of the JSON header, the header (UTF-8), then the blobs back to back."""
    head = json.dumps(header, separators=(",", ":")).encode("utf-8")
    return struct.pack("<I", len(head)) + head + b"".join(blobs)


def live_pad(
    models: Sequence[PadModel],
    *,
    rev: int,
    on_release: Callable[[dict[str, np.ndarray]], None],
    sample: bool = False,
    seed: int = 0,
    key: str = "live_pad",
) -> PadTransfer:
    """Mount the pad: one column per model, decoding in the browser on every frame of a drag.

    ``rev`` is a counter the page bumps whenever *it* changes z (prior sample, new start image): the browser then
    adopts the new z; otherwise it keeps its own (it may be ahead of Python). ``on_release`` runs as a widget
    callback, before the rerun, with {label: z} of every column when the user lets go of the pad or a slider.
    """
    sent: set[str] = st.session_state.setdefault(_SENT, set())
    assets: dict[str, Any] = {}
    blobs: list[bytes] = []
    shown = []
    for m in models:
        payload = decoder_payload(m.info, m.checkpoint)
        if payload.key not in sent and payload.key not in assets:
            assets[payload.key] = _asset(payload, m, offset=sum(map(len, blobs)))
            blobs.append(payload.blob)
        shown.append(
            {
                "label": m.label,
                "name": m.info.name,
                "key": payload.key,
                "pad_dims": [int(d) for d in m.pad_dims],
                "z": [round(float(v), 4) for v in m.z],
                "dims": [int(d) for d in m.dims],
                "dim_labels": [m.axes.label(d) for d in m.dims],
                "lo": list(m.axes.lo),
                "hi": list(m.axes.hi),
            }
        )
    header = {"models": shown, "assets": assets, "rev": rev, "sample": sample, "seed": seed, "palette": PALETTE}
    data = pack_message(header, blobs)

    def released() -> None:
        value = (st.session_state.get(key) or {}).get("release")
        if isinstance(value, dict) and isinstance(value.get("zs"), dict):
            on_release({label: np.asarray(z, dtype=np.float64) for label, z in value["zs"].items()})

    def missing() -> None:  # the browser lacks these decoders: send them again on this rerun
        keys = (st.session_state.get(key) or {}).get("missing") or []
        st.session_state.setdefault(_SENT, set()).difference_update(keys)

    _component(key=key, data=data, on_release_change=released, on_missing_change=missing)
    sent.update(assets)
    return PadTransfer(data_bytes=len(data), weights_bytes=sum(map(len, blobs)), keys=tuple(s["key"] for s in shown))
