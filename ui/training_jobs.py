"""The server's training jobs as the Train page shows them: one registry per process, jobs keyed by browser session.

Jobs run in background threads (vae_core.jobs.job), so a training never blocks the server; the page only polls
snapshots. A job belongs to the session that started it; when that session has been gone for a while (a closed
tab), the job cancels itself. A reloaded tab finds its job again through ``?job=<id>`` in the URL.
"""

from __future__ import annotations

import re

import numpy as np
import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots
from streamlit.runtime import Runtime
from streamlit.runtime.scriptrunner import get_script_run_ctx

from vae_core.data import Dataset, DatasetUnavailable
from vae_core.jobs.job import TrainingJob
from vae_core.jobs.registry import JobRegistry
from vae_core.jobs.spec import JobSnapshot, JobSpec, JobStatus
from vae_core.latent.codes import tile_images
from vae_core.store.checkpoints import CheckpointError

from . import url_params
from .figures import upscale
from .loaders import checkpoint_catalog, dataset
from .safe_text import escape_markdown
from .server_tuning import configure_torch

POLL_SECONDS = 1.0
JOB_ID = re.compile(r"[0-9a-f]{32}")  # TrainingJob.job_id: uuid4().hex


def _session_alive(session_id: str) -> bool:
    """Is this browser session still connected? (Thread-safe; True when no server runtime can tell.)"""
    if not Runtime.exists():
        return True
    return bool(Runtime.instance().is_active_session(session_id))


@st.cache_resource(show_spinner=False)
def job_registry() -> JobRegistry:
    """One registry per server process, shared by every session (limit: $VAE_EXPLORER_MAX_TRAININGS, default 2).

    torch's thread count is process-wide, so it is set once per process (``server_tuning.configure_torch``), never per
    job: a job that changed it would change every other session's models too."""
    configure_torch()
    return JobRegistry(is_alive=_session_alive)


def session_id() -> str:
    ctx = get_script_run_ctx()
    return ctx.session_id if ctx is not None else "no-session"


def my_jobs() -> list[TrainingJob]:
    """This session's jobs, newest first; a job named in ``?job=`` whose tab has gone is taken over."""
    registry = job_registry()
    wanted = url_params.matching("job", JOB_ID)  # anything else is no job of ours: dropped without a word
    if "job" in st.query_params and (wanted is None or registry.adopt(wanted, session_id()) is None):
        del st.query_params["job"]
    return registry.jobs(session_id())


def submit(spec: JobSpec, data: Dataset) -> TrainingJob:
    """Start a job for this session (JobRefused says why not); its id goes in the URL."""
    job = job_registry().submit(session_id(), spec, load=lambda _name: data)
    st.query_params["job"] = job.job_id
    return job


@st.cache_data(ttl=300, show_spinner="Checking the dataset...")
def dataset_problem(name: str) -> str | None:
    """None if the dataset loads, else its DatasetUnavailable message (remembered for 5 minutes: a failed
    download can take seconds, and should not be retried on every click)."""
    try:
        dataset(name)
    except DatasetUnavailable as e:
        return str(e)
    return None


def acknowledge_saved(jobs: list[TrainingJob]) -> None:
    """When one of this session's jobs has saved a checkpoint, re-scan the catalog once so that the sidebar (and
    every page) lists it now rather than after the catalog's 5 s cache."""
    seen = st.session_state.setdefault("_saved_jobs_seen", set())
    fresh = [j.job_id for j in jobs if j.status == JobStatus.SAVED and j.job_id not in seen]
    if fresh:
        checkpoint_catalog.clear()
        seen.update(fresh)


# ------------------------------------------------------------------------------------------------ the panel


