"""Checkpoints a user can hand us: every malformed, malicious or unlucky file is refused with a message that says
what is wrong, nothing is ever unpickled, names cannot escape their folder, and saves are atomic."""

from __future__ import annotations

import errno
import json
import multiprocessing
import os
import pickle
import random
import signal
import struct
import tempfile
import time
import warnings
from pathlib import Path

import pytest
import torch
from safetensors.torch import save as st_save

from vae_core.config import ModelConfig
from vae_core.model import build_model
from vae_core.store import checkpoints
from vae_core.store.catalog import scan_checkpoints
from vae_core.store.checkpoints import (
    MAX_CHECKPOINT_BYTES,
    CheckpointError,
    checkpoint_bytes,
    load_checkpoint,
    load_checkpoint_bytes,
    save_checkpoint,
    validate_name,
)
from vae_core.store.disk import atomic_write
from vae_core.store.user_checkpoints import clean_meta, read_user_checkpoint, suggest_name


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return build_model(ModelConfig(latent_dim=2))


@pytest.fixture(scope="module")
def good(model) -> bytes:
    return checkpoint_bytes(model, {"dataset": "mnist5k"})


def split(data: bytes) -> tuple[dict, bytes]:
    (n,) = struct.unpack("<Q", data[:8])
    return json.loads(data[8 : 8 + n]), data[8 + n :]


def join(header: dict, body: bytes) -> bytes:
    raw = json.dumps(header).encode()
    return struct.pack("<Q", len(raw)) + raw + body


def edited(data: bytes, edit) -> bytes:
    header, body = split(data)
    edit(header)
    return join(header, body)


def first_weight(header: dict) -> str:
    return next(k for k in header if k != "__metadata__")


def set_config(**changes):
    def edit(header):
        config = json.loads(header["__metadata__"]["model_config"])
        header["__metadata__"]["model_config"] = json.dumps({**config, **changes})

    return edit


def refused(data: bytes, match: str) -> None:
    with pytest.raises(CheckpointError, match=match):
        load_checkpoint_bytes(data)


def test_a_good_checkpoint_loads_read_only(good, model):
    ckpt = load_checkpoint_bytes(good, name="ok")
    assert not ckpt.model.training and not any(p.requires_grad for p in ckpt.model.parameters())
    for k, v in model.state_dict().items():
        assert torch.equal(ckpt.model.state_dict()[k], v)


# ------------------------------------------------------------------------------------------ malformed files


@pytest.mark.parametrize(
    ("cut", "match"),
    [(4, "too short to be a safetensors checkpoint"), (40, "ends inside its header: it is truncated"),
     (-1000, "ends before its weights do: it is truncated")],
)  # fmt: skip
def test_truncated_file(good, cut, match):
    refused(good[:cut], match)


def test_header_claiming_ten_gigabytes(good):
    refused(struct.pack("<Q", 10 * 2**30) + good[8:], "header claims 10737418240 bytes")


def test_header_not_json(good):
    refused(struct.pack("<Q", 9) + b"{not json" + good[8:], "header is not valid JSON")


def test_header_json_not_an_object(good):
    refused(struct.pack("<Q", 6) + b"[1, 2]", "header is not a JSON object")


def test_wrong_format_tag(good):
    refused(edited(good, lambda h: h["__metadata__"].update(format="someone-else/9")), "not a VAE-explorer checkpoint")


def test_unknown_config_field(good):
    refused(edited(good, set_config(colour="red")), "unknown model config fields: colour")


def test_latent_dim_out_of_bounds(good):
    refused(edited(good, set_config(latent_dim=1000)), r"latent_dim must be between 1 and 64 \(got 1000\)")


def test_metadata_not_an_object(good):
    refused(edited(good, lambda h: h["__metadata__"].update(meta="[1]")), "metadata must be a JSON object")


def test_missing_tensor(good):
    refused(edited(good, lambda h: h.pop(first_weight(h))), "the weights do not match the config: missing")


def test_extra_tensor(model):
    state = {k: v.contiguous() for k, v in model.state_dict().items()}
    state["backdoor.weight"] = torch.zeros(3)
    data = st_save(state, metadata={"format": checkpoints.FORMAT, "model_config": json.dumps(model.config.to_dict())})
    refused(data, "unexpected backdoor.weight")


def test_wrong_shape(good):
    refused(edited(good, lambda h: h[first_weight(h)].update(shape=[1, 2, 3])), "has shape \\[1, 2, 3\\] but")


