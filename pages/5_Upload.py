"""Upload: your own images or a drawing, prepared like MNIST, rebuilt by the VAE and the autoencoder, and placed on
their latent maps; and a place to add your own checkpoint to the app."""

from __future__ import annotations

import streamlit as st

from ui.draw_canvas import draw_canvas, png_from_data_url
from ui.loaders import checkpoint_catalog, dataset
from ui.page import page
from ui.safe_text import escape_markdown
from ui.upload_results import image_report, prepare
from vae_core.config import describe
from vae_core.data import DATASETS, DatasetUnavailable
from vae_core.store.catalog import user_checkpoint_dir
from vae_core.store.checkpoints import CheckpointError
from vae_core.store.user_checkpoints import import_checkpoint, read_user_checkpoint, suggest_name

pair = page("Upload", "✍️")
st.title("Your own digits")
st.markdown(
    "Upload a photo or a scan of a handwritten digit, or draw one. It is prepared the way MNIST was (white on black, "
    "cropped, scaled to 20x20, centred by mass in 28x28), then both models rebuild it. The **reconstruction** cost "
    "is -log p(x|z) in nats (lower is better); the VAE also pays **KL** nats for how far q(z|x) strays from the prior."
)
try:
    classes = dataset(pair.dataset).class_names if pair is not None else ()
except DatasetUnavailable:  # the maps then label classes by number
    classes = ()

if pair is not None:
    upload_col, draw_col = st.columns(2, gap="large")  # both ways in at once on a projector; stacked on a phone
    with upload_col:
        st.subheader("Upload images")
        files = st.file_uploader(
            "PNG or JPEG images, one digit each",
            type=["png", "jpg", "jpeg"],
            accept_multiple_files=True,
            key="upload_images",
            help="Files stay in this session only. Each file is checked before it is decoded.",
        )
    with draw_col:
        st.subheader("Or draw a digit")
        drawing = draw_canvas()
    for i, f in enumerate(files or []):  # each image's report, full width: both reconstructions side by side
        prepared = prepare(f.getvalue())
        if prepared.error:
            st.error(f"**{escape_markdown(f.name)}**: {escape_markdown(prepared.error, 500)}")
            continue
        image_report(f.name, prepared.result, pair, classes, key=f"file{i}")
    if drawing is None:
        draw_col.info("Draw a digit on the black square; its reconstructions appear below when you lift the pen.")
    else:
        try:
            prepared = prepare(png_from_data_url(drawing))
            error = prepared.error
        except ValueError as e:
            prepared, error = None, str(e)
        if error:
            st.warning(escape_markdown(error, 500))
        else:
            image_report("Your drawing", prepared.result, pair, classes, key="drawing")

st.header("Use your own checkpoint")
st.markdown(
    "Add a model trained with this project (`python -m vae_core.cli.train`, or the Train page on another server): one "
    "`.safetensors` file with our config inside. Every part of it is checked before use. Pickled PyTorch files "
    "(`.pt`, `.pth`, `.pkl`, TorchScript) are refused: loading one can run any code its author put in it."
)
upload = st.file_uploader(
    "A checkpoint file",
    type=["safetensors", "pt", "pth", "pkl", "ckpt", "bin", "zip"],
    key="upload_checkpoint",
)
flash = st.session_state.pop("_checkpoint_added", None)
if flash:
    st.success(f"Added **{escape_markdown(flash)}**. Choose it in the sidebar on any page.")
if upload is not None:
    try:
        ckpt = read_user_checkpoint(upload.name, upload.getvalue())
    except CheckpointError as e:
        st.error(f"**{escape_markdown(upload.name)}** was not loaded: {escape_markdown(e, 600)}")
    else:
        cfg = ckpt.config
        st.success(
            f"**{escape_markdown(upload.name)}** is a valid checkpoint: {describe(cfg)}, latent dim "
            f"{cfg.latent_dim}, beta {cfg.beta:g}."
        )
        names = list(DATASETS)
        said = ckpt.meta.get("dataset")
        with st.form("add_checkpoint"):
            ds_name = st.selectbox(
                "Trained on",
                names,
                index=names.index(said) if said in names else 0,
                format_func=lambda n: DATASETS[n].title,
                key="checkpoint_dataset",
            )
            taken = {i.name for i in checkpoint_catalog()}
            name = st.text_input("Save as", value=suggest_name(upload.name, taken), key="checkpoint_name")
            if st.form_submit_button("Add to my models", type="primary"):
                try:
                    path = import_checkpoint(ckpt, name.strip(), dataset(ds_name), user_checkpoint_dir())
                except (CheckpointError, DatasetUnavailable) as e:
                    st.error(escape_markdown(e, 600))
                else:
                    checkpoint_catalog.clear()
                    st.session_state["_checkpoint_added"] = path.stem
                    st.rerun()
