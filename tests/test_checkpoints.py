"""Checkpoints round-trip exactly, load strictly, and shipped ones meet the quality bar."""

from pathlib import Path

import pytest
import torch

from vae_core.config import ModelConfig
from vae_core.model import build_model
from vae_core.store.catalog import find_twin, scan_checkpoints, shipped_checkpoint_dir
from vae_core.store.checkpoints import CheckpointError, load_checkpoint, save_checkpoint

SHIPPED = Path(__file__).resolve().parents[1] / "checkpoints"


@pytest.mark.parametrize("likelihood", ["bernoulli", "gaussian"])
def test_round_trip_is_exact(tmp_path, likelihood):
    model = build_model(ModelConfig(latent_dim=3, likelihood=likelihood, beta=2.0))
    path = save_checkpoint(model, tmp_path / "m.safetensors", {"dataset": "mnist5k", "epochs": 3})
    ckpt = load_checkpoint(path)
    assert ckpt.config == model.config
    assert ckpt.meta["dataset"] == "mnist5k" and ckpt.meta["code_version"]
    for (k, a), (_, b) in zip(model.state_dict().items(), ckpt.model.state_dict().items(), strict=True):
        assert torch.equal(a, b), k
    assert not ckpt.model.training
    assert not any(p.requires_grad for p in ckpt.model.parameters())


def test_half_precision_round_trip_is_close(tmp_path):
    model = build_model(ModelConfig(latent_dim=2))
    ckpt = load_checkpoint(save_checkpoint(model, tmp_path / "h.safetensors", half=True))
    z = torch.randn(4, 2)
    with torch.no_grad():
        assert torch.allclose(model.decoder_mean(z), ckpt.model.decoder_mean(z), atol=2e-3)


def test_existing_name_is_not_overwritten(tmp_path):
    model = build_model(ModelConfig(latent_dim=2))
    path = save_checkpoint(model, tmp_path / "same.safetensors", {"who": "first"})
    with pytest.raises(CheckpointError, match="already exists; choose another name"):
        save_checkpoint(build_model(ModelConfig(latent_dim=2)), path, {"who": "second"})
    assert load_checkpoint(path).meta["who"] == "first"
    save_checkpoint(model, path, {"who": "third"}, overwrite=True)
    assert load_checkpoint(path).meta["who"] == "third"
    assert [p.name for p in tmp_path.iterdir()] == ["same.safetensors"]


def test_every_shipped_checkpoint_loads_with_its_maps():
    infos = scan_checkpoints([(SHIPPED, True)])
    names = {i.name for i in infos}
    expected = {
        "mnist5k-vae-16",
        "mnist5k-ae-16",
        "mnist5k-vae-2",
        "mnist5k-ae-2",
        "mnist5k-beta0-2",
        "mnist5k-beta0p1-2",
        "mnist5k-beta4-2",
        "mnist5k-klonly-2",
        "shapes-vae-8",
        "shapes-ae-8",
    }
    assert expected <= names
    for info in infos:
        ckpt = load_checkpoint(info.path)
        assert ckpt.config.latent_dim == info.latent_dim
        assert info.latents_path.is_file(), f"{info.name} has no precomputed latent maps"
    vae16 = next(i for i in infos if i.name == "mnist5k-vae-16")
    assert find_twin(infos, vae16).name == "mnist5k-ae-16"


def test_shipped_checkpoints_fit_the_size_budget():
    total = sum(p.stat().st_size for p in SHIPPED.glob("*") if p.is_file())
    assert total <= 40 * 1024 * 1024, f"shipped checkpoints take {total / 1e6:.1f} MB (budget 40 MB)"


def test_default_vae_meets_the_quality_bar():
    """Recorded by the training CLI on the 500 held-out images (re-measured by bench/bench_quality.py)."""
    meta = load_checkpoint(SHIPPED / "mnist5k-vae-16.safetensors").meta
    if meta.get("epochs", 0) < 20:
        pytest.skip("placeholder checkpoint (rebuild with `python -m vae_core.cli.zoo`)")
    assert -meta["metrics"]["test_elbo"] <= 105.0
    assert meta["metrics"]["test_iwae_nll"] <= 100.0 and meta["metrics"]["iwae_k"] >= 1000


def test_catalog_reads_only_our_checkpoints(tmp_path, monkeypatch):
    (tmp_path / "random.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{}")
    (tmp_path / "junk.safetensors").write_bytes(b"nope")
    save_checkpoint(build_model(ModelConfig(latent_dim=2)), tmp_path / "ok.safetensors", {"dataset": "digits"})
    infos = scan_checkpoints([(tmp_path, False)])
    assert [i.name for i in infos] == ["ok"]
    assert infos[0].dataset == "digits" and not infos[0].shipped
    monkeypatch.setenv("VAE_EXPLORER_CHECKPOINTS", str(tmp_path))
    assert shipped_checkpoint_dir() == tmp_path
    assert infos[0].config.latent_dim == 2 and infos[0].meta.dataset == "digits"
