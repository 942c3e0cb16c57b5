"""Training replayed: the snapshot recorder takes its frames when planned, changes nothing about the training it
watches, and its file beside a checkpoint is read back only for that version of the checkpoint."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vae_core.config import ModelConfig, TrainConfig
from vae_core.data import load_dataset
from vae_core.latent.snapshots import (
    SnapshotRecorder,
    Snapshots,
    SnapshotSchedule,
    inside_share,
    load_snapshots,
    opening_epoch,
    save_snapshots,
    snapshots_path,
)
from vae_core.model import build_model
from vae_core.store.catalog import scan_checkpoints
from vae_core.store.checkpoints import save_checkpoint
from vae_core.training import train


def test_the_schedule_is_dense_in_the_first_epoch_then_steady():
    steps = SnapshotSchedule(first_epoch=4, per_epoch=2).steps(epochs=3, steps_per_epoch=10)
    assert sorted(steps) == [(1, 2), (1, 5), (1, 8), (1, 10), (2, 5), (2, 10), (3, 5), (3, 10)]
    # Never more frames in an epoch than it has steps.
    assert SnapshotSchedule(first_epoch=16).steps(1, 3) == {(1, 1), (1, 2), (1, 3)}


def _run(latent_dim: int, recorder: SnapshotRecorder | None, kind: str = "vae"):
    ds = load_dataset("mnist5k")
    torch.manual_seed(0)
    model = build_model(ModelConfig(kind=kind, latent_dim=latent_dim, channels=(8, 8, 8), hidden=32))
    config = TrainConfig(epochs=2, batch_size=64, max_train=256, seed=0)
    train(model, ds.train_x, config, callbacks=[recorder] if recorder else [])
    return model


@pytest.fixture(scope="module")
def recorded():
    ds = load_dataset("mnist5k")
    recorder = SnapshotRecorder(ds.test_x[:50], ds.test_y[:50], SnapshotSchedule(first_epoch=4, per_epoch=1))
    return _run(2, recorder), recorder


def test_recording_leaves_the_training_exactly_as_it_was(recorded):
    with_recorder, _ = recorded
    without = _run(2, None)
    for (name, a), b in zip(with_recorder.state_dict().items(), without.state_dict().values(), strict=True):
        assert torch.equal(a, b), name


def test_frames_start_before_training_and_follow_the_codes(recorded):
    model, recorder = recorded
    snaps = recorder.snapshots()
    assert snaps.frames == 1 + 4 + 1 and snaps.axes == "latent" and snaps.kind == "vae"
    assert snaps.epoch[0] == 0 and snaps.epoch[-1] == 2 and np.all(np.diff(snaps.epoch) > 0)
    assert snaps.recon[0] == 0 and np.all(snaps.recon[1:] > 0) and np.all(snaps.kl[1:] >= 0)
    model.eval()
    with torch.no_grad():
        mu, _ = model.encode(torch.as_tensor(load_dataset("mnist5k").test_x[:50])[:, None])
    np.testing.assert_allclose(snaps.xy[-1], mu.numpy(), atol=1e-5)  # the last frame is the trained model's codes
    assert not np.allclose(snaps.xy[0], snaps.xy[-1])


def test_a_larger_latent_is_replayed_on_the_pca_of_its_final_codes():
    ds = load_dataset("mnist5k")
    recorder = SnapshotRecorder(ds.test_x[:40], ds.test_y[:40], SnapshotSchedule(first_epoch=2, per_epoch=1))
    _run(5, recorder, kind="ae")
    snaps = recorder.snapshots()
    assert snaps.axes == "pca" and snaps.kind == "ae" and snaps.xy.shape == (4, 40, 2)
    assert np.all(snaps.kl == 0)
    np.testing.assert_allclose(snaps.xy[-1].mean(axis=0), 0, atol=1e-4)  # centred on the final codes
    assert snaps.pca_mean.shape == (5,) and snaps.pca_components.shape == (2, 5)  # the way back from map to code


def test_round_trip_beside_its_checkpoint_and_never_beside_another_version(recorded, tmp_path):
    model, recorder = recorded
    path = tmp_path / "tiny-vae.safetensors"
    save_checkpoint(model, path, {"dataset": "mnist5k", "kind": "vae"})
    save_snapshots(path, recorder.snapshots())
    back = load_snapshots(path)
    assert back is not None and back.frames == recorder.snapshots().frames
    np.testing.assert_allclose(back.xy, recorder.snapshots().xy, rtol=1e-3, atol=1e-3)  # stored as float16
    assert [i.name for i in scan_checkpoints([(tmp_path, False)])] == ["tiny-vae"]  # the sidecar is no checkpoint
    save_checkpoint(model, path, {"dataset": "mnist5k", "kind": "vae", "note": "re-saved"}, overwrite=True)
    assert load_snapshots(path) is None  # another version of the checkpoint: its replay is not this one's
    snapshots_path(path).write_bytes(b"not a safetensors file")
    assert load_snapshots(path) is None


def test_what_a_replay_shows_is_read_from_its_frames():
    epoch = np.array([0, 0.5, 1, 2], np.float32)
    xy = np.zeros((4, 100, 2), np.float32)
    xy[2:, :, 0] = np.linspace(-4, 4, 100)  # the codes leave the centre at epoch 1, 4 % of them beyond radius 3.9
    snaps = Snapshots(xy, epoch, epoch, epoch, np.zeros(100, np.int64), "latent", "vae")
    assert opening_epoch(snaps) == 1.0
    assert inside_share(snaps, radius=3.9) == 0.96 and inside_share(snaps, frame=0) == 1.0
    assert opening_epoch(Snapshots(xy[:2], epoch[:2], epoch[:2], epoch[:2], snaps.labels, "latent", "vae")) is None
