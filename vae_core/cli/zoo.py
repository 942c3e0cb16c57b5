"""The shipped checkpoints and the one command that rebuilds them all with the project's own CLI:

python -m vae_core.cli.zoo              # every shipped model (about 30 minutes on 2 idle CPU cores)
python -m vae_core.cli.zoo --only mnist5k-vae-16 --quick   # a few epochs, for trying things out
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field

from . import train as train_cli


@dataclass(frozen=True)
class Spec:
    """One shipped model: its name and the CLI arguments that train it."""

    name: str
    args: tuple[str, ...]
    epochs: int
    extra: tuple[str, ...] = field(default=())


# The default VAE trains longest: it carries the quality bar (test -ELBO <= 105, IWAE NLL <= 100 nats).
SPECS: tuple[Spec, ...] = (
    Spec("mnist5k-vae-2", ("--model", "vae", "--latent-dim", "2"), 20),
    Spec("mnist5k-ae-2", ("--model", "ae", "--latent-dim", "2"), 20),
    Spec(
        "mnist5k-vae-16",
        ("--model", "vae", "--latent-dim", "16", "--lr-schedule", "cosine"),
        60,
        ("--iwae-k", "1000"),
    ),
    Spec("mnist5k-ae-16", ("--model", "ae", "--latent-dim", "16"), 20),
    # The beta series at latent dim 2 (beta = 1 is mnist5k-vae-2 above).
    Spec("mnist5k-beta0-2", ("--model", "vae", "--latent-dim", "2", "--beta", "0"), 20),
    Spec("mnist5k-beta0p1-2", ("--model", "vae", "--latent-dim", "2", "--beta", "0.1"), 20),
    Spec("mnist5k-beta4-2", ("--model", "vae", "--latent-dim", "2", "--beta", "4"), 20),
    Spec("mnist5k-klonly-2", ("--model", "vae", "--latent-dim", "2", "--kl-only"), 3),
    Spec("shapes-vae-8", ("--dataset", "shapes", "--model", "vae", "--latent-dim", "8"), 12),
    Spec("shapes-ae-8", ("--dataset", "shapes", "--model", "ae", "--latent-dim", "8"), 12),
)


def cli_args(spec: Spec, quick: bool) -> list[str]:
    epochs = min(spec.epochs, 2) if quick else spec.epochs
    extra = [] if quick else list(spec.extra)
    out = [*spec.args, "--epochs", str(epochs), "--out", spec.name, "--overwrite", *extra]
    if quick:
        out += ["--max-train", "1000", "--no-tsne"]
    return out


def main(argv: list[str] | None = None) -> int:
    """Train every chosen spec through ``python -m vae_core.cli.train``. Returns 0, or the first failure's exit code
    (2 after one ``error:`` line for a mistake on the command line)."""
    p = train_cli.CliParser(prog="python -m vae_core.cli.zoo", description="Rebuild the shipped checkpoints.")
    p.add_argument("--only", nargs="*", choices=[s.name for s in SPECS], help="names to rebuild (default: all)")
    p.add_argument("--quick", action="store_true", help="2 epochs on 1,000 images: placeholders, not the real thing")
    p.add_argument("--list", action="store_true", help="print the commands and stop")
    p.add_argument("--threads", type=train_cli.THREADS, default=0, help="torch CPU threads per training (0 = default)")
    try:
        args = p.parse_args(argv)
    except train_cli.UsageError:
        return 2
    specs = [s for s in SPECS if not args.only or s.name in args.only]
    for spec in specs:
        cmd = cli_args(spec, args.quick) + (["--threads", str(args.threads)] if args.threads else [])
        print("python -m vae_core.cli.train " + " ".join(cmd), flush=True)
        if args.list:
            continue
        start = time.perf_counter()
        code = train_cli.main(cmd)
        if code != 0:
            return code
        print(f"[{spec.name}] done in {time.perf_counter() - start:.0f} s\n", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
