"""A smudge is not a blend: the realism judge on images whose answer is known. Real digits and blends of two real
digits (held out from the judge's references) are not smudges; blank, grey and noise images are. Uses the shipped
mnist5k classifier and real digits; the judge is fitted once (a few seconds)."""

from __future__ import annotations

import numpy as np
import pytest

from vae_core.data import load_dataset
from vae_core.evaluation.classifier import load_classifier
from vae_core.evaluation.realism import BLEND, DIGIT, SMUDGE, KNNManifold, RealismJudge, two_digit_blends
from vae_core.store.catalog import SHIPPED_DIR


@pytest.fixture(scope="module")
def digits():
    return load_dataset("mnist5k")


@pytest.fixture(scope="module")
def judge(digits):
    classifier = load_classifier(SHIPPED_DIR / "classifier-mnist5k.safetensors").model
    return RealismJudge(n_reference=1000).fit(classifier, digits)


def test_a_blend_of_two_digits_is_not_a_smudge(judge, digits):
    blends = two_digit_blends(digits.test_x, digits.test_y, 400, seed=7)  # not the blends the judge calibrated on
    j = judge.judge(blends)
    assert j.share(SMUDGE) <= 0.08, "at most the ~5 % the calibration allows"
    assert j.share(BLEND) > j.share(DIGIT), "mostly called blends, not confident digits"


def test_real_digits_are_digits_not_smudges(judge, digits):
    j = judge.judge(digits.test_x[:300])
    assert j.share(SMUDGE) <= 0.08 and j.share(DIGIT) > 0.6
    assert j.in_real.mean() > 0.8, "Kynkaanniemi precision of real digits against real digits"


def test_images_that_look_like_no_digit_are_smudges(judge):
    rng = np.random.default_rng(0)
    blank, grey = np.zeros((20, 28, 28), np.float32), np.full((20, 28, 28), 0.3, np.float32)
    noise = rng.random((100, 28, 28)).astype(np.float32)
    assert judge.judge(blank).share(SMUDGE) == 1.0 and judge.judge(grey).share(SMUDGE) == 1.0
    assert judge.judge(noise).share(SMUDGE) > 0.7
    assert judge.judge(noise).in_real.mean() == 0.0, "noise is no digit's neighbour"


def test_the_judge_keeps_its_calibration_on_held_out_data(judge):
    held = judge.held_out_
    assert held["test digits"]["smudge"] <= 0.08 and held["blends"]["smudge"] <= 0.08
    assert 0 < judge.tau_ < 1 and judge.rho_ > 0


def test_recall_is_high_for_real_digits_and_zero_for_one_repeated_image(judge, digits):
    real = judge.judge(digits.train_x[-1000:]).features
    assert judge.recall(real).mean() > 0.6, "other real digits cover most of the reference digits"
    same = judge.judge(np.repeat(digits.test_x[:1], 50, axis=0)).features
    assert judge.recall(same).mean() < 0.05, "one image, however real, covers almost nothing"


def test_blends_mix_two_different_labels():
    x = np.stack([np.full((28, 28), v, np.float32) for v in (0.0, 1.0, 0.0, 1.0)])
    blends = two_digit_blends(x, np.array([0, 1, 0, 1]), 50, seed=1)
    assert blends.shape[1:] == (28, 28) and ((blends >= 0.35) & (blends <= 0.65)).all(), "never a blend of one label"
    with pytest.raises(ValueError, match="two different labels"):
        two_digit_blends(x, np.zeros(4, int), 5)


def test_the_knn_manifold_of_kynkaanniemi():
    points = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [10.0, 10.0]])
    m = KNNManifold(k=1).fit(points)
    np.testing.assert_allclose(m.radii_[:4], 1.0)
    assert m.contains(np.array([[0.5, 0.5], [-5.0, -5.0], [5.0, 5.0]])).tolist() == [True, False, True], (
        "the lone point at (10, 10) reaches its nearest neighbour, so its ball covers (5, 5)"
    )
    np.testing.assert_allclose(m.realism(np.array([[0.0, 0.5]])), 2.0)  # radius 1 at distance 0.5
    with pytest.raises(ValueError, match="needs more than"):
        KNNManifold(k=3).fit(points[:3])
