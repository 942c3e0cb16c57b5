"""The checkpoints on disk: shipped ones and the ones users trained, and how VAEs pair with autoencoders."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from ..config import ConfigError, ModelConfig
from .files import FORMAT, CheckpointError, json_field, read_file_header, validate_name
from .meta import CheckpointMeta

REPO_ROOT = Path(__file__).resolve().parents[2]
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
    meta: CheckpointMeta = field(default_factory=CheckpointMeta, compare=False, hash=False)
    config: ModelConfig = field(default_factory=ModelConfig, compare=False, hash=False)

    @property
    def label(self) -> str:
        """How the model is named in menus."""
        where = "" if self.shipped else " (yours)"
        return f"{self.name} - {self.description}, latent {self.latent_dim}{where}"

    @property
    def latents_path(self) -> Path:
        return self.path.with_name(self.path.stem + ".latents.safetensors")


def read_info(path: Path, shipped: bool) -> CheckpointInfo | None:
    """The header of one checkpoint, or None when the file is not one of ours or is damaged (it is then ignored).
    Read with the same strict parser as a full load, but only the header's bytes."""
    try:
        header = read_file_header(path)
        if header.metadata.get("format") != FORMAT:
            return None
        config = ModelConfig.from_dict(json_field(header.metadata, "model_config", "", "config"))
        raw = json_field(header.metadata, "meta", "{}", "metadata")
        if not isinstance(raw, dict):
            return None
    except (CheckpointError, ConfigError, TypeError):
        return None
    meta = CheckpointMeta.from_dict(raw)
    return CheckpointInfo(
        name=path.name.removesuffix(".safetensors"),
        path=path,
        dataset=meta.dataset,
        kind=config.kind,
        latent_dim=config.latent_dim,
        beta=config.beta,
        description=meta.description or config.kind,
        shipped=shipped,
        meta=meta,
        config=config,
    )


def require_free_name(name: str, user_dir: Path | None = None) -> str:
    """The one rule for naming a new checkpoint (Train page, upload import): a valid name (``validate_name``) that no
    checkpoint uses yet, shipped or in the user folder, so every menu lists each name once."""
    validate_name(name)
    for folder, whose in (
        (shipped_checkpoint_dir(), "a shipped model"),
        (user_dir or user_checkpoint_dir(), "a checkpoint"),
    ):
        if (folder / f"{name}.safetensors").exists():
            raise CheckpointError(f"{whose} named {name!r} already exists; choose another name")
    return name


def scan_checkpoints(dirs: list[tuple[Path, bool]] | None = None) -> list[CheckpointInfo]:
    """Every checkpoint in the shipped and the user folders, sorted: shipped first, then by name."""
    if dirs is None:
        dirs = [(shipped_checkpoint_dir(), True), (user_checkpoint_dir(), False)]
    infos: list[CheckpointInfo] = []
    for folder, shipped in dirs:
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.safetensors")):
            if "." in path.name.removesuffix(".safetensors"):  # a sidecar (NAME.latents, NAME.snapshots) or temp file
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
        candidates = [i for i in candidates if i.beta == 1.0 and i.config.recon_weight == 1.0] or candidates
    swapped = chosen.name.replace("-vae-", "-ae-") if want == "ae" else chosen.name.replace("-ae-", "-vae-")
    candidates.sort(key=lambda i: (i.name != swapped, not i.shipped, i.name))
    return candidates[0] if candidates else None


def beta_series(infos: list[CheckpointInfo], dataset: str = "mnist5k", latent_dim: int = 2) -> list[CheckpointInfo]:
    """The shipped beta series, ordered from reconstruction only to KL only."""
    series = [i for i in infos if i.shipped and i.kind == "vae" and i.dataset == dataset and i.latent_dim == latent_dim]

    def order(i: CheckpointInfo) -> float:
        return float("inf") if i.config.recon_weight == 0 else i.beta

    return sorted(series, key=order)
