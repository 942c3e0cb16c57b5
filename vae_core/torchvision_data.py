"""The full MNIST, Fashion-MNIST and KMNIST, read through torchvision from a data folder (downloaded there when the
machine is online; offline, the error says which files to put where)."""

from __future__ import annotations

import gzip
import logging
import os
from pathlib import Path
from urllib.error import URLError

import numpy as np

from .data import DATA_ENV, DATASETS, DIGIT_NAMES, Dataset, DatasetUnavailable
from .store.disk import atomic_write

TORCHVISION: dict[str, tuple[str, tuple[str, ...]]] = {  # name -> (torchvision class and folder, class names)
    "mnist": ("MNIST", DIGIT_NAMES),
    "fashion-mnist": (
        "FashionMNIST",
        ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"),
    ),
    "kmnist": ("KMNIST", ("o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo")),
}


# torchvision reads these (uncompressed) from <data_dir>/<folder>/raw/.
RAW_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")

logger = logging.getLogger(__name__)


def resolve_data_dir(data_dir: str | Path | None) -> Path:
    if data_dir is None:
        data_dir = os.environ.get(DATA_ENV) or "data"
    return Path(data_dir).expanduser().resolve()


def _gunzip_raw_files(raw: Path) -> None:
    """Unpack ``<file>.gz`` beside each missing raw file, so gzipped downloads work without the network too."""
    for stem in RAW_FILES:
        target, packed = raw / stem, raw / f"{stem}.gz"
        if target.is_file() or not packed.is_file():
            continue
        try:
            with gzip.open(packed, "rb") as src:
                atomic_write(target, src.read(), overwrite=True)
        except (OSError, EOFError) as err:  # torchvision's own error then says what is wrong
            logger.warning("could not unpack %s: %s", packed, err)


def _unavailable_message(name: str, raw: Path, download: bool, err: BaseException) -> str:
    missing = [f for f in RAW_FILES if not (raw / f).is_file()]
    reason = str(err).strip().splitlines()[0][:200] if str(err).strip() else type(err).__name__
    if not missing:
        head = f"The {name!r} files in {raw} could not be read ({reason}); replace them with intact copies."
    elif download:
        head = f"{name!r} is not in {raw} and could not be downloaded: the machine seems offline ({reason})."
    else:
        head = f"{name!r} is not in {raw} and download=False."
    files = "\n".join(f"  {raw / f}" for f in missing or RAW_FILES)
    return (
        f"{head}\nTo use it without the network, put these files there (gzipped ones, with .gz appended, work too):"
        f"\n{files}\nor point data_dir / ${DATA_ENV} at the folder that holds {raw.parent.name}/raw. "
        f"The datasets {', '.join(n for n, i in DATASETS.items() if i.offline)} need no files."
    )


def load_torchvision(name: str, data_dir: Path, download: bool) -> Dataset:
    folder, class_names = TORCHVISION[name]
    raw = data_dir / folder / "raw"
    _gunzip_raw_files(raw)
    try:  # imported here: it adds ~1.7 s of start-up, and only these datasets need it
        from torchvision import datasets
    except ImportError as err:
        raise DatasetUnavailable(f"{name!r} is read through torchvision: pip install torchvision") from err
    try:
        splits = [getattr(datasets, folder)(root=str(data_dir), train=t, download=download) for t in (True, False)]
    # URLError/OSError/RuntimeError: missing and not downloadable; the others: files that are not IDX files.
    except (URLError, OSError, RuntimeError, AssertionError, TypeError, ValueError) as err:
        raise DatasetUnavailable(_unavailable_message(name, raw, download, err)) from err
    (train_x, train_y), (test_x, test_y) = (
        (s.data.numpy().astype(np.float32) / np.float32(255.0), s.targets.numpy().astype(np.int64)) for s in splits
    )
    return Dataset(name, train_x, train_y, test_x, test_y, class_names, description=DATASETS[name].description)
