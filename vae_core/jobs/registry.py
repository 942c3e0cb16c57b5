"""Who may train now: a cap on concurrent trainings with a visible queue, and every job on the server by owner."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from ..data import Dataset, load_dataset
from ..store.catalog import require_free_name
from ..store.checkpoints import CheckpointError
from ..training import Callback
from .job import TrainingJob
from .slots import JobRefused, TrainingSlots, max_trainings_from_env
from .spec import JobSpec

logger = logging.getLogger(__name__)


class JobRegistry:
    """Every training on this server, by owner (a browser session): caps the active jobs per owner, refuses a
    name another active job will save under, hands a job to a reloaded tab, and forgets finished jobs."""

    def __init__(
        self,
        limit: int | None = None,
        *,
        per_owner: int = 2,
        keep: int = 5,
        is_alive: Callable[[str], bool] | None = None,
    ) -> None:
        self.slots = TrainingSlots(limit if limit is not None else max_trainings_from_env())
        self.per_owner = per_owner  # queued or running jobs one owner may have
        self.keep = keep  # jobs (of any status) remembered per owner
        self._is_alive = is_alive
        self._lock = threading.Lock()
        self._jobs: dict[str, TrainingJob] = {}
        self._owners: dict[str, str] = {}  # job id -> owner

    def submit(
        self, owner: str, spec: JobSpec, *, load: Callable[[str], Dataset] = load_dataset,
        callbacks: tuple[Callback, ...] = (),
    ) -> TrainingJob:  # fmt: skip
        """Queue and start a job for ``owner``; JobRefused (with the reason) when it cannot be started."""
        with self._lock:
            self._forget_old()
            active = [j for j in self._of(owner) if j.status.active]
            if len(active) >= self.per_owner:
                raise JobRefused(
                    f"You already have {len(active)} trainings queued or running (at most {self.per_owner} per "
                    "person); cancel one or wait until it finishes."
                )
            if any(j.spec.path == spec.path and j.status.active for j in self._jobs.values()):
                raise JobRefused(f"Another training will save a checkpoint named {spec.name!r}; choose another name.")
            try:
                require_free_name(spec.name, spec.out_dir)
            except CheckpointError as e:
                raise JobRefused(f"{str(e)[0].upper()}{str(e)[1:]}.") from None
            job = TrainingJob(spec, self.slots, load=load, callbacks=callbacks)
            job.owner_alive = lambda: self.owner_alive(job.job_id)
            self._jobs[job.job_id] = job
            self._owners[job.job_id] = owner
        return job.start()

    def owner_alive(self, job_id: str) -> bool:
        owner = self._owners.get(job_id)
        return owner is not None and (self._is_alive is None or self._is_alive(owner))

    def jobs(self, owner: str) -> list[TrainingJob]:
        """The owner's jobs, newest first."""
        with self._lock:
            return self._of(owner)[::-1]

    def get(self, job_id: str) -> TrainingJob | None:
        with self._lock:
            return self._jobs.get(job_id)

    def adopt(self, job_id: str, owner: str) -> TrainingJob | None:
        """Give ``owner`` a job whose owner has gone (a reloaded tab finds its training again via the URL)."""
        with self._lock:
            job = self._jobs.get(job_id)
            current = self._owners.get(job_id)
            if job is None or (current != owner and self._is_alive is not None and self._is_alive(current or "")):
                return None
            self._owners[job_id] = owner
            return job

    def forget(self, owner: str, job_id: str) -> None:
        """Remove one of the owner's finished jobs from its list."""
        with self._lock:
            job = self._jobs.get(job_id)
            if job is not None and self._owners.get(job_id) == owner and not job.status.active:
                del self._jobs[job_id], self._owners[job_id]

    def cancel_all(self, reason: str = "Training cancelled: the server is shutting down.") -> None:
        with self._lock:
            jobs = list(self._jobs.values())
        for job in jobs:
            job.cancel(reason)

    def _of(self, owner: str) -> list[TrainingJob]:
        return [j for jid, j in self._jobs.items() if self._owners[jid] == owner]

    def _forget_old(self) -> None:
        """Drop finished jobs of owners who have gone, and all but the newest ``keep`` finished jobs per owner."""
        by_owner: dict[str, list[str]] = {}
        for jid in self._jobs:
            by_owner.setdefault(self._owners[jid], []).append(jid)
        for owner, ids in by_owner.items():
            finished = [jid for jid in ids if not self._jobs[jid].status.active]
            gone = self._is_alive is not None and not self._is_alive(owner)
            drop = finished if gone else finished[: max(0, len(ids) - self.keep)]
            for jid in drop:
                del self._jobs[jid], self._owners[jid]