def test_wrong_dtype(good):
    refused(edited(good, lambda h: h[first_weight(h)].update(dtype="I64")), "only F32, F16 and BF16 are accepted")


def test_offsets_out_of_range(good):
    def edit(h):
        h[first_weight(h)]["data_offsets"] = [0, 10**12]

    refused(edited(good, edit), "has the wrong number of bytes: the file is damaged")


def test_nan_weights(model):
    broken = build_model(model.config)
    broken.load_state_dict(model.state_dict())
    with torch.no_grad():
        next(broken.parameters())[0].fill_(float("nan"))
    refused(checkpoint_bytes(broken), "contains NaN or infinite values")


def test_oversized_file():
    refused(bytes(MAX_CHECKPOINT_BYTES + 1), "checkpoints are limited to 50 MB")


# ------------------------------------------------------------------------------------------------- pickles


def no_unpickling(monkeypatch) -> None:
    """From now on, any attempt to unpickle fails the test loudly (called after the test wrote its pickles)."""

    def forbidden(*args, **kwargs):
        raise AssertionError("a user's file was unpickled")

    for target, name in ((pickle, "Unpickler"), (pickle, "load"), (pickle, "loads"), (torch, "load")):
        monkeypatch.setattr(target, name, forbidden)


def test_pickled_torch_file_is_refused_without_unpickling(tmp_path, model, monkeypatch):
    pt = tmp_path / "model.pt"
    torch.save(model.state_dict(), pt)
    legacy = tmp_path / "legacy.pth"
    torch.save(model.state_dict(), legacy, _use_new_zipfile_serialization=False)
    disguised = tmp_path / "disguised.safetensors"
    disguised.write_bytes(pt.read_bytes())
    raw_pickle = pickle.dumps({"weights": [1, 2, 3]})
    no_unpickling(monkeypatch)
    with pytest.raises(CheckpointError, match="pickles, and loading a pickle can run arbitrary code"):
        load_checkpoint(pt)
    with pytest.raises(CheckpointError, match="pickles"):
        load_checkpoint(legacy)
    for data in (pt.read_bytes(), legacy.read_bytes(), raw_pickle):
        refused(data, "looks like a pickled PyTorch file")
    with pytest.raises(CheckpointError, match="looks like a pickled PyTorch file"):
        load_checkpoint(disguised)


def test_torchscript_zip_is_refused(tmp_path, monkeypatch):
    path = tmp_path / "scripted.pt"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.jit is deprecated; users still have such files
        torch.jit.save(torch.jit.script(torch.nn.Linear(2, 2)), str(path))
    renamed = tmp_path / "scripted.safetensors"
    renamed.write_bytes(path.read_bytes())
    no_unpickling(monkeypatch)
    with pytest.raises(CheckpointError, match="pickles"):
        load_checkpoint(path)
    with pytest.raises(CheckpointError, match="looks like a pickled PyTorch file"):
        load_checkpoint(renamed)


# --------------------------------------------------------------------------------------------------- names


@pytest.mark.parametrize(
    "name", ["../x", "/abs", "a/b", "a\\b", "CON", "con", "nul", "", "a" * 100, ".hidden", "-dash", "name.safetensors"]
)
def test_names_that_could_escape_or_break_a_folder(name):
    with pytest.raises(CheckpointError, match="is not a valid checkpoint name: use 1-64 lowercase letters"):
        validate_name(name)


def test_a_good_name_passes():
    assert validate_name("my-vae_16") == "my-vae_16"


