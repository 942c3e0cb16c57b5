"""The checkpoints on disk: shipped ones and the ones users trained, and how VAEs pair with autoencoders."""

from __future__ import annotations

import json
import os
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .checkpoints import FORMAT, MAX_HEADER_BYTES

REPO_ROOT = Path(__file__).resolve().parent.parent
SHIPPED_DIR = REPO_ROOT / "checkpoints"


def user_checkpoint_dir() -> Path:
    """Where models trained in the app are saved: $VAE_EXPLORER_USER_CHECKPOINTS or ./user_checkpoints."""
    return Path(os.environ.get("VAE_EXPLORER_USER_CHECKPOINTS", REPO_ROOT / "user_checkpoints"))


def shipped_checkpoint_dir() -> Path:
    """The pre-trained models that ship with the repo ($VAE_EXPLORER_CHECKPOINTS overrides, for tests)."""
    return Path(os.environ.get("VAE_EXPLORER_CHECKPOINTS", SHIPPED_DIR))


@dataclass(frozen=True)
class CheckpointInfo:
    """What the header of a checkpoint says, read without loading the weights."""

    name: str
    path: Path
    dataset: str
    kind: str  # "vae" or "ae"
    latent_dim: int
    beta: float
    description: str
    shipped: bool
    meta: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)
    config: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def label(self) -> str:
        """How the model is named in menus."""
        where = "" if self.shipped else " (yours)"
        return f"{self.name} - {self.description}, latent {self.latent_dim}{where}"

    @property
    def latents_path(self) -> Path:
        return self.path.with_name(self.path.stem + ".latents.safetensors")


def read_info(path: Path, shipped: bool) -> CheckpointInfo | None:
    """The header of one checkpoint, or None when the file is not one of ours (it is then ignored)."""
    try:
        with open(path, "rb") as f:
            (n,) = struct.unpack("<Q", f.read(8))
            if n > MAX_HEADER_BYTES:
                return None
            header = json.loads(f.read(n))
        md = header.get("__metadata__") or {}
        if md.get("format") != FORMAT:
            return None
        config = json.loads(md["model_config"])
        meta = json.loads(md.get("meta", "{}"))
        return CheckpointInfo(
            name=path.name.removesuffix(".safetensors"),
            path=path,
            dataset=str(meta.get("dataset", "?")),
            kind=str(config.get("kind", "vae")),
            latent_dim=int(config.get("latent_dim", 0)),
            beta=float(config.get("beta", 1.0)),
            description=str(meta.get("description", config.get("kind", ""))),
            shipped=shipped,
            meta=meta,
            config=config,
        )
    except (OSError, ValueError, KeyError, TypeError, struct.error):
        return None


def scan_checkpoints(dirs: list[tuple[Path, bool]] | None = None) -> list[CheckpointInfo]:
    """Every checkpoint in the shipped and the user folders, sorted: shipped first, then by name."""
    if dirs is None:
        dirs = [(shipped_checkpoint_dir(), True), (user_checkpoint_dir(), False)]
    infos: list[CheckpointInfo] = []
    for folder, shipped in dirs:
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.safetensors")):
            if path.name.endswith(".latents.safetensors") or path.name.startswith("."):
                continue
            info = read_info(path, shipped)
            if info is not None:
                infos.append(info)
    return sorted(infos, key=lambda i: (not i.shipped, i.name))


def find_twin(infos: list[CheckpointInfo], chosen: CheckpointInfo) -> CheckpointInfo | None:
    """The comparison partner: for a VAE, the autoencoder on the same data with the same latent dim (and vice
    versa). Prefers the name that differs only by 'vae' <-> 'ae', then shipped models."""
    want = "ae" if chosen.kind == "vae" else "vae"
    candidates = [
        i for i in infos if i.kind == want and i.dataset == chosen.dataset and i.latent_dim == chosen.latent_dim
    ]
    if want == "vae":
        candidates = [i for i in candidates if i.beta == 1.0 and i.config.get("recon_weight", 1.0) == 1.0] or candidates
    swapped = chosen.name.replace("-vae-", "-ae-") if want == "ae" else chosen.name.replace("-ae-", "-vae-")
    candidates.sort(key=lambda i: (i.name != swapped, not i.shipped, i.name))
    return candidates[0] if candidates else None


def beta_series(infos: list[CheckpointInfo], dataset: str = "mnist5k", latent_dim: int = 2) -> list[CheckpointInfo]:
    """The shipped beta series, ordered from reconstruction only to KL only."""
    series = [i for i in infos if i.shipped and i.kind == "vae" and i.dataset == dataset and i.latent_dim == latent_dim]

    def order(i: CheckpointInfo) -> float:
        return float("inf") if i.config.get("recon_weight", 1.0) == 0 else i.beta

    return sorted(series, key=order)
