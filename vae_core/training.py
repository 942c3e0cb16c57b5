"""One training loop for every model kind (VAE, beta-VAE, plain AE); it reports through callbacks only."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from .config import TrainConfig
from .model import VAE, as_tensor
from .objectives import elbo


class TrainingStopped(RuntimeError):
    """Training could not go on (e.g. the loss became NaN); the model keeps its last good weights."""


@dataclass
class TrainState:
    """What a callback sees. Set ``stop_requested = True`` to cancel after the current step."""

    epoch: int  # 1-based, the epoch in progress (or just finished)
    epochs: int
    step: int  # steps done in this epoch
    steps_per_epoch: int
    images_seen: int = 0
    last: dict[str, float] = field(default_factory=dict)  # the latest batch's terms
    history: list[dict[str, float]] = field(default_factory=list)  # one row per finished epoch
    beta_now: float = 0.0
    stop_requested: bool = False

    @property
    def progress(self) -> float:
        """Fraction of the whole run done, in [0, 1]."""
        done = (self.epoch - 1) * self.steps_per_epoch + self.step
        return min(1.0, done / max(1, self.epochs * self.steps_per_epoch))


class Callback:
    """Override what you need. The app's callback draws progress; the CLI's drives tqdm."""

    def on_train_begin(self, model: VAE, state: TrainState) -> None: ...

    def on_step(self, model: VAE, state: TrainState) -> None: ...

    def on_epoch_end(self, model: VAE, state: TrainState) -> None: ...


@dataclass
class TrainResult:
    history: list[dict[str, float]]  # per epoch: train_recon, train_kl, train_elbo, test_recon, test_kl, test_elbo
    test: dict[str, float]  # final test terms
    seconds: float
    images_per_second: float
    cancelled: bool = False
    stopped_reason: str | None = None


def binarize(x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """x ~ Bernoulli(pixel intensity): dynamic binarization of grey images (Salakhutdinov & Murray 2008)."""
    u = torch.rand(x.shape, generator=generator, device=x.device, dtype=x.dtype)
    return (u < x).to(x.dtype)


def evaluation_images(model: VAE, images: np.ndarray | torch.Tensor, binarized: bool, seed: int = 0) -> torch.Tensor:
    """The test images as the model's likelihood sees them: one fixed, seeded binarization when trained so."""
    x = as_tensor(images)
    if binarized and model.config.likelihood == "bernoulli":
        x = binarize(x, torch.Generator().manual_seed(10_000 + seed))
    return x


@torch.no_grad()
def evaluate(
    model: VAE, x: torch.Tensor, mc_samples: int = 1, batch_size: int = 500, seed: int = 0
) -> dict[str, float]:
    """Mean test terms in nats per image: recon (-E_q log p(x|z)), kl, elbo. Leaves the model's mode alone."""
    was_training = model.training
    model.eval()
    gen = torch.Generator(device=x.device).manual_seed(seed)
    sums = {"recon": 0.0, "kl": 0.0, "elbo": 0.0}
    for i in range(0, len(x), batch_size):
        xb = x[i : i + batch_size]
        terms = elbo(model, xb, n_samples=mc_samples, generator=gen)
        sums["recon"] += float(terms.recon_nll.sum())
        sums["kl"] += float(terms.kl.sum())
        sums["elbo"] += float(terms.elbo.sum())
    model.train(was_training)
    return {k: v / max(1, len(x)) for k, v in sums.items()}


