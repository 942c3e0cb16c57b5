"""Re-measure the shipped default VAE's quality bar from the shipped (float16) weights.

    python bench/bench_quality.py [--name mnist5k-vae-16] [--k 1000]

Prints the test -ELBO terms (500 held-out images, the fixed evaluation binarization) and the IWAE-estimated NLL
with K samples, next to the figures the training CLI recorded from the float32 weights before saving.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from vae_core.data import load_dataset
from vae_core.objectives import iwae_bound
from vae_core.store.checkpoints import load_checkpoint
from vae_core.training import evaluate, evaluation_images


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--name", default="mnist5k-vae-16")
    p.add_argument("--k", type=int, default=1000)
    p.add_argument("--threads", type=int, default=0)
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    ckpt = load_checkpoint(Path(__file__).resolve().parents[1] / "checkpoints" / f"{args.name}.safetensors")
    tc = ckpt.meta["train_config"]
    ds = load_dataset(ckpt.meta["dataset"])
    x = evaluation_images(ckpt.model, ds.test_x, tc["binarize"], tc["seed"])
    terms = evaluate(ckpt.model, x, mc_samples=10)
    start = time.perf_counter()
    nll = -float(iwae_bound(ckpt.model, x, k=args.k, generator=torch.Generator().manual_seed(1)).mean())
    seconds = time.perf_counter() - start
    rec = ckpt.meta["metrics"]
    print(f"{args.name}: {len(x)} test images, weights stored as {ckpt.meta.get('weights_dtype', '?')}")
    print(f"{'':28s} {'shipped weights':>16s} {'recorded (fp32)':>16s} {'bar':>6s}")
    print(f"{'test recon (nats)':28s} {terms['recon']:16.2f} {rec.get('test_recon', float('nan')):16.2f}")
    print(f"{'test KL (nats)':28s} {terms['kl']:16.2f} {rec.get('test_kl', float('nan')):16.2f}")
    print(f"{'test -ELBO (nats)':28s} {-terms['elbo']:16.2f} {-rec.get('test_elbo', float('nan')):16.2f} {105:6d}")
    print(
        f"{f'IWAE NLL, K={args.k} (nats)':28s} {nll:16.2f} {rec.get('test_iwae_nll', float('nan')):16.2f} "
        f"{100:6d}   ({seconds:.0f} s)"
    )


if __name__ == "__main__":
    main()
