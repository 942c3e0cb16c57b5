"""Command line for whoever runs the server: remove a user checkpoint (with its sidecar files), or list them.

python -m vae_core.cli.remove --list                 # the user checkpoints, in $VAE_EXPLORER_USER_CHECKPOINTS
python -m vae_core.cli.remove my-vae                 # shows the files and asks before removing them
python -m vae_core.cli.remove my-vae --yes           # no question (for scripts)
"""

from __future__ import annotations

import sys
from pathlib import Path

from ..store.catalog import SHIPPED_DIR, read_info, shipped_checkpoint_dir, user_checkpoint_dir
from ..store.checkpoints import CheckpointError, validate_name
from .args import CliParser, UsageError


def _is_shipped_folder(folder: Path) -> bool:
    return any(folder.resolve() == d.resolve() for d in (SHIPPED_DIR, shipped_checkpoint_dir()))


def checkpoint_files(name: str, folder: Path) -> list[Path]:
    """``NAME.safetensors`` and every ``NAME.*`` sidecar beside it (``NAME.latents.safetensors``,
    ``NAME.metrics.json``, ...). A valid name has no '.', '/' or glob character, so ``NAME.*`` matches only this
    checkpoint's own files, never another checkpoint's."""
    name = validate_name(name)
    return sorted(p for p in folder.glob(f"{name}.*") if p.is_file() or p.is_symlink())


def files_to_remove(name: str, folder: Path | None = None) -> list[Path]:
    """The files ``remove_checkpoint`` would delete. Raises CheckpointError, saying what to do, for an invalid name,
    the shipped folder, a shipped model's name, or a name with no files in the user folder."""
    folder = Path(folder) if folder is not None else user_checkpoint_dir()
    name = validate_name(name)
    if _is_shipped_folder(folder):
        raise CheckpointError(
            f"{folder} is the shipped checkpoints folder; this command removes only user checkpoints "
            "(rebuild shipped models with python -m vae_core.cli.zoo)"
        )
    files = checkpoint_files(name, folder) if folder.is_dir() else []
    if not files:
        if (shipped_checkpoint_dir() / f"{name}.safetensors").is_file():
            raise CheckpointError(
                f"{name!r} is a shipped model (part of the repository), not a user checkpoint; it stays"
            )
        raise CheckpointError(
            f"no user checkpoint named {name!r} in {folder}; python -m vae_core.cli.remove --list shows them"
        )
    return files


def remove_checkpoint(name: str, folder: Path | None = None) -> list[Path]:
    """Delete ``NAME.safetensors`` and its sidecars from the user checkpoint folder (default
    ``catalog.user_checkpoint_dir()``). Returns the removed files; raises CheckpointError as ``files_to_remove``."""
    files = files_to_remove(name, folder)
    removed = []
    for path in files:
        try:
            path.unlink()
        except FileNotFoundError:  # removed meanwhile by someone else
            continue
        except OSError as e:
            raise CheckpointError(f"could not remove {path} ({e.strerror or e}); check the folder's permissions") from e
        removed.append(path)
    return removed


def describe_folder(folder: Path) -> list[str]:
    """One line per checkpoint in a user folder: its menu label, or a note when the file is not readable."""
    if not folder.is_dir():
        return []
    lines = []
    paths = {p.name.removesuffix(".safetensors"): p for p in folder.glob("*.safetensors")}
    for name, path in sorted(paths.items()):
        if "." in name:  # a sidecar (NAME.latents, NAME.snapshots) or a temp file: a checkpoint's name has no '.'
            continue
        info = read_info(path, shipped=False)
        lines.append(f"{name}  ({info.description}, latent {info.latent_dim})" if info else f"{name}  (unreadable)")
    return lines


def main(argv: list[str] | None = None) -> int:
    """Returns 0 when removed (or listed), 1 when the removal was declined, 2 after one ``error:`` line."""
    p = CliParser(prog="python -m vae_core.cli.remove", description=__doc__.splitlines()[0])
    p.add_argument("name", nargs="?", help="the checkpoint to remove, e.g. my-vae")
    p.add_argument("--dir", type=Path, default=None, help="the user checkpoint folder (default: the app's)")
    p.add_argument("--yes", action="store_true", help="remove without asking")
    p.add_argument("--list", action="store_true", help="list the user checkpoints and stop")
    try:
        args = p.parse_args(argv)
        folder = args.dir if args.dir is not None else user_checkpoint_dir()
        if args.list:
            lines = describe_folder(folder)
            print("\n".join(lines) if lines else f"no user checkpoints in {folder}")
            return 0
        if args.name is None:
            p.error("say which checkpoint to remove (NAME), or --list to see them")
        try:
            files = files_to_remove(args.name, folder)
        except CheckpointError as e:
            p.error(str(e))
    except UsageError:
        return 2
    print("\n".join(str(f) for f in files))
    if not args.yes:
        try:
            answer = input(f"remove these {len(files)} files? [y/N] ")
        except EOFError:
            answer = ""
        if answer.strip().lower() not in ("y", "yes"):
            print("nothing removed")
            return 1
    try:
        removed = remove_checkpoint(args.name, folder)
    except CheckpointError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"removed {args.name!r} ({len(removed)} files); the app's menus re-scan the folder every 5 s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
