"""The scoreboard: every measure of one checkpoint, with its interval, written beside it as ``NAME.metrics.json``;
then, for every VAE and its autoencoder twin, each contrast with its interval and verdict.

    python -m vae_core.cli.metrics --all            # train missing classifiers, score stale checkpoints, compare
    python -m vae_core.cli.metrics --all --force    # rescore everything
    python -m vae_core.cli.metrics --only mnist5k-vae-2 mnist5k-ae-2

A scoreboard remembers the SHA-256 of the checkpoint and of the classifier it was computed with; when either
file changes (a retrained model), ``read_scores`` treats it as missing so nothing stale is ever shown.
What is computed is ``evaluation.scoreboard.compute_scores``; how two are compared, ``evaluation.contrast``.
"""

from __future__ import annotations

import sys
import time

import torch

from ..data import DatasetUnavailable, load_dataset
from ..evaluation.classifier import classifier_path, load_classifier
from ..evaluation.contrast import contrast, tally
from ..evaluation.realism import RealismJudge
from ..evaluation.results import (
    QUICK_SETTINGS,
    ensure_classifier,
    find_classifier,
    read_scores,
    saved_or_stale,
    score_checkpoint,
    write_scores,
)
from ..evaluation.scoreboard import Scores, ScoreSettings, fit_judge
from ..evaluation.seeds import carry_over, recipe_of
from ..store.catalog import CheckpointInfo, find_twin, scan_checkpoints, shipped_checkpoint_dir, user_checkpoint_dir
from ..store.checkpoints import CheckpointError
from .args import THREADS, CliParser, ensure_writable_dir, int_range


def twin_pairs(infos: list[CheckpointInfo]) -> list[tuple[CheckpointInfo, CheckpointInfo]]:
    """Every plain VAE (beta 1) among ``infos`` with its autoencoder twin, smallest latent first."""
    vaes = [i for i in infos if i.kind == "vae" and i.beta == 1.0 and i.config.recon_weight == 1.0]
    pairs = [(v, find_twin(infos, v)) for v in vaes]
    return sorted(((v, a) for v, a in pairs if a is not None), key=lambda p: (p[0].dataset, p[0].latent_dim))


def contrast_table(vae: Scores, ae: Scores) -> str:
    """The contrast of two scoreboards as fixed-width text: value [interval] for each, the difference, verdict."""
    rows = contrast(vae, ae)
    head = (f"{vae.name} (VAE) vs {ae.name} (AE): 95 % bootstrap intervals; a difference whose interval "
            "contains 0, or that a retrained seed does not repeat, is a tie")  # fmt: skip
    lines = [head, f"{'measure':40} {'VAE':>24} {'AE':>24} {'VAE - AE':>32} {'seeds agree':>11}  verdict"]
    for r in rows:
        s = r.spec
        cell = [f"{s.format(t[0])} {s.format_interval(t[1], t[2])}".strip() for t in (r.a, r.b)]
        d = r.difference
        diff = "" if d is None else s.format_difference(d.value, d.lo, d.hi)
        seeds = f"{r.seeds[0]} of {r.seeds[1]}" if r.seeds else ""
        lines.append(f"{s.label:40} {cell[0]:>24} {cell[1]:>24} {diff:>32} {seeds:>11}  {r.verdict}")
    counts = tally(rows)
    lines.append(", ".join(f"{verdict}: {len(keys)}" for verdict, keys in sorted(counts.items())))
    return "\n".join(lines)


def _judge_for(dataset_name: str, settings: ScoreSettings, judges: dict[str, RealismJudge | None]):
    """One realism judge per dataset, fitted on first use (None when the dataset has no classifier)."""
    if dataset_name not in judges:
        path = find_classifier(dataset_name)
        judges[dataset_name] = None
        if path is not None:
            judges[dataset_name] = fit_judge(load_classifier(path), load_dataset(dataset_name), settings)
    return judges[dataset_name]


def main(argv: list[str] | None = None) -> int:
    """Score the chosen checkpoints, then print each VAE / autoencoder contrast. A mistake on the command line is
    one ``error:`` line and exit status 2."""
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
    scored: dict[str, Scores] = {}
    judges: dict[str, RealismJudge | None] = {}
    for info in infos:
        saved = None if args.force else read_scores(info.path, settings)
        if saved is not None:
            print(f"[{info.name}] up to date")
            scored[info.name] = saved
            continue
        try:
            ensure_writable_dir(info.path.parent)  # the scoreboard is written beside the checkpoint
            judge = _judge_for(info.dataset, settings, judges)
            scores = score_checkpoint(info.path, settings, judge=judge)
        except (CheckpointError, DatasetUnavailable, ValueError) as e:
            print(f"[{info.name}] skipped: {e}", file=sys.stderr)
            failures += 1
            continue
        carry_over(saved_or_stale(info.path), scores, recipe_of(info))  # other seeds of the same recipe stay
        write_scores(scores, info.path)
        scored[info.name] = scores
        print(f"[{info.name}] scored ({scores.provenance['seconds']:.0f} s)", flush=True)
    for vae, ae in twin_pairs(infos):
        if vae.name in scored and ae.name in scored:
            print("\n" + contrast_table(scored[vae.name], scored[ae.name]))
    print(f"\ndone in {time.perf_counter() - start:.0f} s" + (f"; {failures} failed" if failures else ""))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
