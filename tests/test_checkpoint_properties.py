"""Property-based tests of the checkpoint reader: any bytes give a model or a CheckpointError (never another
exception), every checkpoint the project writes loads again, and save -> load -> save is byte-identical.

Plus each attack of issue 11 against the file format, as a test."""

from __future__ import annotations

import json
import os
import struct

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vae_core.config import ModelConfig
from vae_core.latent.codes import load_latents, load_or_compute_latents, save_latents, save_with_latents
from vae_core.model import build_model
from vae_core.store.catalog import read_info, require_free_name
from vae_core.store.checkpoints import (
    CheckpointError,
    checkpoint_bytes,
    load_checkpoint,
    load_checkpoint_bytes,
    save_checkpoint,
    validate_name,
)
from vae_core.store.disk import load_arrays, save_arrays
from vae_core.store.files import parse_header

# A small network keeps thousands of loads fast; the reader treats every size alike.
TINY = {"channels": (2, 2, 2), "hidden": 4}


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """Thousands of tiny forward passes: one intra-op thread is ~20x faster than two waiting on each other."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


EXAMPLES = settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def tiny_model(seed: int = 0, **config) -> torch.nn.Module:
    torch.manual_seed(seed)
    return build_model(ModelConfig(**{**TINY, "latent_dim": 2, **config}))


GOOD = checkpoint_bytes(tiny_model(), {"dataset": "mnist5k"})


def split(data: bytes) -> tuple[dict, bytes]:
    (n,) = struct.unpack("<Q", data[:8])
    return json.loads(data[8 : 8 + n]), data[8 + n :]


def join(header: dict | str, body: bytes) -> bytes:
    raw = (header if isinstance(header, str) else json.dumps(header)).encode()
    return struct.pack("<Q", len(raw)) + raw + body


def only_checkpoint_errors(data: bytes) -> None:
    try:
        load_checkpoint_bytes(data)
    except CheckpointError:
        pass


# ------------------------------------------------------------------------------------------ any bytes at all

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


@EXAMPLES
@given(st.binary(max_size=600))
def test_random_bytes_give_only_checkpoint_errors(data):
    only_checkpoint_errors(data)
    only_checkpoint_errors(struct.pack("<Q", len(data)) + data)  # a plausible length prefix, random header


@EXAMPLES
@given(st.data())
def test_mutated_checkpoints_give_a_model_or_a_checkpoint_error(data):
    raw = bytearray(GOOD)
    header_end = 8 + struct.unpack("<Q", GOOD[:8])[0]
    for _ in range(data.draw(st.integers(1, 4))):
        kind = data.draw(st.sampled_from(["flip", "cut", "insert", "delete"]))
        at = data.draw(st.integers(0, min(len(raw), header_end + 16) - 1))  # mostly the header, where parsing is
        if kind == "flip":
            raw[at] = data.draw(st.integers(0, 255))
        elif kind == "cut":
            del raw[at:]
        elif kind == "insert":
            raw[at:at] = data.draw(st.binary(min_size=1, max_size=8))
        else:
            del raw[at : at + data.draw(st.integers(1, 8))]
        if not raw:
            break
    only_checkpoint_errors(bytes(raw))


@EXAMPLES
@given(
    st.sampled_from(["__metadata__", "dtype", "shape", "data_offsets", "format", "model_config", "meta"]), json_values
)
def test_any_json_in_any_header_field_gives_a_checkpoint_error(field, value):
    header, body = split(GOOD)
    name = next(k for k in header if k != "__metadata__")
    if field == "__metadata__":
        header[field] = value
    elif field in ("dtype", "shape", "data_offsets"):
        header[name][field] = value
    else:
        header["__metadata__"][field] = json.dumps(value) if field != "format" else str(value)
    only_checkpoint_errors(join(header, body))


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_header_of_a_file_on_disk_never_raises(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("info") / "x.safetensors"
    path.write_bytes(struct.pack("<Q", len(data)) + data)
    assert read_info(path, shipped=False) is None
    try:
        load_arrays(path)
    except CheckpointError:
        pass


# --------------------------------------------------------------------------------------- what we write loads

configs = st.builds(
    ModelConfig,
    kind=st.sampled_from(["vae", "ae"]),
    latent_dim=st.integers(1, 8),
    likelihood=st.sampled_from(["bernoulli", "gaussian"]),
    beta=st.floats(0, 1000),
    recon_weight=st.floats(0, 1),
    channels=st.tuples(st.integers(1, 3), st.integers(1, 3), st.integers(1, 3)),
    hidden=st.integers(1, 6),
    logvar_min=st.floats(-20, -1),
    logvar_max=st.floats(0, 5),
)
metas = st.dictionaries(st.text(max_size=10), json_values, max_size=6)


@settings(max_examples=200, deadline=None)
@given(configs, metas, st.booleans())
def test_save_load_save_is_byte_identical(config, meta, half):
    data = checkpoint_bytes(build_model(config), meta, half=half)
    loaded = load_checkpoint_bytes(data)
    assert loaded.config == config
    assert checkpoint_bytes(loaded.model, loaded.meta, half=half) == data


def test_a_thousand_saved_checkpoints_with_random_metadata_sizes_all_load_again(tmp_path, monkeypatch):
    """Issue 11, item 1: the header length is the file's first 8 bytes, so some sizes start the file with 0x80 or
    'PK', like a pickle or a zip. Every size must load."""
    model = tiny_model()
    monkeypatch.setattr(os, "fsync", lambda fd: None)  # durability is tested elsewhere; here, only the format
    rng = np.random.default_rng(0)
    sizes = [*rng.integers(0, 70_000, 1000)]
    starts = set()
    for i, size in enumerate(sizes):
        path = save_checkpoint(model, tmp_path / f"m{i}.safetensors", {"history": "x" * int(size)})
        starts.add(path.read_bytes()[0])
        assert load_checkpoint(path).meta["history"] == "x" * int(size)
    assert 0x80 in starts  # the case the old pickle sniffing refused did occur


@pytest.mark.parametrize(("first_bytes", "low_bits"), [(b"\x80", 0x80), (b"PK", 0x4B50)])
def test_header_lengths_that_look_like_a_pickle_or_a_zip_load(first_bytes, low_bits):
    model = tiny_model()
    n0 = struct.unpack("<Q", checkpoint_bytes(model, {"pad": ""})[:8])[0]
    period = 0x100 if low_bits < 0x100 else 0x10000
    target = low_bits + period * (n0 // period + 1)  # the first header length above n0 with those low bytes
    for pad in range(target - n0 - 8, target - n0 + 8):
        data = checkpoint_bytes(model, {"pad": "x" * pad})
        if data.startswith(first_bytes):
            assert load_checkpoint_bytes(data).meta["pad"] == "x" * pad
            return
    pytest.fail(f"no padding made the header length start with {first_bytes!r}")


def test_non_finite_metadata_is_written_as_null():
    """JSON has no NaN: a diverged training's history must still save, and load in any reader."""
    loaded = load_checkpoint_bytes(checkpoint_bytes(tiny_model(), {"history": [{"loss": float("nan")}, 1.5]}))
    assert loaded.meta["history"] == [{"loss": None}, 1.5]


