"""Training throughput vs. a float32 matmul ceiling measured in the same run, and decode latency.

    python bench/bench_training.py [--threads N] [--seconds S]

Prints: matmul GFLOP/s (the ceiling), the default model's training images/s and achieved GFLOP/s (forward +
backward, counted from the layer shapes), its share of the ceiling, and single-image / 20x20-grid decode times.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from vae_core.config import ModelConfig, TrainConfig
from vae_core.latent.codes import manifold_codes
from vae_core.model import build_model
from vae_core.objectives import elbo


def model_flops_per_image(model: torch.nn.Module) -> float:
    """Multiply-adds of one forward pass (convs, transposed convs, linears) x 2 = FLOPs."""
    macs = 0
    x = torch.zeros(1, 1, 28, 28)

    def hook(mod, inp, out):
        nonlocal macs
        if isinstance(mod, torch.nn.Linear):
            macs += mod.in_features * mod.out_features
        elif isinstance(mod, torch.nn.Conv2d):
            macs += out.numel() * mod.in_channels * mod.kernel_size[0] * mod.kernel_size[1]
        elif isinstance(mod, torch.nn.ConvTranspose2d):
            macs += inp[0].numel() * mod.out_channels * mod.kernel_size[0] * mod.kernel_size[1]

    handles = [m.register_forward_hook(hook) for m in model.modules() if len(list(m.children())) == 0]
    with torch.no_grad():
        model.eval()
        mu, _ = model.encode(x)
        model.decode(mu)
    for h in handles:
        h.remove()
    return 2.0 * macs


def matmul_gflops(seconds: float) -> float:
    n = 1024
    a, b = torch.randn(n, n), torch.randn(n, n)
    for _ in range(3):
        a @ b
    reps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        a @ b
        reps += 1
    return 2 * n**3 * reps / (time.perf_counter() - start) / 1e9


def training_throughput(seconds: float, batch_size: int = 64) -> tuple[float, float]:
    model = build_model(ModelConfig()).train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = (torch.rand(batch_size, 1, 28, 28) > 0.8).float()
    for _ in range(3):
        opt.zero_grad()
        elbo(model, x).loss.backward()
        opt.step()
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        opt.zero_grad()
        elbo(model, x).loss.backward()
        opt.step()
        steps += 1
    ips = steps * batch_size / (time.perf_counter() - start)
    # forward + backward ~ 3x the forward FLOPs (the usual accounting: backward = 2x forward)
    return ips, ips * 3 * model_flops_per_image(model) / 1e9


def decode_latency(reps: int = 200) -> tuple[float, float]:
    model = build_model(ModelConfig()).eval()
    z1 = torch.randn(1, 16)
    grid = torch.as_tensor(manifold_codes(16, n=20))
    times1, times400 = [], []
    with torch.no_grad():
        for _ in range(reps):
            t = time.perf_counter()
            model.decoder_mean(z1)
            times1.append(time.perf_counter() - t)
        for _ in range(max(5, reps // 20)):
            t = time.perf_counter()
            model.decoder_mean(grid)
            times400.append(time.perf_counter() - t)
    return statistics.median(times1) * 1e3, statistics.median(times400) * 1e3


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--seconds", type=float, default=5.0)
    p.add_argument("--batch-size", type=int, default=64)
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    TrainConfig()  # the defaults the benchmark stands for
    ceiling = matmul_gflops(args.seconds)
    ips, achieved = training_throughput(args.seconds * 2, args.batch_size)
    one, grid = decode_latency()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    print(f"{'measure':44s} {'value':>12s}")
    print(f"{'float32 matmul ceiling (1024x1024)':44s} {ceiling:9.1f} GFLOP/s")
    print(f"{'default VAE training (batch ' + str(args.batch_size) + ')':44s} {ips:9.0f} images/s")
    print(f"{'  achieved (fwd+bwd = 3x forward FLOPs)':44s} {achieved:9.1f} GFLOP/s")
    print(f"{'  share of the matmul ceiling':44s} {100 * achieved / ceiling:9.1f} %")
    print(f"{'decode 1 image (median)':44s} {one:9.2f} ms")
    print(f"{'decode a 20x20 grid, 400 images (median)':44s} {grid:9.2f} ms")


if __name__ == "__main__":
    main()
