"""Training replayed: a component that plays the VAE's and the autoencoder's maps of the test codes side by side
over their training, with play / pause / scrub and the loss terms marked at the same moment.

The frames are the snapshots saved beside each checkpoint (``vae_core.latent.snapshots``). They travel to the
browser once, as float16 codes in one binary message (``ui.live_pad.pack_message``: 500 codes x 55 frames is about
110 kB a model), and ``replay.js`` paints every animation frame from them, tweening between stored frames: nothing
goes back to the server while it plays. The final frame is the checkpoint itself, so there the map decodes the
place under the pointer, with the live pad's decoder; the weights travel once per browser tab, like the pad's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import streamlit as st

from vae_core.latent.snapshots import Snapshots, load_snapshots
from vae_core.store.catalog import CheckpointInfo
from vae_core.store.checkpoints import Checkpoint

from .figures import PALETTE
from .live_pad import decoder_payload, pack_message
from .loaders import model_key
from .sidebar import ModelPair

_HERE = Path(__file__).parent
_HTML = (
    '<div class="rp-root"><div class="rp-bar"><button type="button" class="rp-play" aria-pressed="false">▶ Play'
    '</button><input type="range" class="rp-scrub" min="0" max="1000" step="1" value="1000">'
    '<span class="rp-time"></span></div><div class="rp-grid"></div></div>'
)
_component = st.components.v2.component(
    "vae_explorer_replay",
    html=_HTML,
    css=(_HERE / "replay.css").read_text(encoding="utf-8"),
    js="\n".join(
        (_HERE / f).read_text(encoding="utf-8") for f in ("live_pad_decoder.js", "component_base.js", "replay.js")
    ),
)
_SENT = "_replay_sent_keys"  # session state: the decoders this browser tab has been sent


@dataclass(frozen=True)
class ReplayModel:
    """One map of the replay: a model's snapshots, and its checkpoint for decoding on the final frame."""

    label: str  # "VAE" or "Autoencoder"
    info: CheckpointInfo
    checkpoint: Checkpoint
    snaps: Snapshots


@dataclass(frozen=True)
class ReplayTransfer:
    data_bytes: int  # the component's data this rerun
    frames_bytes: int  # of which the frames (float16 codes)
    weights_bytes: int  # of which decoder weights (0 once this tab has them)


@st.cache_resource(show_spinner=False, max_entries=64)
def _snapshots(path: str, version: str) -> Snapshots | None:
    return load_snapshots(path)


def snapshots(info: CheckpointInfo) -> Snapshots | None:
    """The replay frames beside a checkpoint (None when there are none for this version of it)."""
    return _snapshots(str(info.path), model_key(info))


def view_range(snaps: Snapshots) -> list[float]:
    """[x0, x1, y0, y1]: one square view for every frame (fixed axes), spanning each frame's central 99 % of codes and,
    on a latent plane, the prior's 3-sigma circle."""
    lo = np.percentile(snaps.xy, 0.5, axis=1).min(axis=0)
    hi = np.percentile(snaps.xy, 99.5, axis=1).max(axis=0)
    if snaps.axes == "latent":
        lo, hi = np.minimum(lo, -3.0), np.maximum(hi, 3.0)
    centre, half = (lo + hi) / 2, 1.06 * float((hi - lo).max()) / 2
    return [float(centre[0] - half), float(centre[0] + half), float(centre[1] - half), float(centre[1] + half)]


@st.cache_data(show_spinner=False, max_entries=64)
def _frames(version: str, _snaps: Snapshots) -> tuple[bytes, dict[str, Any]]:
    spec: dict[str, Any] = {
        "frames": _snaps.frames,
        "n": int(_snaps.xy.shape[1]),
        "axes": _snaps.axes,
        "epoch": [round(float(v), 4) for v in _snaps.epoch],
        "recon": [round(float(v), 3) for v in _snaps.recon],
        "kl": [round(float(v), 3) for v in _snaps.kl],
        "range": view_range(_snaps),
        "inverse": None,
    }
    if _snaps.pca_mean is not None and _snaps.pca_components is not None:
        spec["inverse"] = {"mean": _snaps.pca_mean.tolist(), "components": _snaps.pca_components.tolist()}
    return np.ascontiguousarray(_snaps.xy, dtype="<f2").tobytes(), spec


def replay(models: Sequence[ReplayModel], *, key: str = "replay") -> ReplayTransfer:
    """Mount the replay: one map per model, side by side, all at the same moment of training (by epoch)."""
    sent: set[str] = st.session_state.setdefault(_SENT, set())
    blobs: list[bytes] = []
    offset = 0
    shown, assets = [], {}
    frames_bytes = weights_bytes = 0
    for m in models:
        raw, spec = _frames(model_key(m.info), m.snaps)
        payload = decoder_payload(m.info, m.checkpoint)
        shown.append(
            {
                **spec,
                "label": m.label,
                "name": m.info.name,
                "key": model_key(m.info),
                "decoder": payload.key,
                "xy": {"offset": offset, "length": len(raw)},
            }
        )
        blobs.append(raw)
        offset += len(raw)
        frames_bytes += len(raw)
        if payload.key not in sent and payload.key not in assets:
            assets[payload.key] = {"manifest": payload.manifest, "offset": offset, "length": len(payload.blob)}
            blobs.append(payload.blob)
            offset += len(payload.blob)
            weights_bytes += len(payload.blob)
    labels = [int(v) for v in models[0].snaps.labels] if models else []
    data = pack_message({"models": shown, "assets": assets, "labels": labels, "palette": PALETTE}, blobs)

    def missing() -> None:  # the browser lacks these decoders: send them again on this rerun
        keys = (st.session_state.get(key) or {}).get("missing") or []
        st.session_state.setdefault(_SENT, set()).difference_update(k for k in keys if isinstance(k, str))

    _component(key=key, data=data, on_missing_change=missing)
    sent.update(assets)
    return ReplayTransfer(data_bytes=len(data), frames_bytes=frames_bytes, weights_bytes=weights_bytes)


MISSING = (
    "No replay is saved beside {names}. Training records one (`python -m vae_core.cli.train`, the zoo, or the Train "
    "page); retrain with the zoo's command to get it."
)


def pair_replay(pair: ModelPair, *, key: str) -> list[ReplayModel]:
    """The replay of the pair's models that have one saved, side by side (returned); a note names the ones that
    have none."""
    models, missing = [], []
    for label, info, checkpoint in pair.both():
        snaps = snapshots(info)
        if snaps is None:
            missing.append(info.name)
        else:
            models.append(ReplayModel(label, info, checkpoint, snaps))
    if missing:
        st.info(MISSING.format(names=" and ".join(missing)))
    if models:
        replay(models, key=key)
    return models
