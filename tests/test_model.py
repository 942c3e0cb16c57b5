"""The VAE and its autoencoder twin: shapes, the reparameterization trick, sampling x|z, config errors."""

import pytest
import torch

from vae_core.config import ConfigError, ModelConfig, TrainConfig
from vae_core.model import build_model


@pytest.mark.parametrize("kind", ["vae", "ae"])
@pytest.mark.parametrize("likelihood", ["bernoulli", "gaussian"])
def test_shapes(kind, likelihood):
    model = build_model(ModelConfig(kind=kind, latent_dim=5, likelihood=likelihood)).eval()
    x = torch.rand(3, 1, 28, 28)
    mu, logvar = model.encode(x)
    assert mu.shape == (3, 5)
    assert (logvar is None) == (kind == "ae")
    out = model(x)
    assert out.logits.shape == (3, 1, 28, 28)
    assert 0 <= out.reconstruction.min() and out.reconstruction.max() <= 1
    assert model.sample_x(out.z).shape == (3, 1, 28, 28)


def test_reparameterize_draws_from_q():
    model = build_model(ModelConfig(latent_dim=2))
    mu = torch.tensor([[1.0, -2.0]])
    logvar = torch.log(torch.tensor([[0.25, 4.0]]))
    z = model.reparameterize(mu, logvar, n_samples=20000, generator=torch.Generator().manual_seed(0))
    assert z.shape == (20000, 2)
    assert torch.allclose(z.mean(0), mu[0], atol=0.05)
    assert torch.allclose(z.std(0), torch.tensor([0.5, 2.0]), atol=0.05)


def test_autoencoder_does_not_sample():
    model = build_model(ModelConfig(kind="ae", latent_dim=3))
    mu = torch.randn(4, 3)
    assert torch.equal(model.reparameterize(mu, None), mu)


def test_gradients_flow_through_the_sample():
    model = build_model(ModelConfig(latent_dim=2))
    mu = torch.zeros(1, 2, requires_grad=True)
    logvar = torch.zeros(1, 2, requires_grad=True)
    model.reparameterize(mu, logvar).sum().backward()
    assert mu.grad is not None and logvar.grad is not None


def test_bernoulli_samples_are_binary_and_gaussian_samples_vary():
    z = torch.zeros(2, 4)
    b = build_model(ModelConfig(latent_dim=4)).eval()
    assert set(b.sample_x(z).unique().tolist()) <= {0.0, 1.0}
    g = build_model(ModelConfig(latent_dim=4, likelihood="gaussian")).eval()
    s1, s2 = g.sample_x(z), g.sample_x(z)
    assert not torch.equal(s1, s2) and 0 <= s1.min() and s1.max() <= 1


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"latent_dim": 1000}, "latent_dim must be between 1 and 64 (got 1000)"),
        ({"latent_dim": 0}, "latent_dim must be between 1 and 64"),
        ({"latent_dim": 2.5}, "latent_dim must be a whole number"),
        ({"kind": "gan"}, "kind must be one of vae, ae"),
        ({"likelihood": "poisson"}, "likelihood must be one of"),
        ({"beta": float("nan")}, "beta must be a finite number"),
        ({"beta": -1}, "beta must be between 0"),
    ],
)
def test_bad_model_configs_are_refused_with_the_range(kwargs, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        ModelConfig(**kwargs)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"epochs": 0}, "epochs must be between 1"),
        ({"epochs": -3}, "epochs must be between 1"),
        ({"lr": float("inf")}, "lr must be a finite number"),
        ({"lr": 0.0}, "lr must be between"),
        ({"batch_size": 0}, "batch_size must be between"),
        ({"lr_schedule": "step"}, "lr_schedule must be"),
    ],
)
def test_bad_train_configs_are_refused(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        TrainConfig(**kwargs)


def test_config_round_trips_through_json_dict():
    cfg = ModelConfig(kind="ae", latent_dim=7, likelihood="gaussian", beta=0.5)
    assert ModelConfig.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(ConfigError, match="unknown model config fields: colour"):
        ModelConfig.from_dict({**cfg.to_dict(), "colour": "red"})
