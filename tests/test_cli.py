"""The training CLI trains from scratch, saves a loadable checkpoint with maps, and explains bad arguments."""

import pytest

from vae_core import train as cli
from vae_core.catalog import scan_checkpoints
from vae_core.checkpoints import load_arrays, load_checkpoint
from vae_core.zoo import SPECS, cli_args


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
