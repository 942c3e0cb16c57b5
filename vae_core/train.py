"""Command line: train a VAE or its autoencoder twin and save a checkpoint with its precomputed latent maps.

python -m vae_core.train --dataset mnist5k --model vae --latent-dim 16 --epochs 30 --out my-vae
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import torch

from .checkpoints import CheckpointError, save_arrays, save_checkpoint, validate_name
from .config import ConfigError, ModelConfig, TrainConfig
from .data import DATASETS, Dataset, DatasetUnavailable, load_dataset
from .latents import compute_latents, latents_path
from .model import VAE, build_model, default_device
from .objectives import iwae_bound
from .training import Callback, TrainingStopped, TrainResult, TrainState, evaluation_images, train

DEFAULT_OUT_DIR = Path(__file__).resolve().parent.parent / "checkpoints"


def model_config_from_args(args: argparse.Namespace) -> ModelConfig:
    """--model vae|ae, --beta B, --kl-only -> ModelConfig (the KL-only extreme weighs reconstruction by 0)."""
    return ModelConfig(
        kind=args.model,
        latent_dim=args.latent_dim,
        likelihood=args.likelihood,
        beta=args.beta,
        recon_weight=0.0 if args.kl_only else 1.0,
    )


def describe(config: ModelConfig) -> str:
    """A short human name for the kind of model: 'VAE', 'beta-VAE (beta=4)', 'KL only', 'autoencoder'."""
    if not config.is_vae:
        return "autoencoder"
    if config.recon_weight == 0:
        return "KL only"
    if config.beta == 0:
        return "reconstruction only (beta=0)"
    return "VAE" if config.beta == 1 else f"beta-VAE (beta={config.beta:g})"


class TqdmCallback(Callback):
    """Progress bar with the latest loss terms."""

    def __init__(self, total: int) -> None:
        from tqdm import tqdm

        self.bar = tqdm(total=total, unit="batch", dynamic_ncols=True)

    def on_step(self, model: VAE, state: TrainState) -> None:
        self.bar.update(1)
        last = state.last
        self.bar.set_postfix(epoch=state.epoch, recon=f"{last['recon']:.1f}", kl=f"{last['kl']:.1f}")

    def on_epoch_end(self, model: VAE, state: TrainState) -> None:
        row = state.history[-1]
        if "test_elbo" in row:
            self.bar.write(
                f"epoch {state.epoch:3d}  test: recon {row['test_recon']:.2f}  kl {row['test_kl']:.2f}  "
                f"-elbo {-row['test_elbo']:.2f} nats"
            )


def train_and_save(
    model_config: ModelConfig,
    train_config: TrainConfig,
    out: Path,
    *,
    half: bool = True,
    tsne: bool = True,
    iwae_k: int = 0,
    overwrite: bool = False,
    callbacks: list[Callback] | None = None,
    log=print,
    dataset: Dataset | None = None,
) -> tuple[VAE, TrainResult, dict[str, Any]]:
    """Train from scratch, evaluate, save the checkpoint and its latent maps. Returns (model, result, meta).

    ``dataset`` defaults to ``load_dataset(train_config.dataset)``; pass it when the caller already loaded it."""
    dataset = dataset if dataset is not None else load_dataset(train_config.dataset)
    torch.manual_seed(train_config.seed)
    model = build_model(model_config).to(default_device())
    result = train(model, dataset.train_x, train_config, dataset.test_x, callbacks=callbacks or [])
    model = model.cpu().eval()
    metrics = {f"test_{k}": round(v, 4) for k, v in result.test.items()}
    if iwae_k and model_config.is_vae:
        start = time.perf_counter()
        x_test = evaluation_images(model, dataset.test_x, train_config.binarize, train_config.seed)
        ll = iwae_bound(model, x_test, k=iwae_k, generator=torch.Generator().manual_seed(1))
        metrics["test_iwae_nll"] = round(float(-ll.mean()), 4)
        metrics["iwae_k"] = iwae_k
        log(f"IWAE (K={iwae_k}) NLL estimate: {-ll.mean():.2f} nats ({time.perf_counter() - start:.0f} s)")
    meta = {
        "dataset": train_config.dataset,
        "kind": model_config.kind,
        "description": describe(model_config),
        "beta": model_config.beta,
        "latent_dim": model_config.latent_dim,
        "epochs": len(result.history),
        "seed": train_config.seed,
        "train_config": train_config.to_dict(),
        "metrics": metrics,
        "history": result.history,
        "train_seconds": round(result.seconds, 1),
        "weights_dtype": "float16" if half else "float32",
    }
    save_checkpoint(model, out, meta, half=half, overwrite=overwrite)
    if half:  # the maps must describe the weights that were shipped
        model.load_state_dict({k: v.half().float() for k, v in model.state_dict().items()})
    arrays = compute_latents(model, dataset.test_x, dataset.test_y, tsne=tsne, progress=log)
    save_arrays(latents_path(out), arrays, {"split": "test", "n": len(dataset.test_x)})
    return model, result, meta


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m vae_core.train", description=__doc__.splitlines()[0])
    p.add_argument("--dataset", default="mnist5k", choices=sorted(DATASETS))
    p.add_argument("--model", default="vae", choices=["vae", "ae"])
    p.add_argument("--latent-dim", type=int, default=16)
    p.add_argument("--likelihood", default="bernoulli", choices=["bernoulli", "gaussian"])
    p.add_argument("--beta", type=float, default=1.0, help="KL weight (0 = reconstruction only)")
    p.add_argument("--kl-only", action="store_true", help="train the KL term alone (the collapsed extreme)")
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--lr-schedule", default="constant", choices=["constant", "cosine"])
    p.add_argument("--kl-warmup", type=int, default=0, help="epochs of linear KL warm-up")
    p.add_argument("--mc-samples", type=int, default=1)
    p.add_argument("--no-binarize", action="store_true", help="train on grey levels (no dynamic binarization)")
    p.add_argument("--max-train", type=int, default=None, help="use only this many training images")
    p.add_argument("--iwae-k", type=int, default=0, help="estimate the test NLL with the IWAE bound, K samples")
    p.add_argument("--float32", action="store_true", help="store float32 weights (default float16)")
    p.add_argument("--no-tsne", action="store_true", help="skip the precomputed t-SNE map")
    p.add_argument("--out", required=True, help="checkpoint name, e.g. my-vae")
    p.add_argument("--out-dir", type=Path, default=DEFAULT_OUT_DIR)
    p.add_argument("--overwrite", action="store_true")
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (0 = torch's default)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    try:
        name = validate_name(args.out)
        model_config = model_config_from_args(args)
        train_config = TrainConfig(
            dataset=args.dataset,
            epochs=args.epochs,
            batch_size=args.batch_size,
            lr=args.lr,
            seed=args.seed,
            lr_schedule=args.lr_schedule,
            kl_warmup_epochs=args.kl_warmup,
            mc_samples=args.mc_samples,
            binarize=not args.no_binarize,
            max_train=args.max_train,
        )
        out = Path(args.out_dir) / f"{name}.safetensors"
        if out.exists() and not args.overwrite:
            raise CheckpointError(f"{out} exists; pass --overwrite to replace it or choose another --out")
        dataset = load_dataset(train_config.dataset)
        dataset_size = len(dataset.train_x)
        n_train = min(dataset_size, args.max_train or dataset_size)
        total = train_config.epochs * -(-n_train // train_config.batch_size)
        print(
            f"training a {describe(model_config)} on {args.dataset}: latent dim {args.latent_dim}, {args.epochs} epochs"
        )
        _, result, meta = train_and_save(
            model_config,
            train_config,
            out,
            half=not args.float32,
            tsne=not args.no_tsne,
            iwae_k=args.iwae_k,
            overwrite=args.overwrite,
            callbacks=[TqdmCallback(total)],
            dataset=dataset,
        )
    except (ConfigError, CheckpointError, DatasetUnavailable, TrainingStopped) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    t = result.test
    print(f"\nsaved {out}")
    print(
        f"test ({len(dataset.test_x)} images): recon {t['recon']:.2f}  KL {t['kl']:.2f}  "
        f"-ELBO {-t['elbo']:.2f} nats  ({result.seconds:.0f} s, {result.images_per_second:.0f} images/s)"
    )
    if "test_iwae_nll" in meta["metrics"]:
        print(f"IWAE NLL (K={args.iwae_k}): {meta['metrics']['test_iwae_nll']:.2f} nats")
    return 0


if __name__ == "__main__":
    sys.exit(main())