def curves_figure(snap: JobSnapshot, is_vae: bool) -> go.Figure:
    """Reconstruction, KL and -ELBO in nats per image: on the training batches about once a second (a line that
    moves while the first epoch runs), and on the test images at the end of each epoch (points)."""
    titles = (
        "Reconstruction  -E[log p(x|z)]",
        "KL(q(z|x) || p(z))" if is_vae else "KL (none: autoencoder)",
        "-ELBO = recon + KL",
    )
    fig = make_subplots(rows=1, cols=3, subplot_titles=titles, horizontal_spacing=0.07)
    series = (
        ("train", "train batches", snap.windows or snap.history, "lines", "#0072B2"),
        ("test", "test images", snap.history, "lines+markers", "#D55E00"),
    )
    for split, name, rows, mode, colour in series:
        rows = [r for r in rows if f"{split}_recon" in r]
        for col, (key, sign) in enumerate((("recon", 1), ("kl", 1), ("elbo", -1)), start=1):
            fig.add_trace(
                go.Scatter(
                    x=[r["epoch"] for r in rows],
                    y=[sign * r[f"{split}_{key}"] for r in rows],
                    mode=mode,
                    name=name,
                    legendgroup=split,
                    showlegend=col == 1,
                    line={"color": colour, "dash": "solid" if split == "train" else "dash"},
                ),
                row=1,
                col=col,
            )
    fig.update_xaxes(title_text="epoch", range=[0, max(snap.epochs, 1)], dtick=max(1, snap.epochs // 10))
    fig.update_yaxes(title_text="nats per image", col=1)
    fig.update_layout(height=280, margin={"l": 10, "r": 10, "t": 40, "b": 10}, legend={"orientation": "h", "y": -0.25})
    return fig


def preview_image(snap: JobSnapshot) -> np.ndarray | None:
    """Fixed test images (top row) over their reconstructions by the current weights (bottom row)."""
    if snap.originals is None or snap.reconstructions is None:
        return None
    k = len(snap.originals)
    return upscale(tile_images(np.concatenate([snap.originals, snap.reconstructions]), n_cols=k, pad=2), 3)


def job_panel(job: TrainingJob) -> None:
    """Status, progress, cancel, live curves and reconstructions of one job; saving choices when it has ended."""
    snap = job.snapshot()
    name = escape_markdown(snap.name)
    mc = job.spec.model_config
    with st.container(border=True):
        st.markdown(f"**{name}** · {escape_markdown(job.spec.train_config.dataset)} · latent dim {mc.latent_dim}")
        if snap.status == JobStatus.QUEUED:
            st.info(escape_markdown(snap.message), icon=":material/hourglass_top:")
        elif snap.status == JobStatus.RUNNING:
            doing = f"epoch {snap.epoch} of {snap.epochs}" if snap.epoch else "loading the data, building the model"
            st.progress(snap.progress, text=f"Training: {doing} · {snap.seconds:.0f} s")
        if snap.status.active and st.button("Cancel", key=f"cancel-{snap.job_id}"):
            job.cancel()
            st.rerun()
        if snap.status == JobStatus.SAVED:
            n = len(snap.history)
            st.success(
                f"Saved as **{name}** after {n} epoch{'s' * (n != 1)} ({snap.seconds:.0f} s). Choose it in "
                "the sidebar on any page."
            )
        elif snap.status == JobStatus.FAILED:
            st.error(escape_markdown(snap.message, 2000))
        elif snap.status in (JobStatus.STOPPED, JobStatus.UNSAVED, JobStatus.CANCELLED):
            st.warning(escape_markdown(snap.message, 2000))
            if snap.history:  # it trained (a cancel in the queue leaves nothing to save)
                _save_form(job, snap)
        if snap.history:
            st.plotly_chart(
                curves_figure(snap, mc.is_vae), key=f"curves-{snap.job_id}", config={"displayModeBar": False}
            )
            if mc.is_vae:
                st.caption(
                    "A VAE often learns the average image first: every reconstruction looks alike and KL stays near "
                    "0 (the code is ignored). After a few hundred steps it starts to use its code: KL rises, and "
                    "the reconstruction cost falls."
                )
        grid = preview_image(snap)
        if grid is not None:
            st.image(
                grid,
                caption="Top: fixed test images. Bottom: their reconstructions by the weights right now.",
                output_format="PNG",
            )
        if not snap.status.active and st.button("Dismiss", key=f"dismiss-{snap.job_id}"):
            job_registry().forget(session_id(), snap.job_id)
            st.rerun()


def _save_form(job: TrainingJob, snap: JobSnapshot) -> None:
    """After a NaN stop (last good weights), a cancel (what it learned so far) or a failed save: the user chooses
    whether to save, and under which name."""
    label = {JobStatus.STOPPED: "Save the last good weights as", JobStatus.CANCELLED: "Save what it learned so far as"}
    unsaved = snap.status == JobStatus.UNSAVED  # its own name was taken meanwhile: ask for another
    new_name = st.text_input(
        label.get(snap.status, "Save as"),
        value="" if unsaved else snap.name,
        placeholder=f"{snap.name}-2",
        key=f"save-name-{snap.job_id}",
    )
    if st.button("Save", key=f"save-{snap.job_id}"):
        try:
            job.save(new_name.strip())
        except CheckpointError as e:
            st.error(escape_markdown(str(e), 500))
            return
        checkpoint_catalog.clear()
        st.rerun()
