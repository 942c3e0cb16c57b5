"""The judge of the Smoothness lab: a small CNN classifier, its training, and its safe save/load."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vae_core.config import ModelConfig
from vae_core.data import Dataset
from vae_core.evaluation.classifier import (
    Classifier,
    ClassifierConfig,
    TrainedClassifier,
    accuracy,
    classifier_path,
    load_classifier,
    predict_proba,
    save_classifier,
    train_classifier,
)
from vae_core.model import build_model
from vae_core.store.catalog import SHIPPED_DIR, scan_checkpoints
from vae_core.store.checkpoints import CheckpointError, save_checkpoint


def _bars(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Images of one horizontal (label 0) or vertical (label 1) bar at a random place."""
    rng = np.random.default_rng(seed)
    x = np.zeros((n, 28, 28), np.float32)
    y = rng.integers(0, 2, n).astype(np.int64)
    for i in range(n):
        k = rng.integers(6, 22)
        if y[i] == 0:
            x[i, k : k + 3, 4:24] = 1.0
        else:
            x[i, 4:24, k : k + 3] = 1.0
    return x, y


def _bars_dataset() -> Dataset:
    (tx, ty), (vx, vy) = _bars(256, 0), _bars(100, 1)
    return Dataset("bars", tx, ty, vx, vy, ("horizontal", "vertical"))


def _tiny() -> TrainedClassifier:
    torch.manual_seed(0)
    return TrainedClassifier(Classifier(ClassifierConfig(num_classes=3)).eval(), {"class_names": ["a", "b", "c"]})


def test_probabilities_have_one_row_per_image_and_sum_to_one():
    p = predict_proba(_tiny().model, np.random.default_rng(0).random((5, 28, 28), dtype=np.float32))
    assert p.shape == (5, 3) and np.allclose(p.sum(axis=1), 1.0, atol=1e-5)
    assert predict_proba(_tiny().model, np.zeros((0, 28, 28), np.float32)).shape == (0, 3)


def test_a_short_training_learns_to_tell_bars_apart():
    trained = train_classifier(_bars_dataset(), epochs=3, batch_size=32, lr=5e-3, seed=0)
    assert trained.meta["test_accuracy"] > 0.9
    assert trained.class_names == ["horizontal", "vertical"]
    assert not trained.model.training and not any(p.requires_grad for p in trained.model.parameters())


def test_classes_must_match_the_dataset():
    with pytest.raises(ValueError, match="classes"):
        train_classifier(_bars_dataset(), ClassifierConfig(num_classes=10), epochs=1)


def test_save_and_load_give_the_same_answers(tmp_path):
    trained = _tiny()
    path = save_classifier(trained, classifier_path(tmp_path, "toy"))
    assert path.name == "classifier-toy.safetensors" and path.stat().st_size < 500_000
    loaded = load_classifier(path)
    x = np.random.default_rng(1).random((8, 28, 28), dtype=np.float32)
    np.testing.assert_allclose(predict_proba(loaded.model, x), predict_proba(trained.model, x), atol=5e-3)
    assert loaded.class_names == ["a", "b", "c"] and not loaded.model.training
    assert not any(p.requires_grad for p in loaded.model.parameters())


def test_the_app_never_lists_a_classifier_as_a_model(tmp_path):
    save_classifier(_tiny(), classifier_path(tmp_path, "toy"))
    assert scan_checkpoints([(tmp_path, True)]) == []


def _pickle(p):
    p = p.with_suffix(".pt")
    p.write_bytes(b"\x80\x02junk")
    return p


def _truncated(p):
    p.write_bytes(b"\x01\x00")
    return p


@pytest.mark.parametrize(
    "make, message",
    [
        (_pickle, "pickle"),
        (lambda p: p, "no classifier"),
        (_truncated, "too short"),
        (lambda p: save_checkpoint(build_model(ModelConfig(latent_dim=2)), p), "not a VAE-explorer classifier"),
    ],
    ids=["pickle", "missing", "truncated", "a-vae-checkpoint"],
)
def test_bad_files_are_refused_with_a_reason(tmp_path, make, message):
    path = make(tmp_path / "classifier-x.safetensors")
    with pytest.raises(CheckpointError, match=message):
        load_classifier(path)


def test_a_damaged_body_is_refused(tmp_path):
    path = save_classifier(_tiny(), tmp_path / "classifier-x.safetensors")
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(CheckpointError, match="damaged"):
        load_classifier(path)


@pytest.mark.parametrize("name, min_accuracy", [("mnist5k", 0.95), ("shapes", 0.9)])
def test_shipped_classifiers_are_small_and_accurate(name, min_accuracy):
    from vae_core.data import load_dataset

    path = classifier_path(SHIPPED_DIR, name)
    if not path.is_file():
        pytest.skip(f"{path.name} is not built yet: python -m vae_core.cli.metrics --all")
    assert path.stat().st_size < 500_000
    clf = load_classifier(path)
    ds = load_dataset(name)
    assert clf.meta["dataset"] == name and len(clf.class_names) == ds.num_classes
    assert accuracy(clf.model, ds.test_x, ds.test_y) >= min_accuracy