# -------------------------------------------------------------------------------- each malformed header, named


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (lambda h: h.update(__metadata__=[1, 2]), "__metadata__ must map names to strings"),
        (lambda h: h.update(__metadata__="text"), "__metadata__ must map names to strings"),
        (lambda h: h["__metadata__"].update(meta={"not": "a string"}), "__metadata__ must map names to strings"),
        (lambda h: h[next(iter(set(h) - {"__metadata__"}))].update(data_offsets="0,4"), "malformed entry"),
        (lambda h: h[next(iter(set(h) - {"__metadata__"}))].update(data_offsets=[1]), "malformed entry"),
        (lambda h: h[next(iter(set(h) - {"__metadata__"}))].update(shape=7), "malformed entry"),
        (lambda h: h[next(iter(set(h) - {"__metadata__"}))].update(shape=[-1, 2]), "impossible shape"),
        (lambda h: h[next(iter(set(h) - {"__metadata__"}))].update(shape=[True]), "impossible shape"),
    ],
)
def test_malformed_header_fields_are_named(edit, match):
    header, body = split(GOOD)
    edit(header)
    with pytest.raises(CheckpointError, match=match):
        load_checkpoint_bytes(join(header, body))


@pytest.mark.parametrize(
    "raw",
    ["[" * 100_000 + "]" * 100_000, '{"a": ' + "9" * 5000 + "}", '{"a": 1, "a": 2}', '{"a": NaN}' + " " * 3],
    ids=["deeply-nested", "5000-digit-integer", "duplicate-key", "nan"],
)
def test_json_that_breaks_parsers_is_a_damaged_header(raw):
    with pytest.raises(CheckpointError, match="header is not"):
        load_checkpoint_bytes(join(raw if raw.startswith("{") else "{" + raw[1:], b""))


