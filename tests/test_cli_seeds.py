"""python -m vae_core.cli.seeds: the same recipe retrained with another seed, scored, and kept in the checkpoint's
scoreboard (on a tiny shapes model, one epoch on 64 images, with --quick scoreboards)."""

from __future__ import annotations

import pytest

from vae_core.cli import metrics, seeds
from vae_core.cli.train import train_and_save
from vae_core.config import ModelConfig, TrainConfig
from vae_core.evaluation.classifier import (
    Classifier,
    ClassifierConfig,
    TrainedClassifier,
    classifier_path,
    save_classifier,
)
from vae_core.evaluation.results import QUICK_SETTINGS, read_scores


@pytest.fixture
def tiny_shipped(tmp_path, monkeypatch):
    monkeypatch.setenv("VAE_EXPLORER_CHECKPOINTS", str(tmp_path))
    config = ModelConfig(latent_dim=2, channels=(4, 4, 4), hidden=8)
    path = tmp_path / "tiny-vae-2.safetensors"
    train_and_save(config, TrainConfig(dataset="shapes", epochs=1, max_train=64), path, tsne=False, log=lambda m: None)
    judge = TrainedClassifier(Classifier(ClassifierConfig(num_classes=3, channels=(2, 2, 2), hidden=4)), {})
    save_classifier(judge, classifier_path(tmp_path, "shapes"))
    return path


def test_a_retrained_seed_is_scored_kept_and_reused(tiny_shipped, tmp_path, capsys):
    assert seeds.main(["--only", "tiny-vae-2", "--quick", "--dir", str(tmp_path / "seeds")]) == 2
    assert "score these first" in capsys.readouterr().err
    assert metrics.main(["--only", "tiny-vae-2", "--quick"]) == 0
    assert seeds.main(["--only", "tiny-vae-2", "--seeds", "1", "--quick", "--dir", str(tmp_path / "seeds")]) == 0
    assert (tmp_path / "seeds" / "tiny-vae-2-seed1.safetensors").is_file(), "never in the shipped folder"
    board = read_scores(tiny_shipped, QUICK_SETTINGS)
    assert list(board.seeds["runs"]) == ["1"] and "prior_holes" in board.seeds["runs"]["1"]
    assert board.seeds["recipe"]["train_config"]["epochs"] == 1 and "seed" not in board.seeds["recipe"]["train_config"]
    capsys.readouterr()
    assert metrics.main(["--only", "tiny-vae-2", "--quick", "--force"]) == 0
    assert read_scores(tiny_shipped, QUICK_SETTINGS).seeds["runs"].keys() == {"1"}, "rescoring keeps the seeds"
    assert seeds.main(["--only", "tiny-vae-2", "--seeds", "1", "--quick", "--dir", str(tmp_path / "seeds")]) == 0
    assert "reusing" in capsys.readouterr().out


def test_unknown_names_are_one_error_line(tiny_shipped, capsys):
    assert seeds.main(["--only", "no-such-model"]) == 2
    assert capsys.readouterr().err.startswith("error: argument --only: no checkpoint named no-such-model")
