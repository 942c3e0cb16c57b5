"""Every command checks its arguments and output folder before any work starts, and reports a mistake as one
``error:`` line (exit status 2), never as a traceback or after a whole training."""

import tempfile

import pytest

from vae_core.cli import metrics, zoo
from vae_core.cli import train as cli


class Started(Exception):
    """Raised by the stand-ins below: the work began although the arguments were wrong."""


@pytest.fixture
def no_work(monkeypatch):
    """Loading data, training or torch's thread setting fail the test if a bad argument gets that far."""

    def started(*args, **kwargs):
        raise Started("work started despite a bad argument")

    monkeypatch.setattr(cli, "load_dataset", started)
    monkeypatch.setattr(cli, "train_and_save", started)
    monkeypatch.setattr(cli.torch, "set_num_threads", started)
    monkeypatch.setattr(metrics, "scan_checkpoints", started)


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    return lines[0]


def train_argv(tmp_path, *extra: str) -> list[str]:
    return ["--out", "x", "--out-dir", str(tmp_path / "out"), "--epochs", "1", *extra]


@pytest.mark.parametrize(
    "extra, says",
    [
        (["--threads", "-3"], "--threads: must be a whole number from 0 to 1024"),
        (["--threads", "two"], "--threads: must be a whole number"),
        (["--iwae-k", "-1"], "--iwae-k: must be a whole number from 0"),
        (["--model", "ae", "--iwae-k", "100"], "--iwae-k: the IWAE bound needs a VAE"),
        (["--model", "ae", "--kl-only"], "--kl-only: an autoencoder has no KL term"),
        (["--kl-only", "--beta", "0"], "--kl-only: with --beta 0 nothing is left to train"),
        (["--epochs", "0"], "--epochs: epochs must be between 1 and 10000 (got 0)"),
        (["--epochs", "1.5"], "--epochs: invalid int value"),
        (["--batch-size", "0"], "--batch-size: batch_size must be between 1 and 4096"),
        (["--batch-size", "100000"], "--batch-size: batch_size must be between 1 and 4096"),
        (["--lr", "-0.1"], "--lr: lr must be between"),
        (["--lr", "inf"], "--lr: lr must be a finite number"),
        (["--latent-dim", "0"], "--latent-dim: latent_dim must be between 1 and 64 (got 0)"),
        (["--beta", "-1"], "--beta: beta must be between 0.0 and 1000.0"),
        (["--beta", "nan"], "--beta: beta must be a finite number"),
        (["--max-train", "0"], "--max-train: max_train must be between 1"),
        (["--mc-samples", "0"], "--mc-samples: mc_samples must be between 1 and 1000"),
        (["--kl-warmup", "-1"], "--kl-warmup: kl_warmup_epochs must be between 0"),
        (["--seed", "-1"], "--seed: seed must be between 0"),
        (["--dataset", "cifar"], "--dataset: invalid choice"),
        (["--out", "evil\n"], "--out: 'evil\\n' is not a valid checkpoint name"),
        (["--out", "../escape"], "--out: '../escape' is not a valid checkpoint name"),
    ],
)
def test_train_refuses_a_bad_argument_before_any_work(tmp_path, capsys, no_work, extra, says):
    assert cli.main(train_argv(tmp_path, *extra)) == 2
    assert says in one_error_line(capsys)


def test_train_names_the_missing_required_argument(capsys, no_work):
    assert cli.main([]) == 2
    assert "--out" in one_error_line(capsys)


def test_train_refuses_an_output_folder_that_is_a_file(tmp_path, capsys, no_work):
    (tmp_path / "file").write_text("not a folder")
    assert cli.main(["--out", "x", "--out-dir", str(tmp_path / "file")]) == 2
    assert "--out-dir: " in (line := one_error_line(capsys)) and "is a file, not a folder" in line
    assert cli.main(["--out", "x", "--out-dir", str(tmp_path / "file" / "below")]) == 2
    assert "--out-dir: cannot create the folder" in one_error_line(capsys)


def test_train_refuses_an_unwritable_output_folder(tmp_path, capsys, no_work, monkeypatch):
    def read_only(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", read_only)  # chmod does not stop root, which runs CI here
    assert cli.main(train_argv(tmp_path)) == 2
    line = one_error_line(capsys)
    assert "--out-dir: cannot write to" in line and "Permission denied" in line and "choose a folder" in line


def test_train_refuses_an_existing_name_before_training(tmp_path, capsys, no_work):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "x.safetensors").write_bytes(b"old")
    assert cli.main(train_argv(tmp_path)) == 2
    assert "pass --overwrite" in one_error_line(capsys)
    (tmp_path / "out" / "x.safetensors").unlink()
    (tmp_path / "out" / "x.safetensors").mkdir()
    assert cli.main(train_argv(tmp_path, "--overwrite")) == 2
    assert "is not a file" in one_error_line(capsys)


def test_good_arguments_create_the_folder_then_load_the_data(tmp_path, capsys, monkeypatch):
    from vae_core.data import DatasetUnavailable

    def unavailable(name):
        raise DatasetUnavailable(f"{name} is not downloaded")

    monkeypatch.setattr(cli, "load_dataset", unavailable)
    monkeypatch.setattr(cli.torch, "set_num_threads", lambda n: None)  # keep the test session's setting
    argv = train_argv(tmp_path, "--iwae-k", "10", "--threads", "1", "--kl-only")
    assert cli.main(argv) == 2
    assert one_error_line(capsys) == "error: mnist5k is not downloaded"
    assert (tmp_path / "out").is_dir() and not list((tmp_path / "out").iterdir()), "the write test leaves nothing"


def test_zoo_refuses_bad_arguments_before_training(capsys, no_work):
    assert zoo.main(["--threads", "-3"]) == 2
    assert "--threads: must be a whole number" in one_error_line(capsys)
    assert zoo.main(["--only", "no-such-model"]) == 2
    assert "--only: invalid choice: 'no-such-model'" in one_error_line(capsys)


@pytest.mark.parametrize(
    "argv, says",
    [
        (["--all", "--threads", "-3"], "--threads: must be a whole number"),
        (["--all", "--classifier-epochs", "0"], "--classifier-epochs: must be a whole number from 1 to 1000"),
        ([], "say which checkpoints"),
    ],
)
def test_metrics_refuses_bad_arguments_before_scoring(capsys, no_work, argv, says):
    with pytest.raises(SystemExit) as exit_:  # like argparse, the metrics CLI exits (its tests rely on it)
        metrics.main(argv)
    assert exit_.value.code == 2
    assert says in one_error_line(capsys)