def test_saving_the_same_name_twice_never_overwrites(tmp_path, model):
    path = save_checkpoint(model, tmp_path / "mine.safetensors")
    before = path.read_bytes()
    other = build_model(model.config)
    with pytest.raises(CheckpointError, match="a checkpoint named 'mine' already exists; choose another name"):
        save_checkpoint(other, path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.safetensors"]


# ---------------------------------------------------------------------------------------- crashes and disks


def _save_forever(path: str, versions: list[bytes]) -> None:
    i = 0
    while True:
        atomic_write(Path(path), versions[i % 2], overwrite=True)
        i += 1


def test_killing_a_save_midway_leaves_the_previous_checkpoint(tmp_path, model):
    other = build_model(model.config)
    versions = [checkpoint_bytes(model, {"v": 0}), checkpoint_bytes(other, {"v": 1})]
    path = save_checkpoint(model, tmp_path / "crash.safetensors")
    ctx = multiprocessing.get_context("fork")  # the child only writes bytes: no torch work after fork
    rng = random.Random(0)
    for _ in range(6):
        child = ctx.Process(target=_save_forever, args=(str(path), versions))
        child.start()
        time.sleep(rng.uniform(0.02, 0.25))
        os.kill(child.pid, signal.SIGKILL)
        child.join()
        ckpt = load_checkpoint(path)  # whole and valid: one version or the other
        assert ckpt.meta["v"] in (0, 1)
        listed = scan_checkpoints([(tmp_path, False)])
        assert [i.name for i in listed] == ["crash"]  # stray temp files are never listed
    # A temp file a killed writer left behind is removed by the next save once it is a minute old.
    for stray in tmp_path.glob(".*.tmp"):
        os.utime(stray, (time.time() - 120, time.time() - 120))
    fd, fresh = tempfile.mkstemp(prefix=".crash.safetensors.", suffix=".tmp", dir=tmp_path)
    os.close(fd)
    save_checkpoint(model, tmp_path / "after.safetensors")
    assert [p.name for p in tmp_path.glob(".*.tmp")] == [Path(fresh).name]  # a fresh one may be a live save


def test_read_only_folder_gives_a_clear_error(tmp_path, model, monkeypatch):
    folder = tmp_path / "locked"
    folder.mkdir()
    if os.geteuid() == 0:  # root ignores permissions: simulate what a read-only folder does to mkstemp

        def denied(*args, **kwargs):
            raise PermissionError(errno.EACCES, "Permission denied")

        monkeypatch.setattr(tempfile, "mkstemp", denied)
    else:
        folder.chmod(0o555)
    try:
        with pytest.raises(CheckpointError, match="the folder is read-only. Choose a writable folder"):
            save_checkpoint(model, folder / "x.safetensors")
    finally:
        folder.chmod(0o755)
    assert list(folder.iterdir()) == []


def test_full_disk_gives_a_clear_error_and_leaves_nothing_behind(tmp_path, model, monkeypatch):
    path = save_checkpoint(model, tmp_path / "kept.safetensors")
    before = path.read_bytes()

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(CheckpointError, match="is full; free some space and save again"):
        save_checkpoint(build_model(model.config), path, overwrite=True)
    with pytest.raises(CheckpointError, match="is full"):
        save_checkpoint(model, tmp_path / "new.safetensors")
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kept.safetensors"]


# ----------------------------------------------------------------------------------- a user's uploaded file


@pytest.mark.parametrize("filename", ["model.pt", "weights.PTH", "net.pkl", "scripted.zip", "x.ckpt", "y.bin"])
def test_uploads_named_like_pickles_are_refused_unopened(filename, good, monkeypatch):
    no_unpickling(monkeypatch)
    with pytest.raises(CheckpointError, match="files are pickles .*this app never opens them"):
        read_user_checkpoint(filename, good)


def test_upload_of_another_kind_of_file_is_refused(good):
    with pytest.raises(CheckpointError, match="expected a .safetensors checkpoint saved by this project"):
        read_user_checkpoint("weights.h5", good)


@pytest.mark.parametrize(
    ("filename", "taken", "expected"),
    [("My VAE (2).safetensors", set(), "my-vae-2"), ("../../etc/passwd", set(), "passwd"),
     ("CON.safetensors", set(), "con-2"), ("***.safetensors", set(), "uploaded-model"),
     ("mine.safetensors", {"mine", "mine-2"}, "mine-3"), ("Ä" * 80 + ".safetensors", set(), "uploaded-model")],
)  # fmt: skip
def test_suggested_names_are_valid_and_free(filename, taken, expected):
    assert suggest_name(filename, taken) == expected
    validate_name(expected)


def test_only_metadata_we_understand_is_kept(model):
    meta = {"description": "[click me](https://example.com) <img src=x>", "epochs": 12, "dataset": "mnist5k",
            "metrics": {"test_recon": 90.5, "test_kl": float("nan"), "evil": "x"}, "extra": {"a": 1}}  # fmt: skip
    ckpt = load_checkpoint_bytes(checkpoint_bytes(model, meta))
    assert clean_meta(ckpt, "shapes") == {
        "dataset": "shapes", "kind": "vae", "description": "VAE, uploaded", "beta": 1.0, "latent_dim": 2,
        "uploaded": True, "epochs": 12, "metrics": {"test_recon": 90.5},
    }  # fmt: skip
    with pytest.raises(CheckpointError, match="unknown dataset 'nope'"):
        clean_meta(ckpt, "nope")
