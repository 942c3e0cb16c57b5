"""Command line: train a VAE or its autoencoder twin and save a checkpoint with its precomputed latent maps.

python -m vae_core.cli.train --dataset mnist5k --model vae --latent-dim 16 --epochs 30 --out my-vae
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from ..config import ConfigError, ModelConfig, TrainConfig, describe
from ..data import DATASETS, Dataset, DatasetUnavailable, load_dataset
from ..latent.codes import save_with_latents
from ..latent.snapshots import SnapshotRecorder, save_snapshots
from ..model import VAE, build_model, default_device
from ..objectives import iwae_bound
from ..store.catalog import SHIPPED_DIR
from ..store.checkpoints import CheckpointError, validate_name
from ..store.meta import CheckpointMeta
from ..training import Callback, TrainingStopped, TrainResult, TrainState, evaluation_images, train
from .args import THREADS, CliParser, UsageError, ensure_writable_dir, int_range

DEFAULT_OUT_DIR = SHIPPED_DIR


def model_config_from_args(args: argparse.Namespace) -> ModelConfig:
    """--model vae|ae, --beta B, --kl-only -> ModelConfig (the KL-only extreme weighs reconstruction by 0)."""
    return ModelConfig(
        kind=args.model,
        latent_dim=args.latent_dim,
        likelihood=args.likelihood,
        beta=args.beta,
        recon_weight=0.0 if args.kl_only else 1.0,
    )


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
    """Train from scratch, evaluate, save the checkpoint, its latent maps and the replay of its training (the test
    codes at fixed moments, ``vae_core.latent.snapshots``). Returns (model, result, meta).

    ``dataset`` defaults to ``load_dataset(train_config.dataset)``; pass it when the caller already loaded it."""
    dataset = dataset if dataset is not None else load_dataset(train_config.dataset)
    torch.manual_seed(train_config.seed)
    model = build_model(model_config).to(default_device())
    recorder = SnapshotRecorder(dataset.test_x, dataset.test_y)
    result = train(model, dataset.train_x, train_config, dataset.test_x, callbacks=[*(callbacks or []), recorder])
    model = model.cpu().eval()
    metrics = {f"test_{k}": round(v, 4) for k, v in result.test.items()}
    if iwae_k and model_config.is_vae:
        start = time.perf_counter()
        x_test = evaluation_images(model, dataset.test_x, train_config.binarize, train_config.seed)
        ll = iwae_bound(model, x_test, k=iwae_k, generator=torch.Generator().manual_seed(1))
        metrics["test_iwae_nll"] = round(float(-ll.mean()), 4)
        metrics["iwae_k"] = iwae_k
        log(f"IWAE (K={iwae_k}) NLL estimate: {-ll.mean():.2f} nats ({time.perf_counter() - start:.0f} s)")
    meta = CheckpointMeta.for_training(
        model_config,
        train_config,
        result.history,
        result.test,
        metrics=metrics,
        train_seconds=round(result.seconds, 1),
        weights_dtype="float16" if half else "float32",
    ).to_dict()
    path = save_with_latents(
        model, out, meta, dataset.test_x, dataset.test_y, half=half, overwrite=overwrite, tsne=tsne, progress=log
    )
    try:
        save_snapshots(path, recorder.snapshots())
    except (OSError, CheckpointError) as e:  # the checkpoint stands; only its replay is missing
        log(f"could not save the training replay beside {path.name}: {e}")
    return model, result, meta


# TrainConfig/ModelConfig field -> the option that sets it, so a range error names what to change.
_OPTION_OF_FIELD = {
    "latent_dim": "--latent-dim",
    "beta": "--beta",
    "epochs": "--epochs",
    "batch_size": "--batch-size",
    "lr": "--lr",
    "seed": "--seed",
    "mc_samples": "--mc-samples",
    "kl_warmup_epochs": "--kl-warmup",
    "max_train": "--max-train",
}


def build_parser() -> CliParser:
    p = CliParser(prog="python -m vae_core.cli.train", description=__doc__.splitlines()[0])
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
    p.add_argument(
        "--iwae-k",
        type=int_range(0, 100_000, "0 = no IWAE estimate"),
        default=0,
        help="estimate the test NLL with the IWAE bound, K samples (VAE only)",
    )
    p.add_argument("--float32", action="store_true", help="store float32 weights (default float16)")
    p.add_argument("--no-tsne", action="store_true", help="skip the precomputed t-SNE map")
    p.add_argument("--out", required=True, help="checkpoint name, e.g. my-vae")
    p.add_argument("--out-dir", type=Path, default=DEFAULT_OUT_DIR, help="created if missing; must be writable")
    p.add_argument("--overwrite", action="store_true")
    p.add_argument("--threads", type=THREADS, default=0, help="torch CPU threads (0 = torch's default)")
    return p


@dataclass(frozen=True)
class TrainRequest:
    """What the command line asked for, checked: nothing here can fail once training has started."""

    model_config: ModelConfig
    train_config: TrainConfig
    out: Path


def check_args(parser: CliParser, args: argparse.Namespace) -> TrainRequest:
    """Every check that does not need the data, before any is loaded: the configs' ranges, the options that only
    make sense together, the name, and a writable output folder (created if missing). A problem is reported
    through ``parser.error``, one line naming the option."""
    try:
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
    except ConfigError as e:
        option = _OPTION_OF_FIELD.get(str(e).split(" ", 1)[0])
        parser.error(f"argument {option}: {e}" if option else str(e))
    if args.model == "ae" and args.kl_only:
        parser.error("argument --kl-only: an autoencoder has no KL term; use --model vae or drop --kl-only")
    if args.kl_only and args.beta == 0:
        parser.error("argument --kl-only: with --beta 0 nothing is left to train; drop --beta 0 or --kl-only")
    if args.model == "ae" and args.iwae_k:
        parser.error("argument --iwae-k: the IWAE bound needs a VAE (an autoencoder has no q(z|x)); use --model vae")
    try:
        name = validate_name(args.out)
    except CheckpointError as e:
        parser.error(f"argument --out: {e}")
    try:
        folder = ensure_writable_dir(Path(args.out_dir))
    except ValueError as e:
        parser.error(f"argument --out-dir: {e}")
    out = folder / f"{name}.safetensors"
    if out.exists() and not out.is_file():
        parser.error(f"argument --out: {out} exists and is not a file; choose another --out")
    if out.exists() and not args.overwrite:
        parser.error(f"argument --out: {out} exists; pass --overwrite to replace it or choose another --out")
    return TrainRequest(model_config, train_config, out)


def main(argv: list[str] | None = None) -> int:
    """Check everything, then train and save. Returns 0, or 2 after one ``error:`` line on stderr."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        request = check_args(parser, args)
    except UsageError:
        return 2
    model_config, train_config, out = request.model_config, request.train_config, request.out
    if args.threads:
        torch.set_num_threads(args.threads)
    try:
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
    except (ConfigError, CheckpointError, DatasetUnavailable, TrainingStopped, OSError) as e:
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
