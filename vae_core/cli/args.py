"""What every ``python -m vae_core.cli.*`` command shares: mistakes reported as one ``error:`` line, checked
ranges, and an output folder proven writable before any work starts."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path
from typing import NoReturn


class UsageError(SystemExit):
    """A user's mistake on the command line, already reported as one ``error:`` line; exits with status 2."""

    def __init__(self, message: str) -> None:
        super().__init__(2)
        self.message = message


class CliParser(argparse.ArgumentParser):
    """argparse that reports a mistake as one line, ``error: what is wrong and what to do``, instead of the usage
    text plus a message (or a traceback). Every ``python -m vae_core.cli.*`` command uses it."""

    def error(self, message: str) -> NoReturn:
        print(f"error: {message}".replace("\n", "\\n"), file=sys.stderr)
        raise UsageError(message)


def int_range(low: int, high: int, meaning: str = ""):
    """An argparse ``type=`` for a whole number in [low, high]; ``meaning`` explains a special value (0 = ...)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or not low <= value <= high:
            raise argparse.ArgumentTypeError(
                f"must be a whole number from {low} to {high}{f' ({meaning})' if meaning else ''} (got {text!r})"
            )
        return value

    return parse


def ensure_writable_dir(folder: Path) -> Path:
    """Create ``folder`` if it is missing and prove it is writable by creating (and removing) a temp file in it,
    so a long job never learns at the end that it cannot save. Raises ValueError saying what to do."""
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"{folder} is a file, not a folder; choose a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ValueError(f"cannot create the folder {folder} ({e.strerror or e}); choose another folder") from None
    try:
        fd, probe = tempfile.mkstemp(prefix=".write-test-", dir=folder)
        os.close(fd)
        os.unlink(probe)
    except OSError as e:
        raise ValueError(f"cannot write to {folder} ({e.strerror or e}); choose a folder you can write to") from None
    return folder


THREADS = int_range(0, 1024, "0 = torch's default")  # --threads of every command
