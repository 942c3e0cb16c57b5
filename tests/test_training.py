"""The training loop: it lowers the loss, is reproducible, cancels, and stops cleanly on a NaN."""

import numpy as np
import pytest
import torch

from vae_core.config import ModelConfig, TrainConfig
from vae_core.model import build_model
from vae_core.training import Callback, TrainingStopped, train


def blobs(n=96, seed=0):
    """Tiny images: a bright square at one of four places (learnable in a few steps)."""
    rng = np.random.default_rng(seed)
    x = np.zeros((n, 28, 28), np.float32)
    for i, k in enumerate(rng.integers(0, 4, n)):
        r, c = divmod(int(k), 2)
        x[i, 4 + 12 * r : 12 + 12 * r, 4 + 12 * c : 12 + 12 * c] = 1.0
    return x


@pytest.mark.parametrize("kind", ["vae", "ae"])
def test_short_training_lowers_the_loss(kind):
    torch.manual_seed(0)
    model = build_model(ModelConfig(kind=kind, latent_dim=2))
    x = blobs()
    result = train(model, x, TrainConfig(epochs=4, batch_size=16, lr=3e-3), test_images=x[:32])
    first, last = result.history[0], result.history[-1]
    assert last["train_recon"] < first["train_recon"]
    assert last["test_recon"] < first["test_recon"]
    assert result.test["recon"] == pytest.approx(last["test_recon"], rel=1e-4)
    assert not model.training


def test_training_is_reproducible_with_a_seed():
    x = blobs()
    a = build_model(ModelConfig(latent_dim=2))
    b = build_model(ModelConfig(latent_dim=2))
    b.load_state_dict(a.state_dict())
    ra = train(a, x, TrainConfig(epochs=1, batch_size=32, seed=7))
    rb = train(b, x, TrainConfig(epochs=1, batch_size=32, seed=7))
    assert ra.history[0]["train_recon"] == rb.history[0]["train_recon"]
    for pa, pb in zip(a.parameters(), b.parameters(), strict=True):
        assert torch.equal(pa, pb)


def test_callbacks_see_progress_and_can_cancel():
    seen = []

    class StopAfterThree(Callback):
        def on_step(self, model, state):
            seen.append(state.progress)
            if state.step == 3:
                state.stop_requested = True

    model = build_model(ModelConfig(latent_dim=2))
    result = train(model, blobs(), TrainConfig(epochs=5, batch_size=8), callbacks=[StopAfterThree()])
    assert result.cancelled
    assert len(seen) == 3 and seen == sorted(seen)
    assert len(result.history) == 1


def test_kl_warmup_ramps_beta():
    model = build_model(ModelConfig(latent_dim=2))
    result = train(model, blobs(32), TrainConfig(epochs=3, batch_size=16, kl_warmup_epochs=2))
    assert [row["beta"] for row in result.history] == [0.0, 0.5, 1.0]


def test_nan_loss_stops_and_keeps_the_last_good_weights():
    model = build_model(ModelConfig(latent_dim=2))
    x = blobs(32)
    before = {k: v.clone() for k, v in model.state_dict().items()}

    class Poison(Callback):
        def on_step(self, model, state):
            if state.step == 1:  # poison the data the next step sees
                x_live[:] = float("nan")

    x_live = torch.as_tensor(x).unsqueeze(1)
    with pytest.raises(TrainingStopped, match="the loss became nan at epoch 1, step 2.*last good weights"):
        train(model, x_live, TrainConfig(epochs=2, batch_size=16, binarize=False), callbacks=[Poison()])
    after = model.state_dict()
    assert all(torch.isfinite(v).all() for v in after.values())
    assert any(not torch.equal(before[k], after[k]) for k in before)  # step 1 was applied, step 2 was not


def test_empty_training_set_is_refused():
    model = build_model(ModelConfig(latent_dim=2))
    with pytest.raises(ValueError, match="no training images"):
        train(model, np.zeros((0, 28, 28), np.float32), TrainConfig(epochs=1))
