"""A small CNN that labels 28x28 images: the judge of whether a decoded sample looks like real data.

The Smoothness lab asks "does this decoded code look like a digit?" by asking a classifier trained on the same
dataset how sure it is. The classifier ships beside the checkpoints as ``classifier-DATASET.safetensors``
(float16, about 70 KB), is rebuilt by ``python -m vae_core.cli.metrics --all`` when missing, and is saved and
loaded like the models: safetensors with its config in the header, atomic writes, no pickle.

Training uses random shifts, blurred copies (a VAE's decoder mean is a little blurry, and that alone should
not make a digit "invalid"), and blends of two images taught as blends of their labels (mixup, Zhang et al.
2018): so the classifier is *unsure* about the half-one-half-seven smudges that a latent hole decodes to,
instead of confidently calling them something.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import load as st_load
from torch import nn

from ..data import Dataset
from ..store.checkpoints import PICKLE_SUFFIXES
from ..store.disk import atomic_write
from ..store.files import MAX_CHECKPOINT_BYTES, CheckpointError, encode_safetensors, json_field, parse_safetensors

CLASSIFIER_FORMAT = "vae-explorer-classifier/1"


@dataclass(frozen=True)
class ClassifierConfig:
    """The classifier's shape: three conv stages (28 -> 14 -> 7 -> 3), one hidden layer, one logit per class."""

    num_classes: int = 10
    channels: tuple[int, int, int] = (16, 32, 32)
    hidden: int = 64

    def __post_init__(self) -> None:
        if not 2 <= int(self.num_classes) <= 1000:
            raise ValueError(f"num_classes must be between 2 and 1000 (got {self.num_classes})")
        if len(self.channels) != 3 or any(not 1 <= int(c) <= 512 for c in self.channels):
            raise ValueError(f"channels must be 3 numbers between 1 and 512 (got {self.channels!r})")
        if not 1 <= int(self.hidden) <= 4096:
            raise ValueError(f"hidden must be between 1 and 4096 (got {self.hidden})")

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "channels": list(self.channels)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ClassifierConfig:
        return cls(int(d["num_classes"]), tuple(int(c) for c in d["channels"]), int(d["hidden"]))