def train(
    model: VAE,
    train_images: np.ndarray | torch.Tensor,
    config: TrainConfig,
    test_images: np.ndarray | torch.Tensor | None = None,
    callbacks: Sequence[Callback] = (),
    should_stop: Callable[[], bool] | None = None,
) -> TrainResult:
    """Train ``model`` in place with Adam on -ELBO (or reconstruction only for the AE); returns the history.

    Seeded and reproducible for a given machine. A non-finite loss or gradient stops training before the
    optimizer step, so the model keeps its last good weights, and raises TrainingStopped. ``should_stop``
    (or a callback setting ``state.stop_requested``) cancels cleanly after the current step.
    """
    # Every random draw below uses this run's own generator, never torch's global one, so concurrent trainings in
    # one server neither disturb each other nor the sessions that sample from the prior.
    device = next(model.parameters()).device
    x_all = as_tensor(train_images)
    if config.max_train is not None:
        x_all = x_all[: config.max_train]
    if len(x_all) == 0:
        raise ValueError("no training images: the dataset split is empty")
    x_all = x_all.to(device)
    binarized = config.binarize and model.config.likelihood == "bernoulli"
    x_test = None
    if test_images is not None:
        x_test = evaluation_images(model, test_images, binarized, config.seed).to(device)

    gen = torch.Generator(device=device).manual_seed(config.seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    n = len(x_all)
    steps = math.ceil(n / config.batch_size)
    scheduler = None
    if config.lr_schedule == "cosine":
        scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(
            optimizer, T_max=config.epochs * steps, eta_min=0.1 * config.lr
        )
    state = TrainState(epoch=1, epochs=config.epochs, step=0, steps_per_epoch=steps)
    start = time.perf_counter()
    cancelled = False
    model.train()
    for cb in callbacks:
        cb.on_train_begin(model, state)
    for epoch in range(1, config.epochs + 1):
        state.epoch, state.step = epoch, 0
        if model.config.is_vae and config.kl_warmup_epochs > 0:
            state.beta_now = model.config.beta * min(1.0, (epoch - 1) / config.kl_warmup_epochs)
        else:
            state.beta_now = model.config.beta
        perm = torch.randperm(n, generator=gen, device=device)
        sums = {"recon": 0.0, "kl": 0.0, "elbo": 0.0}
        for step in range(steps):
            xb = x_all[perm[step * config.batch_size : (step + 1) * config.batch_size]]
            if binarized:
                xb = binarize(xb, gen)
            terms = elbo(model, xb, n_samples=config.mc_samples, beta=state.beta_now, generator=gen)
            optimizer.zero_grad(set_to_none=True)
            if not torch.isfinite(terms.loss):
                raise TrainingStopped(
                    f"the loss became {float(terms.loss.detach())} at epoch {epoch}, step {step + 1}; training stopped "
                    "and the model keeps its last good weights. Try a smaller learning rate."
                )
            terms.loss.backward()
            grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1e6)
            if not torch.isfinite(grad_norm):
                optimizer.zero_grad(set_to_none=True)
                raise TrainingStopped(
                    f"the gradients became non-finite at epoch {epoch}, step {step + 1}; training stopped and "
                    "the model keeps its last good weights. Try a smaller learning rate."
                )
            optimizer.step()
            if scheduler is not None:
                scheduler.step()
            state.step = step + 1
            state.images_seen += len(xb)
            state.last = terms.means()
            for k in sums:
                sums[k] += state.last[k] * len(xb)
            for cb in callbacks:
                cb.on_step(model, state)
            if state.stop_requested or (should_stop is not None and should_stop()):
                cancelled = True
                break
        seen = n if not cancelled else max(1, state.step * config.batch_size)
        row = {"epoch": float(epoch), "beta": state.beta_now}
        row.update({f"train_{k}": v / min(seen, n) for k, v in sums.items()})
        if x_test is not None:
            row.update({f"test_{k}": v for k, v in evaluate(model, x_test, config.eval_mc_samples).items()})
            model.train()
        state.history.append(row)
        for cb in callbacks:
            cb.on_epoch_end(model, state)
        if cancelled or state.stop_requested or (should_stop is not None and should_stop()):
            cancelled = True
            break
    model.eval()
    seconds = time.perf_counter() - start
    test = evaluate(model, x_test, config.eval_mc_samples) if x_test is not None else {}
    return TrainResult(
        history=state.history,
        test=test,
        seconds=seconds,
        images_per_second=state.images_seen / max(seconds, 1e-9),
        cancelled=cancelled,
    )
