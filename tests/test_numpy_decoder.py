"""The numpy decoder (the home page's torch-free first digits) draws what torch draws, for every shipped model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from vae_core.config import ModelConfig
from vae_core.model import build_model
from vae_core.numpy_decoder import load_numpy_decoder
from vae_core.store.checkpoints import CheckpointError, load_checkpoint, save_checkpoint

SHIPPED = sorted(p for p in (Path(__file__).resolve().parents[1] / "checkpoints").glob("*.safetensors")
                 if "." not in p.name.removesuffix(".safetensors") and not p.name.startswith("classifier"))  # fmt: skip


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_numpy_and_torch_decode_the_same_images(path):
    model = load_checkpoint(path).model
    z = np.random.default_rng(0).normal(size=(5, model.latent_dim)).astype(np.float32)
    expected = model.decoder_mean(torch.from_numpy(z))[:, 0].numpy()
    got = load_numpy_decoder(path).mean(z)
    assert got.shape == (5, 28, 28)
    np.testing.assert_allclose(got, expected, atol=2e-5)


@torch.no_grad()
def test_other_network_sizes_decode_right_and_a_broken_file_is_refused(tmp_path):
    torch.manual_seed(0)
    model = build_model(ModelConfig(latent_dim=3, channels=(8, 16, 16), hidden=32)).eval()
    path = save_checkpoint(model, tmp_path / "small.safetensors", {"dataset": "mnist5k"})
    z = np.zeros((1, 3), dtype=np.float32)
    np.testing.assert_allclose(
        load_numpy_decoder(path).mean(z), model.decoder_mean(torch.from_numpy(z))[:, 0].numpy(), atol=2e-5
    )
    broken = tmp_path / "broken.safetensors"
    broken.write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError):
        load_numpy_decoder(broken)