class Classifier(nn.Module):
    """x (B, 1, 28, 28) in [0, 1] -> class logits (B, num_classes)."""

    def __init__(self, config: ClassifierConfig) -> None:
        super().__init__()
        self.config = config
        c1, c2, c3 = config.channels
        self.features = nn.Sequential(
            nn.Conv2d(1, c1, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # 28 -> 14
            nn.Conv2d(c1, c2, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # 14 -> 7
            nn.Conv2d(c2, c3, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # 7 -> 3
            nn.Flatten(),
        )  # fmt: skip
        self.head = nn.Sequential(
            nn.Linear(c3 * 9, config.hidden), nn.ReLU(), nn.Linear(config.hidden, config.num_classes)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """The penultimate layer (B, hidden): the feature space in which realism is judged (``realism.py``)."""
        return self.head[1](self.head[0](self.features(x)))


@dataclass
class TrainedClassifier:
    """A classifier with what is known about it (dataset, class names, test accuracy, ...)."""

    model: Classifier
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def class_names(self) -> list[str]:
        return list(self.meta.get("class_names", [str(i) for i in range(self.model.config.num_classes)]))


@torch.no_grad()
def predict_proba(classifier: Classifier, images: np.ndarray | torch.Tensor, batch_size: int = 1000) -> np.ndarray:
    """Class probabilities (N, K) for images (N, 28, 28) or (N, 1, 28, 28) in [0, 1], as float32 numpy."""
    x = torch.as_tensor(np.array(images, dtype=np.float32))  # a copy: cached arrays may be read-only
    x = x.unsqueeze(1) if x.dim() == 3 else x
    if len(x) == 0:
        return np.zeros((0, classifier.config.num_classes), np.float32)
    was_training = classifier.training
    classifier.eval()
    out = torch.cat([F.softmax(classifier(x[i : i + batch_size]), dim=-1) for i in range(0, len(x), batch_size)])
    classifier.train(was_training)
    return out.numpy()


def accuracy(classifier: Classifier, images: np.ndarray, labels: np.ndarray) -> float:
    """Share of images whose most probable class is the true label."""
    return float((predict_proba(classifier, images).argmax(axis=1) == np.asarray(labels)).mean())


def _random_shift(x: torch.Tensor, max_shift: int, generator: torch.Generator) -> torch.Tensor:
    """Shift each image by up to ``max_shift`` pixels in x and y (zero padding, no wrap-around)."""
    if max_shift == 0:
        return x
    n = len(x)
    padded = F.pad(x, (max_shift,) * 4)
    dx = torch.randint(0, 2 * max_shift + 1, (n,), generator=generator)
    dy = torch.randint(0, 2 * max_shift + 1, (n,), generator=generator)
    return torch.stack([padded[i, :, dy[i] : dy[i] + 28, dx[i] : dx[i] + 28] for i in range(n)])


def _gaussian_blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """Blur images (B, 1, 28, 28) with a 5x5 Gaussian of standard deviation ``sigma`` pixels."""
    t = torch.arange(-2, 3, dtype=x.dtype)
    g = torch.exp(-(t**2) / (2 * sigma**2))
    kernel = torch.outer(g, g) / g.sum() ** 2
    return F.conv2d(x, kernel[None, None], padding=2)


def _augment(
    x: torch.Tensor, y: torch.Tensor, max_shift: int, blur: float, blend: float, gen: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """Shift every image; blur a share ``blur`` of them; replace a share ``blend`` by two-image blends whose
    target is the same blend of the two labels (mixup, Zhang et al. 2018, restricted to lam in [0.35, 0.65])."""
    x = _random_shift(x, max_shift, gen)
    n = len(x)
    if blur > 0:
        sigma = 0.5 + float(torch.rand((), generator=gen))  # decoders' means are about this blurry
        chosen = torch.rand(n, generator=gen) < blur
        x = torch.where(chosen[:, None, None, None], _gaussian_blur(x, sigma), x)
    if blend > 0:
        chosen = torch.rand(n, generator=gen) < blend
        lam = 0.35 + 0.3 * torch.rand((n, 1), generator=gen)
        perm = torch.randperm(n, generator=gen)
        x_mix = lam[:, :, None, None] * x + (1 - lam[:, :, None, None]) * x[perm]
        y_mix = lam * y + (1 - lam) * y[perm]
        x = torch.where(chosen[:, None, None, None], x_mix, x)
        y = torch.where(chosen[:, None], y_mix, y)
    return x, y


def train_classifier(
    dataset: Dataset,
    config: ClassifierConfig | None = None,
    *,
    epochs: int = 8,
    batch_size: int = 64,
    lr: float = 2e-3,
    max_shift: int = 2,
    blur: float = 0.5,
    blend: float = 0.25,
    seed: int = 0,
    max_train: int | None = None,
    log: Callable[[str], None] | None = None,
) -> TrainedClassifier:
    """Train a fresh classifier on ``dataset.train_x`` and measure it on ``dataset.test_x``.

    Augmentation (see ``_augment``): random shifts of up to ``max_shift`` pixels, a share ``blur`` of blurred
    images (so a VAE's smooth decoder means still count as digits) and a share ``blend`` of two-image blends
    taught as label blends (so the smudges in a latent hole do not). The learning rate decays along a cosine
    to 0. Seeded: the same arguments give the same classifier.
    """
    config = config or ClassifierConfig(num_classes=dataset.num_classes)
    if config.num_classes != dataset.num_classes:
        raise ValueError(f"the config has {config.num_classes} classes but {dataset.name} has {dataset.num_classes}")
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    model = Classifier(config)
    x_all = torch.as_tensor(dataset.train_x[:max_train]).unsqueeze(1)
    y_all = F.one_hot(torch.as_tensor(dataset.train_y[:max_train]), config.num_classes).float()
    steps = epochs * -(-len(x_all) // batch_size)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps)
    start = time.perf_counter()
    for epoch in range(1, epochs + 1):
        model.train()
        order = torch.randperm(len(x_all), generator=gen)
        for i in range(0, len(order), batch_size):
            idx = order[i : i + batch_size]
            x, y = _augment(x_all[idx], y_all[idx], max_shift, blur, blend, gen)
            loss = -(y * F.log_softmax(model(x), dim=-1)).sum(dim=-1).mean()  # cross-entropy with soft targets
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
        if log:
            acc = accuracy(model, dataset.test_x, dataset.test_y)
            log(f"classifier epoch {epoch}/{epochs}: loss {loss.item():.3f}, test accuracy {acc:.3f}")
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    meta = {
        "dataset": dataset.name,
        "class_names": list(dataset.class_names),
        "test_accuracy": round(accuracy(model, dataset.test_x, dataset.test_y), 4),
        "epochs": epochs,
        "seed": seed,
        "augmentation": {"max_shift": max_shift, "blur": blur, "blend": blend},
        "train_seconds": round(time.perf_counter() - start, 1),
    }
    return TrainedClassifier(model, meta)


def classifier_path(folder: str | Path, dataset_name: str) -> Path:
    """Where the classifier for a dataset lives: ``FOLDER/classifier-DATASET.safetensors``."""
    return Path(folder) / f"classifier-{dataset_name}.safetensors"


def save_classifier(trained: TrainedClassifier, path: str | Path, *, half: bool = True) -> Path:
    """Write the classifier atomically as safetensors (float16 by default), config and meta in the header."""
    path = Path(path)
    state = {k: v.detach().cpu().contiguous() for k, v in trained.model.state_dict().items()}
    if half:
        state = {k: v.half() for k, v in state.items()}
    metadata = {
        "format": CLASSIFIER_FORMAT,
        "config": json.dumps(trained.model.config.to_dict()),
        "meta": json.dumps(trained.meta),
    }
    atomic_write(path, encode_safetensors(state, metadata), overwrite=True)
    return path


def load_classifier(path: str | Path) -> TrainedClassifier:
    """Load what ``save_classifier`` wrote: validated header, strict weights, finite values, eval mode."""
    path = Path(path)
    if path.suffix.lower() in PICKLE_SUFFIXES:
        raise CheckpointError(f"{path.name}: pickle files can run code when loaded, so they are never opened")
    if not path.is_file():
        raise CheckpointError(f"no classifier at {path}; build it with `python -m vae_core.cli.metrics --all`")
    if path.stat().st_size > MAX_CHECKPOINT_BYTES:
        raise CheckpointError(f"{path.name} is larger than {MAX_CHECKPOINT_BYTES / 1e6:.0f} MB; refused")
    data = path.read_bytes()
    metadata = parse_safetensors(data).metadata
    if metadata.get("format") != CLASSIFIER_FORMAT:
        raise CheckpointError(f"{path.name} is not a VAE-explorer classifier (no 'format': '{CLASSIFIER_FORMAT}')")
    try:
        config = ClassifierConfig.from_dict(json_field(metadata, "config", "", "classifier's config"))
        meta = json_field(metadata, "meta", "{}", "classifier's metadata")
        model = Classifier(config)
    except (KeyError, TypeError, ValueError) as e:
        raise CheckpointError(f"{path.name} has an invalid config: {e}") from None
    try:
        state = st_load(data)
        model.load_state_dict({k: v.float() for k, v in state.items()}, strict=True)
    except Exception as e:  # safetensors has its own error types; load_state_dict raises RuntimeError
        raise CheckpointError(f"{path.name} is damaged or does not match its config: {e}") from None
    if not all(torch.isfinite(p).all() for p in model.parameters()):
        raise CheckpointError(f"{path.name} contains NaN or infinite weights")
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return TrainedClassifier(model, meta)
