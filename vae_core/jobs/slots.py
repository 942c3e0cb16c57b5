"""Who may train now: a cap on concurrent trainings (slots), with a visible queue."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable

logger = logging.getLogger(__name__)

MAX_TRAININGS_ENV = "VAE_EXPLORER_MAX_TRAININGS"


DEFAULT_MAX_TRAININGS = 2


def max_trainings_from_env() -> int:
    """$VAE_EXPLORER_MAX_TRAININGS (1-16), default 2; a value that is not a number falls back to the default."""
    try:
        return min(16, max(1, int(os.environ.get(MAX_TRAININGS_ENV, DEFAULT_MAX_TRAININGS))))
    except ValueError:
        logger.warning("%s is not a whole number; using %d", MAX_TRAININGS_ENV, DEFAULT_MAX_TRAININGS)
        return DEFAULT_MAX_TRAININGS


class JobRefused(ValueError):
    """A job cannot be started now; the message says why (for the user)."""


class TrainingSlots:
    """At most ``limit`` trainings at once; the others wait in first-come, first-served order.

    A bounded semaphore with a visible queue: ``position(job_id)`` tells a waiting job its place."""

    def __init__(self, limit: int = DEFAULT_MAX_TRAININGS) -> None:
        if limit < 1:
            raise ValueError(f"limit must be at least 1 (got {limit})")
        self.limit = limit
        self._cond = threading.Condition()
        self._running: set[str] = set()
        self._waiting: list[str] = []

    def acquire(self, job_id: str, give_up: Callable[[], bool] = lambda: False, poll: float = 0.2) -> bool:
        """Wait for a slot; False (and out of the queue) as soon as ``give_up()`` is true."""
        with self._cond:
            self._waiting.append(job_id)
            try:
                while not (self._waiting[0] == job_id and len(self._running) < self.limit):
                    if give_up():
                        return False
                    self._cond.wait(poll)
                self._running.add(job_id)
                return True
            finally:
                self._waiting.remove(job_id)
                self._cond.notify_all()

    def release(self, job_id: str) -> None:
        with self._cond:
            self._running.discard(job_id)
            self._cond.notify_all()

    def position(self, job_id: str) -> int | None:
        """1-based place in the queue, or None if not waiting."""
        with self._cond:
            return self._waiting.index(job_id) + 1 if job_id in self._waiting else None

    @property
    def running(self) -> int:
        with self._cond:
            return len(self._running)


def queue_message(running: int, position: int) -> str:
    """What a waiting job tells its owner, e.g. '2 trainings are running; yours starts when one finishes ...'."""
    busy = "1 training is running" if running == 1 else f"{running} trainings are running"
    return f"{busy}; yours starts when one finishes (it is number {position} in the queue)."
