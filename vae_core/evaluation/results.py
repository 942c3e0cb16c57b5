"""The results file: each checkpoint's scores in ``NAME.metrics.json`` beside it, computed, written and read back
(the Smoothness page and the lesson quote only these files)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

from ..data import Dataset, load_dataset
from ..store.catalog import shipped_checkpoint_dir, user_checkpoint_dir
from ..store.checkpoints import Checkpoint, load_checkpoint_bytes
from ..store.disk import atomic_write, content_hash, sha256_of
from .classifier import classifier_path, load_classifier, save_classifier, train_classifier
from .realism import RealismJudge
from .scoreboard import METRICS_VERSION, Scores, ScoreSettings, compute_scores


def metrics_path(checkpoint_path: str | Path) -> Path:
    """``NAME.safetensors`` -> ``NAME.metrics.json`` in the same folder."""
    p = Path(checkpoint_path)
    return p.with_name(p.name.removesuffix(".safetensors") + ".metrics.json")


# For `--quick` and tests: every metric, on samples far too small to trust.
QUICK_SETTINGS = ScoreSettings(n_prior=200, n_pairs=10, n_steps=8, iwae_k=5, iwae_images=10, map_size=10, n_boot=100)


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
    judge: RealismJudge | None = None,
) -> Scores:
    """Compute a checkpoint's scoreboard, stamped with the hashes of the checkpoint and classifier files.

    The checkpoint is read from ``path`` unless the caller passes it already loaded (with the dataset), as the
    app does with its cached copies; ``judge`` may be one already fitted to this dataset and classifier."""
    path = Path(path)
    data = path.read_bytes()
    ckpt = checkpoint or load_checkpoint_bytes(data, name=path.name.removesuffix(".safetensors"))
    dataset = dataset or load_dataset(str(ckpt.meta.get("dataset", "mnist5k")))
    clf_path = find_classifier(dataset.name)
    classifier = load_classifier(clf_path) if clf_path else None
    scores = compute_scores(ckpt, dataset, classifier, settings, log, judge)
    scores.provenance |= {"checkpoint_sha256": sha256_of(data),
                          "classifier_sha256": content_hash(clf_path) if clf_path else None}  # fmt: skip
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
        if prov.get("checkpoint_sha256") != content_hash(checkpoint_path):
            return None
        clf = find_classifier(scores.dataset)
        if prov.get("classifier_sha256") != (content_hash(clf) if clf else None):
            return None
        return scores
    except (OSError, ValueError, KeyError, TypeError):
        return None


def saved_or_stale(checkpoint_path: str | Path) -> Scores | None:
    """Whatever scoreboard is saved beside a checkpoint, up to date or not (None if unreadable): for what survives
    a rescore, such as the measures of other training seeds of the same recipe."""
    try:
        return Scores.from_json(metrics_path(checkpoint_path).read_text(encoding="utf-8"))
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


def load_or_compute_scores(path: str | Path, checkpoint: Checkpoint, dataset: Dataset, *, save: bool) -> Scores:
    """The scores beside a checkpoint when they are up to date, else computed now (about half a minute) and, when
    ``save`` (a user's model, not a shipped one), kept beside it for next time (best effort)."""
    saved = read_scores(path)
    if saved is not None:
        return saved
    scores = score_checkpoint(path, checkpoint=checkpoint, dataset=dataset)
    if save:
        try:
            write_scores(scores, path)
        except OSError:
            pass
    return scores
