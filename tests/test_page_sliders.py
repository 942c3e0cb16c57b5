"""The Latent sliders page, driven through AppTest in "Server" mode (the live pad itself is tested in Chromium).

An st.image's URL is the hash of the image's bytes (Streamlit's media file id), so "the URL changed" means "the
decoded image changed"."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from streamlit.testing.v1 import AppTest

PAGE = str(Path(__file__).resolve().parents[1] / "pages" / "3_Latent_sliders.py")
DECODED = ("decoder mean E[x|z]", "a sample x ~ p(x|z)")


def _page(**params: str) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=90)
    at.query_params.update({"vae": "mnist5k-vae-2", "ae": "mnist5k-ae-2", "mode": "server", **params})
    return at.run()


def _decoded(at: AppTest) -> list[str]:
    """URLs of the server-decoded images, VAE first."""
    return [url for img in at.image for url, cap in zip(img.value, img.captions, strict=True) if cap in DECODED]


def _param(at: AppTest, key: str) -> str:
    value = at.query_params[key]
    return value[0] if isinstance(value, list) else value


def _code(at: AppTest, key: str = "z") -> list[float]:
    return [float(v) for v in _param(at, key).split(",")]


def _slider(at: AppTest, prefix: str, column: int = 0):
    return [s for s in at.slider if s.label.startswith(prefix)][column]


def test_moving_a_slider_changes_the_decoded_image_and_the_url():
    at = _page(z="0,0")
    assert not at.exception
    vae_before, ae_before = _decoded(at)
    _slider(at, "z1").set_value(2.0).run()
    vae_after, ae_after = _decoded(at)
    assert vae_after != vae_before, "moving the VAE's z1 slider must redraw the VAE's image"
    assert ae_after == ae_before, "the autoencoder's image depends only on its own code"
    assert _code(at)[0] == pytest.approx(2.0)


def test_the_prior_button_draws_a_new_z_for_both_models():
    at = _page(z="0,0", z_ae="0,0")
    before = _decoded(at)
    at.button[0].click().run()
    z, z_ae = _code(at), _code(at, "z_ae")
    assert z != [0.0, 0.0] and z == z_ae, "the same draw z ~ N(0, I) goes to both decoders"
    assert _decoded(at) != before
    assert _slider(at, "z1").value == pytest.approx(z[0], abs=0.01), "the sliders follow the new z"


def test_mean_or_sample_toggle_changes_the_image():
    at = _page(z="0.5,-0.5")
    mean = _decoded(at)
    at.radio(key="lp_show").set_value("A sample x ~ p(x|z)").run()
    assert not at.exception
    assert [c for img in at.image for c in img.captions if c in DECODED] == ["a sample x ~ p(x|z)"] * 2
    assert _decoded(at)[0] != mean[0]
    assert _param(at, "show") == "sample"


def test_manifold_grids_for_both_models_with_downloads():
    at = _page()
    captions = [c for img in at.image for c in img.captions]
    assert any(c.startswith("VAE (mnist5k-vae-2): z1 across") for c in captions)
    assert any(c.startswith("Autoencoder (mnist5k-ae-2): z1 across") for c in captions)
    assert {"Download the VAE grid (PNG)", "Download the Autoencoder grid (PNG)"} <= {
        b.label for b in at.get("download_button")
    }


def test_a_shared_url_reproduces_z_and_a_bad_one_explains_itself():
    at = _page(z="1.5,-0.5")
    assert [_slider(at, "z1").value, _slider(at, "z2").value] == pytest.approx([1.5, -0.5])
    other_model = _page(z="1,2,3")  # a 3-D model's code: dropped without a word (issue #12)
    assert not other_model.exception and not other_model.warning
    assert len(_code(other_model)) == 2
    bad = _page(z="nan,nan")
    assert any("Ignored ?z=nan,nan: value 1 of 2 is not a finite number" in w.value for w in bad.warning)
    assert not bad.exception


def test_a_16d_model_puts_its_most_informative_dimensions_on_the_pad_and_the_next_on_sliders():
    at = _page(vae="mnist5k-vae-16", ae="mnist5k-ae-16", img="3")
    assert not at.exception
    vae = [s.label for s in at.slider if "KL" in s.label]
    ae = [s.label for s in at.slider if "var" in s.label]
    assert len(vae) == 8 and len(ae) == 8, "the pad's two dimensions, then six more"
    kl = [float(label.split("KL ")[1].split()[0]) for label in vae]
    assert kl == sorted(kl, reverse=True), "sliders come in order of KL, largest first"
    assert len(_code(at)) == 16
    across = at.selectbox(key="lp_gx::mnist5k-vae-16")
    assert across.value is not None and vae[0].startswith(f"z{across.value + 1} ")
    captions = [c for img in at.image for c in img.captions]
    assert any(c.startswith(f"VAE (mnist5k-vae-16): z{across.value + 1} across") for c in captions), captions


def test_live_mode_mounts_the_pad_and_says_what_it_sent():
    at = _page(mode="live")
    assert not at.exception
    assert at.radio(key="lp_mode").value == "Live (in browser)"
    assert any("Decoded in your browser" in c.value for c in at.caption)
    assert not _decoded(at), "no server-side decoding in live mode"


def test_with_no_choice_it_opens_on_the_2d_pair_with_the_pad_and_the_measured_start_image():
    at = AppTest.from_file(PAGE, default_timeout=90).run()
    assert not at.exception and not at.warning
    assert at.sidebar.selectbox(key="sidebar::vae").value == "mnist5k-vae-2"
    assert "vae" not in at.query_params, "no model was chosen, so the link names none"
    assert any("Decoded in your browser" in c.value for c in at.caption), "the live pad is mounted"
    assert at.number_input(key="lp_img").value == 188
    assert len(_code(at)) == 2
    assert not any("reads as" in c.value for c in at.caption), "both reconstructions of the start image are right"


def test_a_reconstruction_read_as_another_digit_gets_a_note():
    at = _page(img="0")  # a 3 that the 2-D models rebuild as a 2 and a 6
    notes = [c.value for c in at.caption if "reads as" in c.value]
    assert notes and "not 3" in notes[0], notes


def test_switching_models_back_and_forth_keeps_each_choice_and_warns_about_nothing():
    at = _page(z="0.5,0.5")
    for name, dim in [("mnist5k-vae-16", 16), ("mnist5k-vae-2", 2), ("mnist5k-vae-16", 16), ("mnist5k-vae-2", 2)]:
        at.sidebar.selectbox(key="sidebar::vae").select(name).run()
        assert not at.exception and not at.warning, [w.value for w in at.warning]
        assert at.sidebar.selectbox(key="sidebar::vae").value == name
        assert _param(at, "vae") == name and len(_code(at)) == dim
    assert _code(at) == pytest.approx([0.5, 0.5]), "the 2-D model's code was kept while the 16-D one was shown"


def test_the_start_image_is_the_one_the_rule_beside_it_picks():
    """Re-measures START_IMAGE (see its comment in the page): change the shipped models, and this says which
    image the rule picks now."""
    from vae_core.data import load_dataset
    from vae_core.evaluation.classifier import load_classifier, predict_proba
    from vae_core.store.checkpoints import load_checkpoint

    root = Path(PAGE).parents[1]
    ds = load_dataset("mnist5k")
    x, y = torch.as_tensor(ds.test_x[:, None]), ds.test_y
    clf = load_classifier(root / "checkpoints" / "classifier-mnist5k.safetensors").model
    sure = np.ones(len(y), dtype=bool)
    for name in ("mnist5k-vae-2", "mnist5k-ae-2", "mnist5k-vae-16", "mnist5k-ae-16"):
        model = load_checkpoint(root / "checkpoints" / f"{name}.safetensors").model
        with torch.no_grad():
            probs = predict_proba(clf, model.decoder_mean(model.encode(x)[0])[:, 0].numpy())
        sure &= (probs.argmax(axis=1) == y) & (probs[np.arange(len(y)), y] >= 0.9)
    means = np.stack([ds.test_x[y == c].mean(axis=0) for c in range(10)])
    dist = np.linalg.norm((ds.test_x - means[y]).reshape(len(y), -1), axis=1)
    typical = dist / np.array([np.median(dist[y == c]) for c in range(10)])[y]
    picked = int(np.flatnonzero(sure)[np.argmin(typical[sure])])
    assert picked == 188, f"the rule now picks test image #{picked} (a {y[picked]}): update START_IMAGE"
