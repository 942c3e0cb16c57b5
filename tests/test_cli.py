"""The training CLI trains from scratch, saves a loadable checkpoint with maps, and explains bad arguments; the
removal CLI deletes a user checkpoint with its sidecars and nothing else."""

import numpy as np
import pytest

from vae_core.cli import remove
from vae_core.cli import train as cli
from vae_core.cli.zoo import SPECS, cli_args
from vae_core.config import ModelConfig
from vae_core.evaluation.results import metrics_path
from vae_core.latent.codes import latents_path
from vae_core.model import build_model
from vae_core.store.catalog import scan_checkpoints
from vae_core.store.checkpoints import load_arrays, load_checkpoint, save_arrays, save_checkpoint


def test_cli_trains_and_saves(tmp_path, capsys):
    code = cli.main(
        [
            "--dataset",
            "shapes",
            "--model",
            "vae",
            "--latent-dim",
            "3",
            "--epochs",
            "1",
            "--max-train",
            "64",
            "--no-tsne",
            "--out",
            "tiny",
            "--out-dir",
            str(tmp_path),
            "--float32",
        ]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert "saved" in out and "-ELBO" in out and "KL" in out
    ckpt = load_checkpoint(tmp_path / "tiny.safetensors")
    assert ckpt.meta["dataset"] == "shapes" and ckpt.meta["epochs"] == 1 and "test_elbo" in ckpt.meta["metrics"]
    arrays, _ = load_arrays(tmp_path / "tiny.latents.safetensors")
    assert arrays["mu"].shape == (600, 3) and arrays["pca"].shape == (600, 2)
    assert [i.name for i in scan_checkpoints([(tmp_path, False)])] == ["tiny"]


@pytest.mark.parametrize(
    "args, message",
    [
        (["--latent-dim", "1000"], "latent_dim must be between 1 and 64 (got 1000)"),
        (["--epochs", "0"], "epochs must be between 1"),
        (["--lr", "nan"], "lr must be a finite number"),
        (["--out", "../escape"], "not a valid checkpoint name"),
    ],
)
def test_cli_explains_bad_arguments(tmp_path, capsys, args, message):
    base = {"--out": "x", "--out-dir": str(tmp_path), "--epochs": "1"}
    for flag, value in zip(args[::2], args[1::2], strict=True):
        base[flag] = value
    argv = [t for kv in base.items() for t in kv]
    assert cli.main(argv) == 2
    assert message in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_cli_refuses_to_overwrite_without_flag(tmp_path, capsys):
    (tmp_path / "taken.safetensors").write_bytes(b"x")
    assert cli.main(["--out", "taken", "--out-dir", str(tmp_path), "--epochs", "1"]) == 2
    assert "pass --overwrite" in capsys.readouterr().err


def test_zoo_rebuilds_every_shipped_model_through_the_cli():
    names = [s.name for s in SPECS]
    assert len(names) == len(set(names)) == 10
    parser = cli.build_parser()
    for spec in SPECS:
        args = parser.parse_args(cli_args(spec, quick=False))
        assert args.out == spec.name


def _user_checkpoint(folder, name):
    """A tiny checkpoint with the sidecars the project writes: latents and a scoreboard."""
    path = folder / f"{name}.safetensors"
    model = build_model(ModelConfig(latent_dim=2, channels=(4, 4, 4), hidden=8))
    save_checkpoint(model, path, {"dataset": "shapes", "description": "tiny"})
    save_arrays(latents_path(path), {"mu": np.zeros((3, 2), np.float32)}, {"split": "test", "n": 3})
    metrics_path(path).write_text("{}")
    return path


@pytest.fixture
def user_folder(tmp_path, monkeypatch):
    folder = tmp_path / "user"
    folder.mkdir()
    monkeypatch.setenv("VAE_EXPLORER_USER_CHECKPOINTS", str(folder))
    _user_checkpoint(folder, "mine")
    _user_checkpoint(folder, "mine-2")  # shares a prefix: must survive the removal of "mine"
    return folder


def test_remove_deletes_a_user_checkpoint_and_its_sidecars_only(user_folder, capsys):
    assert remove.main(["--list"]) == 0
    assert capsys.readouterr().out.splitlines() == ["mine  (tiny, latent 2)", "mine-2  (tiny, latent 2)"]
    assert remove.main(["mine", "--yes"]) == 0
    assert "removed 'mine' (3 files)" in capsys.readouterr().out
    assert sorted(p.name for p in user_folder.iterdir()) == [
        "mine-2.latents.safetensors",
        "mine-2.metrics.json",
        "mine-2.safetensors",
    ]
    assert [i.name for i in scan_checkpoints([(user_folder, False)])] == ["mine-2"]


def test_remove_asks_first_and_keeps_the_files_when_declined(user_folder, capsys, monkeypatch):
    monkeypatch.setattr("builtins.input", lambda prompt: "n")
    assert remove.main(["mine"]) == 1
    assert "nothing removed" in capsys.readouterr().out and (user_folder / "mine.safetensors").is_file()
    monkeypatch.setattr("builtins.input", lambda prompt: "y")
    assert remove.main(["mine", "--dir", str(user_folder)]) == 0
    assert not (user_folder / "mine.safetensors").exists()


@pytest.mark.parametrize(
    "argv, says",
    [
        (["mnist5k-vae-16", "--yes"], "'mnist5k-vae-16' is a shipped model"),
        (["mine", "--yes", "--dir", "SHIPPED"], "is the shipped checkpoints folder"),
        (["../checkpoints/mnist5k-vae-16", "--yes"], "is not a valid checkpoint name"),
        (["mine/../../x", "--yes"], "is not a valid checkpoint name"),
        (["mine\n", "--yes"], "is not a valid checkpoint name"),
        (["*", "--yes"], "is not a valid checkpoint name"),
        (["no-such-model", "--yes"], "no user checkpoint named 'no-such-model'"),
        ([], "say which checkpoint to remove"),
    ],
)
def test_remove_refuses_with_one_clear_line(user_folder, capsys, argv, says):
    from vae_core.store.catalog import shipped_checkpoint_dir

    argv = [str(shipped_checkpoint_dir()) if a == "SHIPPED" else a for a in argv]
    before = sorted(user_folder.iterdir())
    shipped_before = sorted(shipped_checkpoint_dir().iterdir())
    assert remove.main(argv) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.splitlines()) == 1 and err.startswith("error: ") and says in err
    assert sorted(user_folder.iterdir()) == before and sorted(shipped_checkpoint_dir().iterdir()) == shipped_before


def test_a_user_copy_under_a_shipped_name_can_be_removed(user_folder):
    _user_checkpoint(user_folder, "mnist5k-vae-16")  # an import the Upload page once allowed (issue 11, item 7)
    removed = remove.remove_checkpoint("mnist5k-vae-16")
    assert {p.parent for p in removed} == {user_folder} and len(removed) == 3
