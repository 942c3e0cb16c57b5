"""The Train page as a user drives it: the form, a refused name, a tiny training that ends up in every page's sidebar,
cancelling, and the shared models left untouched."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
import torch
from streamlit.testing.v1 import AppTest

PAGE = str(Path(__file__).resolve().parents[1] / "pages" / "1_Train.py")


def visible(text: str) -> str:
    """What the browser shows for Markdown: bold markers and backslash escapes removed."""
    return re.sub(r"\\(.)", r"\1", text.replace("**", ""))


def texts(at: AppTest) -> str:
    parts = [e.value for kind in (at.error, at.warning, at.success, at.info) for e in kind]
    return visible("\n".join(parts))


@pytest.fixture(autouse=True)
def fresh_registry():
    """Each test gets an empty job registry (AppTest sessions all share one session id)."""
    from ui.training_jobs import job_registry

    yield
    job_registry().cancel_all()
    for job in list(job_registry()._jobs.values()):
        job.join(30)
    job_registry.clear()


def open_page() -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    assert not at.exception
    return at


def start(at: AppTest, name: str, epochs: int = 1, images: int = 64) -> AppTest:
    at.radio(key="train_length").set_value("Custom").run()
    at.number_input(key="train_epochs").set_value(epochs)
    at.checkbox(key="train_few").check().run()
    at.number_input(key="train_max").set_value(images)
    at.text_input(key="train_name").input(name)
    return at.button[0].click().run()


def poll(at: AppTest, until: str, timeout: float = 90.0) -> AppTest:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        at.run()
        assert not at.exception
        if until in texts(at):
            return at
        time.sleep(0.5)
    raise AssertionError(f"{until!r} never appeared; the page said: {texts(at)!r}")


def shared_model_params():
    """The cached VAE every session shares (the sidebar's default) and a copy of its weights."""
    from ui.loaders import checkpoint_catalog, load_model

    info = next(i for i in checkpoint_catalog() if i.name == "mnist5k-vae-16")
    model = load_model(info).model
    return model, {k: v.clone() for k, v in model.state_dict().items()}


def test_form_renders_with_every_choice():
    at = open_page()
    assert at.title[0].value == "Train a model"
    assert at.selectbox(key="train_dataset").value == "mnist5k"
    assert at.radio(key="train_kind").options == ["VAE", "beta-VAE", "Autoencoder"]
    assert at.radio(key="train_length").value == "Quick", "the measured quick option is the default"
    at.radio(key="train_length").set_value("Custom").run()
    for key in ("train_latent", "train_epochs", "train_lr"):
        assert at.number_input(key=key) is not None
    assert not at.checkbox(key="train_few").value  # all images by default: a few hundred steps are needed
    at.checkbox(key="train_few").check().run()
    assert at.number_input(key="train_max").value == 1000
    assert at.button[0].label == "Start training"
    assert not at.error


def test_beta_field_appears_for_beta_vae():
    at = open_page()
    at.radio(key="train_kind").set_value("beta-VAE").run()
    assert at.number_input(key="train_beta").value == 4.0


def test_invalid_name_is_refused_with_the_rule():
    at = start(open_page(), "../x")
    assert "is not a valid checkpoint name: use 1-64 lowercase letters" in texts(at)
    assert "Your trainings" not in [s.value for s in at.subheader]


def test_the_quick_option_trains_with_the_measured_settings():
    from ui.training_jobs import job_registry
    from vae_core.jobs.spec import QUICK_TRAINING

    at = open_page()
    said = f"{QUICK_TRAINING.epochs} passes over all 4,500 training images in batches of {QUICK_TRAINING.batch_size}"
    assert any(said in c.value for c in at.caption), [c.value for c in at.caption]
    at.text_input(key="train_name").input("quick-one")
    at = at.button[0].click().run()
    (job,) = job_registry()._jobs.values()  # the page's session is AppTest's own
    tc = job.spec.train_config
    assert (tc.epochs, tc.batch_size, tc.lr, tc.max_train) == (
        QUICK_TRAINING.epochs, QUICK_TRAINING.batch_size, QUICK_TRAINING.lr, None
    )  # fmt: skip
    job.cancel()


def test_bad_learning_rate_is_refused_by_the_core():
    at = open_page()
    at.radio(key="train_length").set_value("Custom").run()
    at.number_input(key="train_lr").set_value(0.0)
    at = start(at, "zero-lr")
    assert "lr must be between 1e-07 and 1.0 (got 0.0)" in texts(at)


def test_tiny_training_appears_in_catalog_and_sidebar_without_touching_shared_models():
    at = open_page()
    shared, before = shared_model_params()
    at = start(at, "tiny-page-vae")
    assert not at.exception
    at = poll(at, "Saved as tiny-page-vae")
    from vae_core.store.catalog import scan_checkpoints

    names = [i.name for i in scan_checkpoints()]
    assert "tiny-page-vae" in names
    # The sidebar offers it at once (the page clears the 5 s catalog cache when its job saves).
    vae_choices = at.sidebar.selectbox[1].options
    assert any("tiny-page-vae" in option for option in vae_choices), vae_choices
    # Curves and the reconstruction grid were drawn.
    assert at.get("plotly_chart")
    assert any(c.startswith("Top: fixed test images.") for img in at.image for c in img.captions)
    # The model other sessions use was never trained.
    for k, v in shared.state_dict().items():
        assert torch.equal(v, before[k]), k
    assert not shared.training and not any(p.requires_grad for p in shared.parameters())


def test_same_name_again_is_refused():
    at = poll(start(open_page(), "twice-vae"), "Saved as twice-vae")
    at = start(at, "twice-vae")
    assert "A checkpoint named 'twice-vae' already exists; choose another name." in texts(at)


def test_cancel_stops_the_training_saves_nothing_and_offers_to_keep_what_it_learned():
    at = start(open_page(), "to-cancel", epochs=200, images=2000)
    cancel = next(b for b in at.button if b.label == "Cancel")
    at = cancel.click().run()
    at = poll(at, "Training cancelled.")
    from vae_core.store.catalog import user_checkpoint_dir

    assert not (user_checkpoint_dir() / "to-cancel.safetensors").exists()
    name = at.text_input(key=next(k for k in at.session_state if str(k).startswith("save-name-")))
    assert name.label == "Save what it learned so far as" and name.value == "to-cancel"
    next(b for b in at.button if b.label == "Save").click().run()
    assert "Saved as to-cancel" in texts(at)
    assert (user_checkpoint_dir() / "to-cancel.safetensors").exists()


def test_a_dataset_that_needs_files_explains_what_to_do(monkeypatch):
    from vae_core import data, torchvision_data

    def offline(name, data_dir, download):
        raise data.DatasetUnavailable(f"{name!r} is not in /srv/data/MNIST/raw and could not be downloaded: offline")

    monkeypatch.setattr(torchvision_data, "load_torchvision", offline)
    at = open_page()
    at.selectbox(key="train_dataset").set_value("fashion-mnist").run()
    assert not at.exception
    assert visible(at.error[0].value) == "Fashion-MNIST is not available on this server."
    assert "'fashion-mnist' is not in /srv/data/MNIST/raw" in at.code[0].value
    assert at.button[0].label == "Start training" and at.button[0].disabled


def test_nan_shows_the_reason_and_saving_the_last_good_weights_is_the_users_choice(monkeypatch):
    from vae_core import training
    from vae_core.store.catalog import user_checkpoint_dir

    real_elbo = training.elbo
    calls = []

    def exploding(model, x, *args, **kwargs):
        terms = real_elbo(model, x, *args, **kwargs)
        calls.append(1)
        if len(calls) == 3:
            terms.loss = terms.loss * float("nan")
        return terms

    monkeypatch.setattr(training, "elbo", exploding)
    # 64 images are one step per epoch; the test split is one more call: call 3 is epoch 2, step 1.
    at = poll(start(open_page(), "nan-page", epochs=2), "Training stopped: the loss became nan at epoch 2, step 1")
    assert "the model keeps its last good weights. Try a smaller learning rate." in texts(at)
    assert not (user_checkpoint_dir() / "nan-page.safetensors").exists()  # nothing saved without asking
    assert at.text_input(key=next(k for k in at.session_state if str(k).startswith("save-name-"))).value == "nan-page"
    next(b for b in at.button if b.label == "Save").click().run()
    assert "Saved as nan-page" in texts(at)
    assert (user_checkpoint_dir() / "nan-page.safetensors").exists()