def test_json_inside_the_metadata_is_parsed_with_the_same_care():
    header, body = split(GOOD)
    header["__metadata__"]["meta"] = "[" * 50_000
    with pytest.raises(CheckpointError, match="checkpoint's metadata is not valid JSON"):
        load_checkpoint_bytes(join(header, body))


def test_parse_header_rejects_gaps_and_trailing_bytes():
    with pytest.raises(CheckpointError, match="has bytes after its weights"):
        parse_header(GOOD + b"\0")
    header, body = split(GOOD)
    entries = sorted((k for k in header if k != "__metadata__"), key=lambda k: header[k]["data_offsets"])
    header[entries[0]]["data_offsets"] = [x + 4 for x in header[entries[0]]["data_offsets"]]
    with pytest.raises(CheckpointError):
        parse_header(join(header, body + b"\0" * 4))


# ------------------------------------------------------------------------- files that would break the pages


def test_a_gaussian_with_absurd_variance_bounds_is_refused():
    header, body = split(checkpoint_bytes(tiny_model(likelihood="gaussian")))
    config = json.loads(header["__metadata__"]["model_config"])
    header["__metadata__"]["model_config"] = json.dumps({**config, "logvar_min": -1e308, "logvar_max": 1e308})
    with pytest.raises(CheckpointError, match=r"logvar_min must be between -20.0 and 5.0 \(got -1e\+308\)"):
        load_checkpoint_bytes(join(header, body))


@pytest.mark.parametrize("scale", [1e30, 1e12])
def test_finite_but_absurd_weights_are_refused_before_anything_is_written(tmp_path, scale):
    model = tiny_model()
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(scale).add_(scale)
    with pytest.raises(CheckpointError, match="refused"):
        load_checkpoint_bytes(checkpoint_bytes(model))
    images = np.random.default_rng(0).random((20, 28, 28), dtype=np.float32)
    with pytest.raises(CheckpointError):
        save_with_latents(model, tmp_path / "huge.safetensors", {}, images, np.arange(20) % 10)
    assert list(tmp_path.iterdir()) == []  # no checkpoint left without its latents


def test_names_with_a_trailing_newline_are_refused():
    with pytest.raises(CheckpointError, match="is not a valid checkpoint name"):
        validate_name("evil\n")


def test_a_shipped_models_name_cannot_be_taken(tmp_path, monkeypatch):
    shipped, mine = tmp_path / "shipped", tmp_path / "mine"
    save_checkpoint(tiny_model(), shipped / "mnist5k-vae-16.safetensors")
    save_checkpoint(tiny_model(), mine / "my-vae.safetensors")
    monkeypatch.setenv("VAE_EXPLORER_CHECKPOINTS", str(shipped))
    with pytest.raises(CheckpointError, match="a shipped model named 'mnist5k-vae-16' already exists"):
        require_free_name("mnist5k-vae-16", mine)
    with pytest.raises(CheckpointError, match="a checkpoint named 'my-vae' already exists"):
        require_free_name("my-vae", mine)
    assert require_free_name("mnist5k-vae-17", mine) == "mnist5k-vae-17"


# ------------------------------------------------------------------------------ a checkpoint and its latents


def test_latents_of_another_version_of_the_checkpoint_are_never_used(tmp_path):
    """Issue 11, item 8: a crash between the checkpoint's write and its latents' write left the old latents."""
    images = np.random.default_rng(0).random((30, 28, 28), dtype=np.float32)
    labels = np.arange(30) % 10
    path = save_with_latents(tiny_model(0), tmp_path / "m.safetensors", {}, images, labels)
    assert load_latents(path) is not None
    old_latents = load_arrays(path.with_name("m.latents.safetensors"))
    new_model = tiny_model(1)
    save_checkpoint(new_model, path, {}, overwrite=True)  # ... and the process dies before the latents are written
    assert load_latents(path) is None
    arrays = load_or_compute_latents(path, new_model, lambda: (images, labels))
    with torch.no_grad():
        expected = new_model.encode(torch.as_tensor(images)[:, None])[0].numpy()
    np.testing.assert_allclose(arrays.mu, expected, atol=1e-6)
    assert not np.allclose(arrays.mu, old_latents[0]["mu"])


def test_latents_without_a_recorded_hash_are_recomputed(tmp_path):
    path = save_checkpoint(tiny_model(), tmp_path / "m.safetensors")
    save_arrays(path.with_name("m.latents.safetensors"), {"mu": np.zeros((10, 2), np.float32)}, {"n": 10})
    assert load_latents(path) is None
    save_latents(path, {"mu": np.ones((10, 2), np.float32), "pca": np.ones((10, 2), np.float32)}, 10)
    assert load_latents(path)["mu"].sum() == 20
