"""The smoothness metrics on cases whose answer is known: hand-made decoders and classifiers, codes drawn on
purpose (spread like the prior, or clustered far apart), and the scoreboard file that the page reads."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from torch import nn

from vae_core.cli.metrics import main
from vae_core.config import ModelConfig
from vae_core.data import Dataset
from vae_core.evaluation import smoothness as sm
from vae_core.evaluation.classifier import Classifier, ClassifierConfig, TrainedClassifier
from vae_core.evaluation.measures import SCOREBOARD, SPECS
from vae_core.evaluation.paths import path_stats
from vae_core.evaluation.regions import fit_gaussian, prior_samples
from vae_core.evaluation.results import QUICK_SETTINGS, metrics_path, read_scores, score_checkpoint, write_scores
from vae_core.evaluation.scoreboard import Scores, compute_scores
from vae_core.evaluation.validity import ValidityMap, label_coverage, sample_validity, validity_map
from vae_core.model import build_model
from vae_core.objectives import kl_divergence
from vae_core.store.checkpoints import save_checkpoint


class ConstantDecoder(nn.Module):
    """Ignores z: every code decodes to the same image."""

    def __init__(self, value: float = 0.5) -> None:
        super().__init__()
        self.value = value

    def decoder_mean(self, z: torch.Tensor) -> torch.Tensor:
        return torch.full((len(z), 1, 28, 28), self.value)


class LinearDecoder(nn.Module):
    """x = W z (no squashing): equal steps in z give exactly equal steps in pixels."""

    def __init__(self, latent_dim: int) -> None:
        super().__init__()
        self.w = torch.randn(latent_dim, 784, generator=torch.Generator().manual_seed(0))

    def decoder_mean(self, z: torch.Tensor) -> torch.Tensor:
        return (z @ self.w).view(-1, 1, 28, 28)


class StepDecoder(nn.Module):
    """Black for z_0 < 0, white for z_0 >= 0: the whole change happens in one step."""

    def decoder_mean(self, z: torch.Tensor) -> torch.Tensor:
        return (z[:, :1] >= 0).float()[:, :, None, None].expand(-1, 1, 28, 28)


class BrightnessJudge(Classifier):
    """A 'classifier' of 2 classes that is sure of class 1 for bright images and of class 0 for dark ones."""

    def __init__(self) -> None:
        super().__init__(ClassifierConfig(num_classes=2, channels=(1, 1, 1), hidden=1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        m = x.flatten(1).mean(dim=1, keepdim=True)
        return torch.cat([20 * (0.5 - m), 20 * (m - 0.5)], dim=1)


# ---- validity ---------------------------------------------------------------------------------------------


def test_label_coverage_is_one_for_even_labels_and_zero_for_one_label():
    assert label_coverage(np.full(10, 7)) == pytest.approx(1.0)
    assert label_coverage(np.array([0, 0, 50, 0])) == 0.0


def test_validity_of_a_decoder_that_always_draws_a_clear_image_is_one():
    v = sample_validity(ConstantDecoder(1.0), BrightnessJudge(), prior_samples(2, 100))
    assert v.valid_share == 1.0 and v.label_counts == (0, 100) and v.coverage == 0.0


def test_validity_of_an_ambiguous_image_is_zero():
    v = sample_validity(ConstantDecoder(0.5), BrightnessJudge(), prior_samples(2, 100))
    assert v.valid_share == 0.0 and v.mean_confidence == pytest.approx(0.5)


def test_validity_map_shows_where_the_decoder_makes_sense():
    vmap = validity_map(StepDecoder(), BrightnessJudge(), prior_samples(2, 300), n=20)
    assert vmap.plane == "latent" and vmap.confidence.shape == (20, 20)
    assert vmap.xs.min() <= -2 and vmap.xs.max() >= 2, "a 2-D map covers the prior's central region"
    assert (vmap.confidence > 0.99).all(), "black and white are both confident"
    assert (vmap.label[:, vmap.xs > 0] == 1).all() and (vmap.label[:, vmap.xs < 0] == 0).all(), "columns are x"


def test_validity_map_of_a_wide_latent_uses_the_pca_plane_and_round_trips():
    codes = prior_samples(5, 200) * np.array([3, 1, 0.1, 0.1, 0.1], np.float32)
    vmap = validity_map(LinearDecoder(5), BrightnessJudge(), codes, n=8)
    assert vmap.plane == "pca" and 0.9 < vmap.explained <= 1.0
    again = ValidityMap.from_dict(json.loads(json.dumps(vmap.to_dict())))
    grid = np.stack(np.meshgrid(vmap.xs, vmap.ys), axis=-1).reshape(-1, 2)  # the plane's codes come back the same
    np.testing.assert_allclose(again.codes_at(grid), vmap.codes_at(grid), atol=1e-4)
    np.testing.assert_allclose(again.confidence, vmap.confidence, atol=1e-3)


# ---- paths ------------------------------------------------------------------------------------------------


def _paths(decoder, codes: np.ndarray, n_pairs: int = 20):
    labels = np.arange(len(codes)) % 2
    return path_stats(decoder, codes, labels, codes, sm.hole_radius(codes), n_pairs=n_pairs, n_steps=16)


def test_a_decoder_that_ignores_z_has_zero_path_length():
    p = _paths(ConstantDecoder(), prior_samples(4, 50))
    assert (p.mean_step == 0.0).all() and (p.max_step == 0.0).all()


def test_a_linear_decoder_morphs_evenly():
    p = _paths(LinearDecoder(3), prior_samples(3, 50))
    np.testing.assert_allclose(p.mean_step, 1 / 15, rtol=1e-4)
    np.testing.assert_allclose(p.max_step, 1 / 15, rtol=1e-4)
    assert p.even_step == pytest.approx(1 / 15)


def test_a_decoder_that_flips_in_one_step_has_a_largest_step_of_one():
    codes = np.array([[-1.0, 0.0], [1.0, 0.0]], np.float32)
    p = _paths(StepDecoder(), codes, n_pairs=4)
    np.testing.assert_allclose(p.max_step, 1.0)
    np.testing.assert_allclose(p.mean_step, 1 / 15)
    assert {tuple(sorted(pair)) for pair in p.pairs.tolist()} == {(0, 1)}


# ---- holes and KL ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dim", [2, 8])
def test_codes_spread_like_the_prior_have_no_holes(dim):
    codes = prior_samples(dim, 500, seed=1)
    h = sm.hole_share(prior_samples(dim, 2000, seed=2), codes)
    assert h.hole_share < 0.1, "only the ~5 % beyond the 95th-percentile radius, by construction"


def test_clusters_far_apart_leave_holes_under_the_prior():
    centres = np.array([[4, 4], [4, -4], [-4, 4], [-4, -4]], np.float32)
    codes = centres[np.arange(500) % 4] + 0.05 * prior_samples(2, 500, seed=1)
    h = sm.hole_share(prior_samples(2, 2000, seed=2), codes)
    assert h.hole_share > 0.95
    fitted = fit_gaussian(codes)
    assert sm.hole_share(fitted.sample(2000, 3), codes).hole_share > 0.9, "a fitted Gaussian fills the gaps too"


def test_aggregate_posterior_equal_to_the_prior_has_zero_kl():
    mu, logvar = np.zeros((100, 3)), np.zeros((100, 3))
    assert sm.aggregate_posterior_kl(mu, logvar, n_samples=500).mean() == pytest.approx(0.0, abs=1e-9)


def test_aggregate_posterior_of_identical_clouds_has_their_closed_form_kl():
    mu, logvar = np.tile([[1.0, -0.5]], (50, 1)), np.tile([[-1.0, 0.5]], (50, 1))
    exact = float(kl_divergence(torch.as_tensor(mu[:1]), torch.as_tensor(logvar[:1])))
    assert sm.aggregate_posterior_kl(mu, logvar, n_samples=20000).mean() == pytest.approx(exact, abs=0.05)


def test_fitted_gaussian_kl_is_zero_for_prior_codes_and_large_for_scaled_ones():
    codes = prior_samples(4, 20000, seed=3)
    assert fit_gaussian(codes).kl_to_prior() == pytest.approx(0.0, abs=0.01)
    expected = 0.5 * 4 * (100 - 1 - math.log(100))  # N(0, 100 I) against N(0, I)
    assert fit_gaussian(10 * codes).kl_to_prior() == pytest.approx(expected, rel=0.02)


def test_active_units_count_dimensions_whose_mean_code_moves():
    rng = np.random.default_rng(0)
    mu = np.column_stack([rng.normal(0, 1, 1000), rng.normal(0, 0.03, 1000), np.zeros(1000)])
    units = sm.active_units(mu)
    assert units.count == 1 and units.variances[0] > 0.5


def test_kl_per_dimension_is_zero_where_the_posterior_is_the_prior():
    mu, logvar = np.array([[0.0, 2.0]] * 5), np.zeros((5, 2))
    np.testing.assert_allclose(sm.mean_kl_per_dimension(mu, logvar), [0.0, 2.0])


def test_reconstruction_error_of_a_constant_decoder():
    images = np.ones((4, 28, 28), np.float32)
    np.testing.assert_allclose(sm.reconstruction_errors(ConstantDecoder(0.5), np.zeros((4, 2)), images), 0.25)
    assert (sm.reconstruction_errors(ConstantDecoder(1.0), np.zeros((4, 2)), images) == 0.0).all()


# ---- the scoreboard ---------------------------------------------------------------------------------------


def test_every_measure_says_which_way_is_better_and_prints_its_interval():
    assert SPECS["prior_smudges"].better == "lower" and SPECS["prior_precision"].better == "higher"
    assert SPECS["active_units"].better == "" and SPECS["code_kl"].better == "", "not contests"
    assert SPECS["prior_valid"].format(0.1234) == "12.3 %" and SPECS["test_nll"].format(None) == "n/a"
    assert SPECS["prior_holes"].format_interval(0.057, 0.078) == "[5.7, 7.8] %"
    assert SPECS["path_max_step"].format_difference(-0.072, -0.084, -0.059) == "-0.072 [-0.084, -0.059]"
    assert SPECS["prior_holes"].format_difference(0.053, 0.042, 0.064) == "+5.3 [+4.2, +6.4] points"
    assert SPECS["prior_holes"].resolution == pytest.approx(0.0005) and SPECS["recon_mse"].resolution == 0.00005


def _tiny_dataset(factors: bool = False) -> Dataset:
    rng = np.random.default_rng(0)
    x = rng.random((40, 28, 28), dtype=np.float32)
    y = (np.arange(40) % 2).astype(np.int64)
    f = rng.random((40, 2), dtype=np.float32) if factors else None
    return Dataset("tiny", x, y, x, y, ("a", "b"), factor_names=("u", "v") if factors else (),
                   train_factors=f, test_factors=f)  # fmt: skip


@pytest.mark.parametrize("kind", ["vae", "ae"])
def test_scores_cover_every_metric_and_survive_json(kind):
    from vae_core.store.checkpoints import Checkpoint

    torch.manual_seed(0)
    model = build_model(ModelConfig(kind=kind, latent_dim=3, channels=(4, 4, 4), hidden=8)).eval()
    judge = TrainedClassifier(Classifier(ClassifierConfig(num_classes=2, channels=(2, 2, 2), hidden=4)), {})
    scores = compute_scores(Checkpoint(model, {}, "tiny"), _tiny_dataset(factors=True), judge, QUICK_SETTINGS)
    assert set(scores.values) == {s.key for s in SCOREBOARD}
    assert (scores.values["aggregate_kl"] is None) == (kind == "ae") and (scores.values["test_nll"] is None) == (
        kind == "ae"
    )
    assert 0 <= scores.values["prior_valid"] <= 1 and scores.values["recon_mse"] > 0
    for key, value in scores.values.items():  # every measure has an interval around it and its replicates
        if value is not None:
            lo, hi = scores.interval(key)
            assert lo <= value + 1e-9 and value <= hi + 1e-9, key
            assert len(scores.replicates[key]) == QUICK_SETTINGS.n_boot, key
    assert len(scores.paths["pairs"]) == QUICK_SETTINGS.n_pairs and len(scores.paths["ends_recognised"]) == 10
    assert np.asarray(scores.factors["mi"]).shape == (3, 2)
    again = Scores.from_json(scores.to_json())
    assert again.values == scores.values and again.validity_map.confidence.shape == (10, 10)
    assert again.intervals == scores.intervals and again.paths == scores.paths


def _saved_tiny_checkpoint(folder, name="tiny-vae-2"):
    torch.manual_seed(0)
    model = build_model(ModelConfig(latent_dim=2, channels=(4, 4, 4), hidden=8))
    return save_checkpoint(model, folder / f"{name}.safetensors", {"dataset": "shapes"}, overwrite=True)


def test_saved_scores_are_read_back_until_the_checkpoint_changes(tmp_path, monkeypatch):
    monkeypatch.setenv("VAE_EXPLORER_CHECKPOINTS", str(tmp_path))
    path = _saved_tiny_checkpoint(tmp_path)
    scores = score_checkpoint(path, QUICK_SETTINGS)
    assert scores.values["prior_valid"] is None, "no classifier for this dataset in the folder: no validity"
    assert scores.factors["names"] == ["shape", "scale", "rotation", "x", "y"]
    assert write_scores(scores, path) == metrics_path(path) == tmp_path / "tiny-vae-2.metrics.json"
    assert read_scores(path, QUICK_SETTINGS).values == scores.values
    assert read_scores(path) is None, "numbers from tiny samples never stand in for the real scoreboard"
    torch.manual_seed(1)
    save_checkpoint(build_model(ModelConfig(latent_dim=2, channels=(4, 4, 4), hidden=8)), path, {}, overwrite=True)
    assert read_scores(path, QUICK_SETTINGS) is None, "a retrained checkpoint never shows the old model's numbers"


def test_cli_refuses_unknown_names_and_needs_a_choice(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("VAE_EXPLORER_CHECKPOINTS", str(tmp_path))
    assert main(["--only", "no-such-model"]) == 2
    assert "no checkpoint named no-such-model" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main([])


def test_the_test_nll_is_per_image_and_only_for_a_vae():
    from vae_core.evaluation.scoreboard import iwae_nll_per_image
    from vae_core.store.checkpoints import Checkpoint

    vae = build_model(ModelConfig(latent_dim=2, channels=(4, 4, 4), hidden=8)).eval()
    nll = iwae_nll_per_image(Checkpoint(vae, {}, "v"), _tiny_dataset(), QUICK_SETTINGS)
    assert nll.shape == (QUICK_SETTINGS.iwae_images,) and (nll > 0).all()
    ae = build_model(ModelConfig(kind="ae", latent_dim=2, channels=(4, 4, 4), hidden=8)).eval()
    assert iwae_nll_per_image(Checkpoint(ae, {}, "a"), _tiny_dataset(), QUICK_SETTINGS) is None


def test_cli_scores_a_checkpoint_then_finds_it_up_to_date(tmp_path, monkeypatch, capsys):
    from vae_core.evaluation.classifier import classifier_path, save_classifier

    monkeypatch.setenv("VAE_EXPLORER_CHECKPOINTS", str(tmp_path))
    path = _saved_tiny_checkpoint(tmp_path)
    judge = TrainedClassifier(Classifier(ClassifierConfig(num_classes=3, channels=(2, 2, 2), hidden=4)), {})
    save_classifier(judge, classifier_path(tmp_path, "shapes"))  # present, so the CLI does not train one
    assert main(["--only", "tiny-vae-2", "--quick"]) == 0
    out = capsys.readouterr().out
    assert "[tiny-vae-2] scored" in out and metrics_path(path).is_file()
    assert read_scores(path, QUICK_SETTINGS).values["prior_valid"] is not None, "the folder's classifier was used"
    assert main(["--only", "tiny-vae-2", "--quick"]) == 0
    assert "[tiny-vae-2] up to date" in capsys.readouterr().out
