"""The scoreboard: every smoothness metric for one checkpoint, written beside it as ``NAME.metrics.json``.

    python -m vae_core.cli.metrics --all            # train missing classifiers, score every stale checkpoint
    python -m vae_core.cli.metrics --all --force    # rescore everything
    python -m vae_core.cli.metrics --only mnist5k-vae-2 mnist5k-ae-2

A scoreboard remembers the SHA-256 of the checkpoint and of the classifier it was computed with; when either
file changes (a retrained model), ``read_scores`` treats it as missing so nothing stale is ever shown.
What is computed is ``scoreboard.compute_scores``; the metrics themselves live in ``smoothness.py``,
``validity.py`` and ``disentanglement.py``.
"""

from __future__ import annotations

import sys
import time

import torch

from ..data import DatasetUnavailable
from ..evaluation.classifier import classifier_path
from ..evaluation.results import QUICK_SETTINGS, ensure_classifier, read_scores, score_checkpoint, write_scores
from ..evaluation.scoreboard import SPECS, ScoreSettings
from ..store.catalog import scan_checkpoints, shipped_checkpoint_dir, user_checkpoint_dir
from ..store.checkpoints import CheckpointError
from .args import THREADS, CliParser, ensure_writable_dir, int_range


def main(argv: list[str] | None = None) -> int:
    """Score the chosen checkpoints. A mistake on the command line is one ``error:`` line and exit status 2."""
    p = CliParser(prog="python -m vae_core.cli.metrics", description=__doc__.splitlines()[0])
    p.add_argument("--all", action="store_true", help="every checkpoint in the shipped folder")
    p.add_argument("--only", nargs="*", default=[], help="these checkpoint names (shipped or trained in the app)")
    p.add_argument("--force", action="store_true", help="rescore even when the saved scoreboard is up to date")
    p.add_argument("--quick", action="store_true", help="tiny sample sizes: for trying the command out, not to ship")
    p.add_argument("--classifier-epochs", type=int_range(1, 1000), default=8)
    p.add_argument("--threads", type=THREADS, default=0, help="torch CPU threads (0 = torch's default)")
    args = p.parse_args(argv)
    if not args.all and not args.only:
        p.error("say which checkpoints: --all, or --only NAME [NAME ...]")
    if args.threads:
        torch.set_num_threads(args.threads)
    folder = shipped_checkpoint_dir()
    # --all means the shipped models; --only may also name a model trained in the app (the user folder).
    infos = [i for i in scan_checkpoints() if (args.all and i.shipped) or i.name in args.only]
    missing = sorted(set(args.only) - {i.name for i in infos})
    if missing:
        where = f"{folder} or {user_checkpoint_dir()}"
        print(f"error: no checkpoint named {', '.join(missing)} in {where}", file=sys.stderr)
        return 2
    settings = QUICK_SETTINGS if args.quick else ScoreSettings()
    start, failures = time.perf_counter(), 0
    try:
        for dataset_name in sorted({i.dataset for i in infos}):
            if not classifier_path(folder, dataset_name).is_file():
                ensure_writable_dir(folder)  # before training it, not after
            ensure_classifier(dataset_name, folder, args.classifier_epochs, print)
    except (DatasetUnavailable, CheckpointError, OSError, ValueError) as e:
        print(f"error: could not build a classifier: {e}", file=sys.stderr)
        return 2
    for info in infos:
        if not args.force and read_scores(info.path, settings) is not None:
            print(f"[{info.name}] up to date")
            continue
        try:
            ensure_writable_dir(info.path.parent)  # the scoreboard is written beside the checkpoint
            scores = score_checkpoint(info.path, settings)
        except (CheckpointError, DatasetUnavailable, ValueError) as e:
            print(f"[{info.name}] skipped: {e}", file=sys.stderr)
            failures += 1
            continue
        write_scores(scores, info.path)
        v = scores.values
        shown = ", ".join(f"{SPECS[k].label.lower()} {SPECS[k].format(v.get(k))}"
                          for k in ("prior_valid", "path_max_step", "prior_holes"))  # fmt: skip
        print(f"[{info.name}] {shown} ({scores.provenance['seconds']:.0f} s)", flush=True)
    print(f"done in {time.perf_counter() - start:.0f} s" + (f"; {failures} failed" if failures else ""))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
