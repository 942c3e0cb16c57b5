"""Retrain checkpoints with other seeds (same networks, data and schedule) and keep each run's measures in the
checkpoint's scoreboard, so a contrast counts only if every seed repeats it.

    python -m vae_core.cli.seeds --only mnist5k-vae-2 mnist5k-ae-2 --seeds 1 2

The retrained models go to a cache folder (``--dir``, default ``$VAE_EXPLORER_CACHE/seeds`` or
``~/.cache/vae-explorer/seeds``), never to the shipped folder; a run already there with the same recipe and seed is
reused. Score the checkpoints first (``python -m vae_core.cli.metrics --only NAME``). About 3 minutes per 20-epoch
2-D model on one idle core.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import torch

from ..config import ModelConfig, TrainConfig
from ..data import DatasetUnavailable, load_dataset
from ..evaluation.classifier import load_classifier
from ..evaluation.results import QUICK_SETTINGS, find_classifier, read_scores, score_checkpoint, write_scores
from ..evaluation.scoreboard import ScoreSettings, fit_judge
from ..evaluation.seeds import recipe_of, record_run
from ..store.catalog import CheckpointInfo, read_info, scan_checkpoints
from ..store.checkpoints import CheckpointError
from . import train as train_cli
from .args import THREADS, CliParser, UsageError, ensure_writable_dir, int_range


def default_dir() -> Path:
    base = os.environ.get("VAE_EXPLORER_CACHE") or Path.home() / ".cache" / "vae-explorer"
    return Path(base).expanduser() / "seeds"


def retrained(info: CheckpointInfo, folder: Path, seed: int, log=print) -> Path:
    """The checkpoint ``info`` trained again from scratch with ``seed``: reused from ``folder`` when a run of the
    same recipe and seed is there, else trained now (without a t-SNE map, which nothing here needs)."""
    recipe = recipe_of(info)
    out = folder / f"{info.name}-seed{seed}.safetensors"
    old = read_info(out, shipped=False) if out.is_file() else None
    if old is not None and recipe_of(old) == recipe and old.meta.seed == seed:
        log(f"reusing {out}")
        return out
    train_config = TrainConfig(**(recipe["train_config"] | {"seed": seed}))
    log(f"training {out.name} ({train_config.epochs} epochs)")
    train_cli.train_and_save(ModelConfig.from_dict(recipe["model_config"]), train_config, out, tsne=False,
                             overwrite=True, log=log)  # fmt: skip
    return out


def main(argv: list[str] | None = None) -> int:
    """Retrain, score and record. A mistake on the command line is one ``error:`` line and exit status 2."""
    try:
        return _run(argv)
    except UsageError:
        return 2


def _run(argv: list[str] | None) -> int:
    p = CliParser(prog="python -m vae_core.cli.seeds", description=__doc__.splitlines()[0])
    p.add_argument("--only", nargs="+", required=True, help="checkpoint names (their scoreboards must be up to date)")
    p.add_argument("--seeds", nargs="+", type=int_range(0, 2**31 - 1), default=[1, 2], help="training seeds to add")
    p.add_argument("--dir", type=Path, default=None, help="where the retrained models go (default: the cache)")
    p.add_argument("--threads", type=THREADS, default=0, help="torch CPU threads (0 = torch's default)")
    p.add_argument("--quick", action="store_true", help="the scoreboards of `metrics --quick`: for trying it out")
    args = p.parse_args(argv)
    settings = QUICK_SETTINGS if args.quick else ScoreSettings()
    if args.threads:
        torch.set_num_threads(args.threads)
    infos = {i.name: i for i in scan_checkpoints()}
    unknown = sorted(set(args.only) - set(infos))
    if unknown:
        p.error(f"argument --only: no checkpoint named {', '.join(unknown)}")
    stale = [n for n in args.only if read_scores(infos[n].path, settings) is None]
    if stale:
        quick = " --quick" if args.quick else ""
        p.error(f"score these first with `python -m vae_core.cli.metrics{quick} --only {' '.join(stale)}`")
    try:
        folder = ensure_writable_dir(args.dir or default_dir())
    except ValueError as e:
        p.error(f"argument --dir: {e}")
    start, judges = time.perf_counter(), {}
    for name in args.only:
        info = infos[name]
        try:
            if info.dataset not in judges:
                clf = find_classifier(info.dataset)
                judges[info.dataset] = clf and fit_judge(load_classifier(clf), load_dataset(info.dataset), settings)
            scores = read_scores(info.path, settings)
            for seed in args.seeds:
                run = score_checkpoint(retrained(info, folder, seed), settings, judge=judges[info.dataset])
                record_run(scores, recipe_of(info), seed, run.values)
                print(f"[{name}] seed {seed} scored ({run.provenance['seconds']:.0f} s)", flush=True)
        except (CheckpointError, DatasetUnavailable, ValueError, OSError) as e:
            print(f"error: [{name}] {e}", file=sys.stderr)
            return 1
        write_scores(scores, info.path)
    print(f"done in {time.perf_counter() - start:.0f} s; `python -m vae_core.cli.metrics --all` shows the verdicts")
    return 0


if __name__ == "__main__":
    sys.exit(main())
