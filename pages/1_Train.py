"""Train: pick data, a model and its hyperparameters, start a training and watch the loss terms and reconstructions
improve live. The result is saved as a named checkpoint that every page can choose at once."""

from __future__ import annotations

import streamlit as st

from ui.lesson_steps_training import what_happened
from ui.loaders import checkpoint_catalog, dataset
from ui.page import page
from ui.replay import pair_replay
from ui.safe_text import escape_markdown
from ui.training_jobs import POLL_SECONDS, acknowledge_saved, dataset_problem, job_panel, my_jobs, submit
from vae_core.config import ConfigError, ModelConfig, TrainConfig, describe
from vae_core.data import DATASETS
from vae_core.jobs.slots import JobRefused
from vae_core.jobs.spec import QUICK_TRAINING, JobSpec
from vae_core.store.catalog import user_checkpoint_dir
from vae_core.store.checkpoints import CheckpointError
from vae_core.store.user_checkpoints import suggest_name

jobs = my_jobs()
acknowledge_saved(jobs)  # before the sidebar, so a model saved since the last run is listed there
pair = page("Train", "🏋️", default_vae="mnist5k-vae-2")  # a 2-D pair: the replay's map is the latent plane

st.title("Train a model")
st.markdown(
    "Train a **VAE**, a **beta-VAE** or a plain **autoencoder** on this server and watch the two terms of the "
    "ELBO move while it learns. Trainings run in the background: you can keep using the other pages, and other "
    "people using this server are not slowed down much."
)

MODEL_KINDS = {"VAE": ("vae", 1.0), "beta-VAE": ("vae", None), "Autoencoder": ("ae", 1.0)}
LENGTHS = ["Quick", "Custom"]

with st.container(border=True):
    st.subheader("New training")
    left, right = st.columns(2)
    with left:
        names = list(DATASETS)
        ds_name = st.selectbox(
            "Dataset",
            names,
            key="train_dataset",
            format_func=lambda n: DATASETS[n].title + ("" if DATASETS[n].offline else " (needs files)"),
        )
        st.caption(DATASETS[ds_name].description)
        problem = dataset_problem(ds_name)
        if problem:
            st.error(f"**{DATASETS[ds_name].title} is not available on this server.**")
            st.code(problem, language=None, wrap_lines=True)
        kind_label = st.radio(
            "Model",
            list(MODEL_KINDS),
            horizontal=True,
            key="train_kind",
            help="beta-VAE weighs the KL term by beta; the autoencoder has no KL term at all.",
        )
        kind, beta = MODEL_KINDS[kind_label]
        if beta is None:
            beta = st.number_input("beta (weight of the KL term)", min_value=0.0, value=4.0, step=0.5, key="train_beta")
        latent_dim = st.number_input(
            "Latent dimensions",
            min_value=1,
            value=2,
            step=1,
            key="train_latent",
            help="2 gives a latent map you can read directly; 16 reconstructs better.",
        )
    with right:
        n_available = None if problem else len(dataset(ds_name).train_x)
        length = st.radio(
            "Length",
            LENGTHS,
            horizontal=True,
            key="train_length",
            help="Quick is sized by measurement: the shortest training after which the reconstructions are "
            "recognisable digits. Custom sets every number yourself.",
        )
        max_train, batch_size = None, TrainConfig.batch_size
        if length == LENGTHS[0]:
            epochs, lr, batch_size = QUICK_TRAINING.epochs, QUICK_TRAINING.lr, QUICK_TRAINING.batch_size
            images = f"all {n_available:,}" if n_available else "all the"
            st.caption(
                f"{epochs} passes over {images} training images in batches of {batch_size}, learning rate {lr:g}. "
                "For the first few hundred batches every reconstruction is the same grey average; then digits appear."
            )
        else:
            epochs = st.number_input("Epochs", min_value=1, value=5, step=1, key="train_epochs")
            lr = st.number_input("Learning rate", min_value=0.0, value=1e-3, step=1e-4, format="%.5f", key="train_lr")
            few = st.checkbox(
                "Use only some of the training images",
                value=False,
                key="train_few",
                help="Fewer images make each epoch shorter, but a model needs a few hundred steps before it learns "
                "more than the average image.",
            )
            if few:
                max_train = st.number_input(
                    "Training images", min_value=1, value=min(1000, n_available or 1000), step=100, key="train_max"
                )
        taken = {i.name for i in checkpoint_catalog()} | {j.spec.name for j in jobs}
        suggestion = suggest_name(f"my-{ds_name}-{kind_label.lower()}-{int(latent_dim)}", taken)
        name = st.text_input(
            "Save as (checkpoint name)",
            key="train_name",
            placeholder=suggestion,
            help="Lowercase letters, digits, '-' and '_'. Existing checkpoints are never replaced.",
        )
    start = st.button("Start training", type="primary", disabled=problem is not None)

if start:
    try:
        model_config = ModelConfig(kind=kind, latent_dim=int(latent_dim), beta=float(beta))
        train_config = TrainConfig(
            dataset=ds_name,
            epochs=int(epochs),
            batch_size=batch_size,
            lr=float(lr),
            max_train=int(max_train) if max_train is not None else None,
        )
        spec = JobSpec(
            name=(name or suggestion).strip(),
            model_config=model_config,
            train_config=train_config,
            out_dir=user_checkpoint_dir(),
        )
        submit(spec, dataset(ds_name))
        st.toast(
            f"Training {describe(model_config)} {escape_markdown(spec.name)} started", icon=":material/model_training:"
        )
        jobs = my_jobs()
    except (ConfigError, CheckpointError, JobRefused) as e:
        st.error(f"Cannot start this training: {escape_markdown(e, 500)}")

was_active = {j.job_id for j in jobs if j.status.active}


@st.fragment(run_every=POLL_SECONDS if was_active else None)
def trainings() -> None:
    """Your trainings, refreshed every second while one runs; a full rerun when one ends (to list the new model)."""
    current = my_jobs()
    if not current:
        return
    st.subheader("Your trainings")
    for job in current:
        job_panel(job)
    if was_active - {j.job_id for j in current if j.status.active}:
        st.rerun()


trainings()


st.header("Watch a training again")
st.markdown(
    "Every training here records the codes of the test images at fixed moments (often in the first epoch, then "
    "twice an epoch). Replay the models chosen in the sidebar, the VAE and its autoencoder side by side, and watch "
    "where the KL term keeps the VAE's codes. To replay a model you trained, choose it in the sidebar."
)
if pair is not None and st.toggle("Show the replay", key="train_replay"):
    replayed = pair_replay(pair, key="train_replay_view")
    if len(replayed) == 2 and all(m.snaps.axes == "latent" for m in replayed):
        st.markdown(what_happened(replayed[0].snaps, replayed[1].snaps))
