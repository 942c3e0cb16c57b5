"""The objectives against torch.distributions, and the IWAE bound against the ELBO."""

import torch
from torch.distributions import Bernoulli, Normal
from torch.distributions import kl_divergence as torch_kl

from vae_core.config import ModelConfig
from vae_core.model import build_model
from vae_core.objectives import elbo, iwae_bound, kl_divergence, kl_per_dimension, log_likelihood


def test_analytic_kl_matches_torch_distributions():
    g = torch.Generator().manual_seed(0)
    mu, logvar = torch.randn(6, 5, generator=g), torch.randn(6, 5, generator=g)
    q = Normal(mu, torch.exp(0.5 * logvar))
    p = Normal(torch.zeros_like(mu), torch.ones_like(mu))
    expected = torch_kl(q, p).sum(-1)
    assert torch.allclose(kl_divergence(mu, logvar), expected, atol=1e-5)
    assert torch.allclose(kl_per_dimension(mu, logvar).sum(-1), expected, atol=1e-5)
    assert torch.allclose(kl_divergence(torch.zeros(2, 3), torch.zeros(2, 3)), torch.zeros(2))


def test_bernoulli_log_likelihood_matches_torch():
    model = build_model(ModelConfig(latent_dim=2))
    x = (torch.rand(3, 1, 28, 28) > 0.5).float()
    logits = torch.randn(3, 1, 28, 28)
    expected = Bernoulli(logits=logits).log_prob(x).flatten(1).sum(1)
    assert torch.allclose(log_likelihood(model, x, logits), expected, atol=1e-3)


def test_gaussian_log_likelihood_matches_torch():
    model = build_model(ModelConfig(latent_dim=2, likelihood="gaussian"))
    x, logits = torch.rand(3, 1, 28, 28), torch.randn(3, 1, 28, 28)
    std = model.decoder_std()
    expected = Normal(torch.sigmoid(logits), std).log_prob(x).flatten(1).sum(1)
    assert torch.allclose(log_likelihood(model, x, logits), expected, atol=1e-3)


def test_elbo_terms_add_up_and_autoencoder_has_no_kl():
    x = torch.rand(4, 1, 28, 28)
    vae = build_model(ModelConfig(latent_dim=3))
    t = elbo(vae, x, n_samples=3)
    assert t.recon_nll.shape == (4,) and (t.kl >= 0).all()
    assert torch.allclose(t.elbo, -t.recon_nll - t.kl)
    assert torch.isclose(t.loss, (t.recon_nll + t.kl).mean())
    ae = build_model(ModelConfig(kind="ae", latent_dim=3))
    ta = elbo(ae, x)
    assert torch.equal(ta.kl, torch.zeros(4)) and torch.isclose(ta.loss, ta.recon_nll.mean())


def test_beta_and_kl_only_weights():
    x = torch.rand(2, 1, 28, 28)
    torch.manual_seed(0)
    model = build_model(ModelConfig(latent_dim=3, beta=4.0))
    t = elbo(model, x, generator=torch.Generator().manual_seed(1))
    assert torch.isclose(t.loss, (t.recon_nll + 4.0 * t.kl).mean())
    kl_only = build_model(ModelConfig(latent_dim=3, recon_weight=0.0))
    t = elbo(kl_only, x)
    assert torch.isclose(t.loss, t.kl.mean())


def test_iwae_with_one_sample_is_the_elbo():
    torch.manual_seed(0)
    model = build_model(ModelConfig(latent_dim=4)).eval()
    x = (torch.rand(5, 1, 28, 28) > 0.7).float()
    # With K = 1 and the same noise, log w = log p(x|z) + log p(z) - log q(z|x): one-sample ELBO estimate.
    iw = iwae_bound(model, x, k=1, generator=torch.Generator().manual_seed(3))
    mu, logvar = model.encode(x)
    eps = torch.randn((1, *mu.shape), generator=torch.Generator().manual_seed(3))[0]
    z = mu + torch.exp(0.5 * logvar) * eps
    ll = log_likelihood(model, x, model.decode(z))
    log_pz = Normal(0.0, 1.0).log_prob(z).sum(-1)
    log_qz = Normal(mu, torch.exp(0.5 * logvar)).log_prob(z).sum(-1)
    assert torch.allclose(iw, ll + log_pz - log_qz, atol=1e-3)
    # ... and averaged over many draws it equals the analytic-KL ELBO.
    many = torch.stack([iwae_bound(model, x, k=1) for _ in range(300)]).mean(0)
    assert torch.allclose(many, elbo(model, x, n_samples=300).elbo.detach(), atol=2.0)


def test_larger_k_is_not_lower_on_average():
    torch.manual_seed(0)
    model = build_model(ModelConfig(latent_dim=4)).eval()
    x = (torch.rand(8, 1, 28, 28) > 0.7).float()
    k1 = torch.stack([iwae_bound(model, x, k=1) for _ in range(20)]).mean()
    k50 = torch.stack([iwae_bound(model, x, k=50) for _ in range(20)]).mean()
    assert k50 >= k1
