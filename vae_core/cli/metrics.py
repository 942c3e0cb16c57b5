"""The scoreboard: every smoothness metric for one checkpoint, written beside it as ``NAME.metrics.json``.

    python -m vae_core.metrics --all            # train missing classifiers, score every stale checkpoint
    python -m vae_core.metrics --all --force    # rescore everything
    python -m vae_core.metrics --only mnist5k-vae-2 mnist5k-ae-2

A scoreboard remembers the SHA-256 of the checkpoint and of the classifier it was computed with; when either
file changes (a retrained model), ``read_scores`` treats it as missing so nothing stale is ever shown.
What is computed is ``scoreboard.compute_scores``; the metrics themselves live in ``smoothness.py``,
``validity.py`` and ``disentanglement.py``.
"""

from __future__ import annotations

import hashlib
import sys
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

import torch

from .catalog import scan_checkpoints, shipped_checkpoint_dir, user_checkpoint_dir
from .checkpoints import Checkpoint, CheckpointError, load_checkpoint_bytes
from .classifier import classifier_path, load_classifier, save_classifier, train_classifier
from .data import Dataset, DatasetUnavailable, load_dataset
from .scoreboard import METRICS_VERSION, SPECS, Scores, ScoreSettings, compute_scores
from .store.files import atomic_write
from .train import THREADS, CliParser, ensure_writable_dir, int_range


def file_sha256(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def metrics_path(checkpoint_path: str | Path) -> Path:
    """``NAME.safetensors`` -> ``NAME.metrics.json`` in the same folder."""
    p = Path(checkpoint_path)
    return p.with_name(p.name.removesuffix(".safetensors") + ".metrics.json")


# For `--quick` and tests: every metric, on samples far too small to trust.
QUICK_SETTINGS = ScoreSettings(n_prior=200, n_pairs=10, n_steps=8, iwae_k=5, iwae_images=10, map_size=10)


def find_classifier(dataset_name: str) -> Path | None:
    """The classifier for a dataset: shipped first, then one in the user folder; None if there is none."""
    for folder in (shipped_checkpoint_dir(), user_checkpoint_dir()):
        path = classifier_path(folder, dataset_name)
        if path.is_file():
            return path
    return None


def score_checkpoint(
    path: str | Path,
    settings: ScoreSettings = ScoreSettings(),
    log: Callable[[str], None] | None = None,
    *,
    checkpoint: Checkpoint | None = None,
    dataset: Dataset | None = None,
) -> Scores:
    """Compute a checkpoint's scoreboard, stamped with the hashes of the checkpoint and classifier files.

    The checkpoint is read from ``path`` unless the caller passes it already loaded (with the dataset), as the
    app does with its cached copies."""
    path = Path(path)
    data = path.read_bytes()
    ckpt = checkpoint or load_checkpoint_bytes(data, name=path.name.removesuffix(".safetensors"))
    dataset = dataset or load_dataset(str(ckpt.meta.get("dataset", "mnist5k")))
    clf_path = find_classifier(dataset.name)
    classifier = load_classifier(clf_path) if clf_path else None
    scores = compute_scores(ckpt, dataset, classifier, settings, log)
    scores.provenance |= {"checkpoint_sha256": hashlib.sha256(data).hexdigest(),
                          "classifier_sha256": file_sha256(clf_path) if clf_path else None}  # fmt: skip
    return scores


def write_scores(scores: Scores, checkpoint_path: str | Path) -> Path:
    """Write ``NAME.metrics.json`` beside the checkpoint, atomically."""
    out = metrics_path(checkpoint_path)
    atomic_write(out, scores.to_json().encode("utf-8"), overwrite=True)
    return out


def read_scores(checkpoint_path: str | Path, settings: ScoreSettings = ScoreSettings()) -> Scores | None:
    """The saved scoreboard, or None when it is missing, unreadable, from another metrics version, computed with
    other settings (e.g. ``--quick``), or for a different checkpoint or classifier file than those on disk now."""
    try:
        scores = Scores.from_json(metrics_path(checkpoint_path).read_text(encoding="utf-8"))
        prov = scores.provenance
        if prov.get("version") != METRICS_VERSION or prov.get("settings") != asdict(settings):
            return None
        if prov.get("checkpoint_sha256") != file_sha256(checkpoint_path):
            return None
        clf = find_classifier(scores.dataset)
        if prov.get("classifier_sha256") != (file_sha256(clf) if clf else None):
            return None
        return scores
    except (OSError, ValueError, KeyError, TypeError):
        return None


def ensure_classifier(dataset_name: str, folder: Path, epochs: int, log: Callable[[str], None]) -> Path:
    """The dataset's classifier in ``folder``, trained and saved first if it is missing."""
    path = classifier_path(folder, dataset_name)
    if not path.is_file():
        log(f"training the {dataset_name} classifier ({epochs} epochs)")
        trained = train_classifier(load_dataset(dataset_name), epochs=epochs, log=log)
        save_classifier(trained, path)
        log(f"saved {path} (test accuracy {trained.meta['test_accuracy']:.3f})")
    else:
        log(f"{path.name}: test accuracy {load_classifier(path).meta.get('test_accuracy', '?')}")
    return path


def main(argv: list[str] | None = None) -> int:
    """Score the chosen checkpoints. A mistake on the command line is one ``error:`` line and exit status 2."""
    p = CliParser(prog="python -m vae_core.metrics", description=__doc__.splitlines()[0])
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
