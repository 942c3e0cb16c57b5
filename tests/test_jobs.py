"""Background training jobs: the concurrency limit and its queue, cancel, NaN, name races, orphans, shared models."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import torch

from vae_core import training
from vae_core.config import ConfigError, ModelConfig, TrainConfig
from vae_core.data import Dataset
from vae_core.jobs import job as jobs_module
from vae_core.jobs.job import TrainingJob
from vae_core.jobs.registry import JobRegistry
from vae_core.jobs.slots import JobRefused, TrainingSlots, max_trainings_from_env
from vae_core.jobs.spec import JobSpec, JobStatus
from vae_core.model import build_model
from vae_core.store.checkpoints import load_checkpoint, save_checkpoint
from vae_core.training import Callback


def tiny_dataset(name: str = "tiny") -> Dataset:
    rng = np.random.default_rng(0)
    x = (rng.random((84, 28, 28)) > 0.8).astype(np.float32)
    y = np.arange(84, dtype=np.int64) % 10
    return Dataset(name, x[:64], y[:64], x[64:], y[64:], tuple("0123456789"))


def spec(out, name="job", epochs=1, seed=0, latent_dim=2) -> JobSpec:
    return JobSpec(name, ModelConfig(latent_dim=latent_dim), TrainConfig(dataset="tiny", epochs=epochs,
                   batch_size=16, seed=seed), out)  # fmt: skip


class Gate(Callback):
    """Holds every job at its first step until ``open()`` (so the test controls who is running)."""

    def __init__(self) -> None:
        self.event = threading.Event()

    def on_step(self, model, state) -> None:
        self.event.wait(30)

    def open(self) -> None:
        self.event.set()


def wait_until(job: TrainingJob, *statuses: JobStatus, timeout: float = 60.0) -> None:
    import time

    deadline = time.monotonic() + timeout
    while job.status not in statuses and time.monotonic() < deadline:
        time.sleep(0.05)
    assert job.status in statuses, (job.status, job.snapshot().message)


def test_third_training_waits_and_says_where_it_is(tmp_path):
    registry = JobRegistry(limit=2)
    gate = Gate()
    jobs = [registry.submit(f"user{i}", spec(tmp_path, f"q{i}"), load=tiny_dataset, callbacks=(gate,))
            for i in range(3)]  # fmt: skip
    for job in jobs[:2]:
        wait_until(job, JobStatus.RUNNING)
    third = jobs[2].snapshot()
    assert third.status == JobStatus.QUEUED and third.queue_position == 1 and third.running == 2
    assert third.message == "2 trainings are running; yours starts when one finishes (it is number 1 in the queue)."
    gate.open()
    for job in jobs:
        assert job.join(60)
        assert job.status == JobStatus.SAVED, job.snapshot().message
    assert sorted(p.name for p in tmp_path.glob("q*.safetensors")) == [
        f"q{i}.{part}safetensors" for i in range(3) for part in ("latents.", "", "snapshots.")
    ]  # each checkpoint with its latent maps and the replay of its training


def test_slots_are_first_come_first_served():
    slots = TrainingSlots(limit=1)
    assert slots.acquire("a")
    order = []
    waiters = [threading.Thread(target=lambda j=j: (slots.acquire(j), order.append(j), slots.release(j)))
               for j in ("b", "c")]  # fmt: skip
    waiters[0].start()
    while slots.position("b") is None:
        pass
    waiters[1].start()
    while slots.position("c") is None:
        pass
    assert (slots.position("b"), slots.position("c")) == (1, 2)
    slots.release("a")
    for t in waiters:
        t.join(5)
    assert order == ["b", "c"]


def test_cancel_a_running_and_a_queued_job(tmp_path):
    registry = JobRegistry(limit=1)
    gate = Gate()
    running = registry.submit("u1", spec(tmp_path, "run", epochs=50), load=tiny_dataset, callbacks=(gate,))
    queued = registry.submit("u2", spec(tmp_path, "wait"), load=tiny_dataset)
    wait_until(running, JobStatus.RUNNING)
    queued.cancel()
    wait_until(queued, JobStatus.CANCELLED)
    running.cancel()
    gate.open()
    wait_until(running, JobStatus.CANCELLED)
    assert running.snapshot().message == "Training cancelled."
    assert running.snapshot().epoch == 1  # it stopped after the step it was in, not after 50 epochs
    assert not list(tmp_path.glob("*.safetensors"))


def test_a_cancelled_run_can_be_saved_with_what_it_learned(tmp_path):
    gate = Gate()
    job = TrainingJob(spec(tmp_path, "half", epochs=50), TrainingSlots(1), load=tiny_dataset, callbacks=(gate,))
    job.start()
    wait_until(job, JobStatus.RUNNING)
    job.cancel()
    gate.open()
    wait_until(job, JobStatus.CANCELLED)
    assert not list(tmp_path.glob("*.safetensors")), "nothing is saved unless the user asks"
    weights = {k: v.clone() for k, v in job.model.state_dict().items()}
    path = job.save("half-kept")
    assert job.status == JobStatus.SAVED
    for k, v in load_checkpoint(path).model.state_dict().items():
        assert torch.equal(v, weights[k]), k


def test_the_curves_get_a_point_about_every_second_within_the_first_epoch(tmp_path, monkeypatch):
    monkeypatch.setattr(jobs_module, "PREVIEW_SECONDS", 0.0)  # every step closes a window
    job = TrainingJob(spec(tmp_path, "curves", epochs=2), TrainingSlots(1), load=tiny_dataset)
    job.start().join(60)
    windows = job.snapshot().windows
    assert len(windows) >= 8, "one point per window of batches, not one per epoch"
    epochs = [w["epoch"] for w in windows]
    assert epochs == sorted(epochs) and 0 < epochs[0] < 1, "fractional epochs, the first inside epoch 1"
    assert all(np.isfinite(w["train_recon"]) and w["train_kl"] >= 0 for w in windows)


def test_nan_stops_with_a_message_and_keeps_the_last_good_weights(tmp_path, monkeypatch):
    real_elbo, calls, seen = training.elbo, [], []

    def elbo_that_explodes(model, x, *args, **kwargs):
        terms = real_elbo(model, x, *args, **kwargs)
        calls.append(1)
        if len(calls) == 3:
            terms.loss = terms.loss * float("nan")
        return terms

    class Record(Callback):
        def on_step(self, model, state):
            seen.append({k: v.clone() for k, v in model.state_dict().items()})

    monkeypatch.setattr(training, "elbo", elbo_that_explodes)
    job = TrainingJob(spec(tmp_path, "nan-job", epochs=3), TrainingSlots(1), load=tiny_dataset, callbacks=(Record(),))
    job.start().join(60)
    snap = job.snapshot()
    assert snap.status == JobStatus.STOPPED
    assert snap.message.startswith("Training stopped: the loss became nan at epoch 1, step 3")
    assert "keeps its last good weights" in snap.message
    assert len(seen) == 2  # two good steps
    for k, v in job.model.state_dict().items():
        assert torch.equal(v, seen[-1][k]), k
    assert not list(tmp_path.glob("*.safetensors"))  # nothing saved unless the user asks
    path = job.save()
    loaded = load_checkpoint(path).model
    for k, v in loaded.state_dict().items():
        assert torch.equal(v, seen[-1][k]), k
    assert job.status == JobStatus.SAVED


def test_two_jobs_saving_one_name_never_overwrite(tmp_path):
    slots = TrainingSlots(2)
    a = TrainingJob(spec(tmp_path, "same", seed=1), slots, load=tiny_dataset)
    b = TrainingJob(spec(tmp_path, "same", seed=2), slots, load=tiny_dataset)
    a.start(), b.start()
    a.join(60), b.join(60)
    statuses = sorted([a.status, b.status])
    assert statuses == [JobStatus.SAVED, JobStatus.UNSAVED]
    loser = a if a.status == JobStatus.UNSAVED else b
    assert "a checkpoint named 'same' already exists; choose another name" in loser.snapshot().message
    on_disk = load_checkpoint(tmp_path / "same.safetensors").model.state_dict()
    assert any(not torch.equal(v, on_disk[k]) for k, v in loser.model.state_dict().items())
    loser.save("same-2")  # the loser can still keep its model under another name
    assert (tmp_path / "same-2.safetensors").exists()


def test_a_job_builds_its_own_model_and_never_touches_a_shared_one(tmp_path):
    shared = build_model(ModelConfig(latent_dim=2))
    save_checkpoint(shared, tmp_path / "shared.safetensors")
    shared = load_checkpoint(tmp_path / "shared.safetensors").model  # as the app's cache holds it: eval, no grads
    before = {k: v.clone() for k, v in shared.state_dict().items()}
    job = TrainingJob(spec(tmp_path, "own", epochs=2), TrainingSlots(1), load=tiny_dataset)
    job.start().join(60)
    assert job.status == JobStatus.SAVED
    for k, v in shared.state_dict().items():
        assert torch.equal(v, before[k]), k
    assert not shared.training


def test_a_job_whose_tab_closed_cancels_itself(tmp_path, monkeypatch):
    monkeypatch.setattr(jobs_module, "ORPHAN_GRACE_SECONDS", 0.0)
    registry = JobRegistry(limit=1, is_alive=lambda owner: owner != "gone")
    job = registry.submit("gone", spec(tmp_path, "orphan", epochs=200), load=tiny_dataset)
    wait_until(job, JobStatus.CANCELLED, timeout=30)
    assert job.snapshot().message == "Training cancelled: the browser tab that started it was closed."


def test_registry_limits_per_person_and_names_in_use(tmp_path):
    registry = JobRegistry(limit=1, per_owner=1)
    gate = Gate()
    registry.submit("me", spec(tmp_path, "first", epochs=5), load=tiny_dataset, callbacks=(gate,))
    with pytest.raises(JobRefused, match="You already have 1 trainings queued or running"):
        registry.submit("me", spec(tmp_path, "second"), load=tiny_dataset)
    with pytest.raises(JobRefused, match="Another training will save a checkpoint named 'first'"):
        registry.submit("you", spec(tmp_path, "first"), load=tiny_dataset)
    registry.cancel_all()
    gate.open()


def test_a_reloaded_tab_takes_its_job_back_but_not_someone_elses(tmp_path):
    alive = {"old-tab": False, "other": True}
    registry = JobRegistry(limit=1, is_alive=lambda owner: alive.get(owner, True))
    gate = Gate()
    job = registry.submit("old-tab", spec(tmp_path, "mine", epochs=5), load=tiny_dataset, callbacks=(gate,))
    assert registry.adopt(job.job_id, "new-tab") is job
    assert registry.jobs("new-tab") == [job]
    assert registry.adopt(job.job_id, "stranger") is None  # the new tab is alive: its job stays its own
    assert registry.jobs("stranger") == []
    job.cancel()
    gate.open()
    job.join(30)


def test_bad_settings_are_refused_before_anything_runs(tmp_path):
    with pytest.raises(ConfigError, match="epochs must be at most 200"):
        spec(tmp_path, epochs=500)
    with pytest.raises(ConfigError, match="latent_dim must be between 1 and 64"):
        spec(tmp_path, latent_dim=1000)


@pytest.mark.parametrize(("value", "expected"), [(None, 2), ("3", 3), ("0", 1), ("lots", 2)])
def test_limit_from_environment(monkeypatch, value, expected):
    if value is None:
        monkeypatch.delenv("VAE_EXPLORER_MAX_TRAININGS", raising=False)
    else:
        monkeypatch.setenv("VAE_EXPLORER_MAX_TRAININGS", value)
    assert max_trainings_from_env() == expected
