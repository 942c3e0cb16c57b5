"""Benchmark: our t-SNE settings against scikit-learn's default TSNE, side by side in one run.

Target (issue 3): a fresh t-SNE of 5,000 codes in at most half the time of sklearn's ``TSNE()`` at equal quality,
i.e. 2-D 5-NN label accuracy and ``sklearn.manifold.trustworthiness`` (5 neighbours) within 0.01 of sklearn's.

The codes are the posterior means of mnist5k's train + test images (5,000 x 16) under the shipped
``mnist5k-vae-16``. Run it on a quiet machine: the ratios compare runs made in the same process, one after another,
but other programs sharing the cores still add noise. So each method is timed twice: wall-clock seconds and CPU
seconds (summed over this process's threads, which other programs barely change); the target is judged on the CPU
ratio, and ``--repeats 3`` reports medians.

    python bench/bench_tsne.py [--n 5000] [--repeats 1] [--threads 0] [--checkpoint PATH]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from vae_core.latent.projection import TSNESettings, fit_tsne, knn_accuracy

TOLERANCE = 0.01  # quality must stay within this of sklearn's default
TARGET_RATIO = 0.5  # and take at most this fraction of its time


@dataclass(frozen=True)
class Row:
    method: str
    seconds: float  # wall clock
    cpu: float  # CPU seconds of this process, all threads
    knn: float
    trust: float


def load_codes(n: int, checkpoint: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Posterior means of the first n images of mnist5k (train then test) under the shipped VAE (or another)."""
    import torch

    from vae_core.data import load_dataset
    from vae_core.latent.codes import encode_images
    from vae_core.store.catalog import shipped_checkpoint_dir
    from vae_core.store.checkpoints import load_checkpoint

    torch.set_num_threads(1)
    ds = load_dataset("mnist5k")
    x = np.concatenate([ds.train_x, ds.test_x])[:n]
    y = np.concatenate([ds.train_y, ds.test_y])[:n]
    model = load_checkpoint(checkpoint or shipped_checkpoint_dir() / "mnist5k-vae-16.safetensors").model
    mu, _ = encode_images(model, x)
    return mu, y


def sklearn_default(z: np.ndarray) -> np.ndarray:
    from sklearn.manifold import TSNE

    return TSNE(n_components=2, random_state=0).fit_transform(z)


def measure(name: str, run: Callable[[np.ndarray], np.ndarray], z: np.ndarray, y: np.ndarray, repeats: int) -> Row:
    from sklearn.manifold import trustworthiness

    times, cpus, emb = [], [], None
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        emb = run(z)
        times.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    row = Row(
        name,
        statistics.median(times),
        statistics.median(cpus),
        knn_accuracy(emb, y, k=5),
        trustworthiness(z, emb, n_neighbors=5),
    )
    print(f"  {name}: {row.seconds:.1f} s wall, {row.cpu:.1f} s CPU", file=sys.stderr, flush=True)
    return row


def candidates() -> dict[str, Callable[[np.ndarray], np.ndarray]]:
    """Our shipped default first, then the variants it was chosen from."""
    default = TSNESettings()
    out: dict[str, Callable[[np.ndarray], np.ndarray]] = {
        f"ours: TSNESettings() ({default.max_iter} it, angle {default.angle:g})": lambda z: fit_tsne(z, default)
    }
    for it, angle in ((500, 0.5), (500, 0.7), (500, 0.8), (400, 0.7)):
        if (it, angle) != (default.max_iter, default.angle):
            s = TSNESettings(max_iter=it, angle=angle)
            out[f"fit_tsne {it} it, angle {angle:g}"] = lambda z, s=s: fit_tsne(z, s)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=5000, help="number of codes (default 5000)")
    parser.add_argument("--repeats", type=int, default=1, help="runs per method; the median time is reported")
    parser.add_argument("--threads", type=int, default=0, help="limit OpenMP/BLAS threads (0: library default)")
    parser.add_argument("--only-default", action="store_true", help="compare sklearn with our default only")
    parser.add_argument("--checkpoint", help="a mnist5k VAE checkpoint other than the shipped mnist5k-vae-16")
    args = parser.parse_args()

    from threadpoolctl import threadpool_limits

    z, y = load_codes(args.n, args.checkpoint)
    source = Path(args.checkpoint).stem if args.checkpoint else "mnist5k-vae-16"
    print(f"t-SNE of {len(z)} codes of dimension {z.shape[1]} ({source}, mnist5k train + test)", file=sys.stderr)
    methods = {"sklearn TSNE() default (1000 it, angle 0.5)": sklearn_default, **candidates()}
    if args.only_default:
        methods = dict(list(methods.items())[:2])
    with threadpool_limits(limits=args.threads or None):
        rows = [measure(name, run, z, y, args.repeats) for name, run in methods.items()]

    ref = rows[0]
    print(
        "\n| method | seconds | CPU seconds | ratio to sklearn default (wall / CPU) | 5-NN acc | trustworthiness "
        "| meets target |"
    )
    print("|---|---:|---:|---:|---:|---:|---|")
    for r in rows:
        ok = r.cpu <= TARGET_RATIO * ref.cpu and r.knn >= ref.knn - TOLERANCE and r.trust >= ref.trust - TOLERANCE
        mark = "(reference)" if r is ref else ("yes" if ok else "no")
        print(
            f"| {r.method} | {r.seconds:.1f} | {r.cpu:.1f} | {r.seconds / ref.seconds:.2f} / {r.cpu / ref.cpu:.2f} "
            f"| {r.knn:.3f} | {r.trust:.3f} | {mark} |"
        )


if __name__ == "__main__":
    main()
