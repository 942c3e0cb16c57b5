"""The Upload page as a user sees it: a good image gets its preprocessing steps, both reconstructions and their
losses; a bad file is named in a clear error while the others still work; pickles are refused; a valid checkpoint
joins the catalog."""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from streamlit.testing.v1 import AppTest

from vae_core.config import ModelConfig
from vae_core.model import build_model
from vae_core.store.catalog import scan_checkpoints
from vae_core.store.checkpoints import checkpoint_bytes

PAGE = str(Path(__file__).resolve().parents[1] / "pages" / "5_Upload.py")
CHECKPOINTS = Path(__file__).resolve().parents[1] / "checkpoints"


def visible(text: str) -> str:
    """What the browser shows for Markdown: bold markers and backslash escapes removed."""
    return re.sub(r"\\(.)", r"\1", text.replace("**", ""))


def markdown(at: AppTest) -> str:
    return visible("\n".join(m.value for m in at.markdown))


@pytest.fixture(scope="module")
def digit_png() -> bytes:
    """A dark digit on white paper, 200x200, as a phone photo of a drawn digit would be."""
    img = Image.new("L", (200, 200), 245)
    from PIL import ImageDraw

    ImageDraw.Draw(img).line([(70, 40), (140, 40), (95, 170)], fill=20, width=16)  # a 7
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def open_page() -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    assert not at.exception
    return at


def upload(at: AppTest, key: str, files) -> AppTest:
    at.file_uploader(key=key).set_value(files)
    at.run()
    assert not at.exception
    return at


def test_a_good_png_shows_steps_both_reconstructions_and_losses(digit_png):
    at = upload(open_page(), "upload_images", [("seven.png", digit_png, "image/png")])
    captions = [c for img in at.image for c in img.captions]
    for step in ("grayscale", "inverted", "cropped", "fitted 20x20", "centred 28x28"):
        assert step in captions
    text = markdown(at)
    assert "seven.png" in text
    assert "VAE reconstruction" in text and "Autoencoder reconstruction" in text
    assert re.search(r"reconstruction \d+\.\d nats · KL \d+\.\d nats\s+-ELBO \d+\.\d nats", text)
    assert "(no KL term: not a probabilistic model)" in text
    assert any(c.startswith("8 codes drawn from q(z|x), decoded") for c in captions)
    assert "Light background detected: inverted" in visible("\n".join(c.value for c in at.caption))
    assert not at.error


def latent_maps(at: AppTest) -> list[dict]:
    """The headers of every latent map component on the page (ui.map_component)."""
    from ui.map_component import unpack_message

    found = [c for c in at.get("bidi_component") if c.proto.component_name == "vae_explorer_latent_map"]
    return [unpack_message(c.proto.bytes)[0] for c in found]


def test_where_it_lands_is_the_latent_map_with_the_images_code_as_a_star_and_the_vaes_samples(digit_png):
    from ui.upload_results import prepare
    from vae_core.latent.codes import load_latents
    from vae_core.latent.map_decoding import LatentMap
    from vae_core.latent.posterior import image_posterior
    from vae_core.store.checkpoints import load_checkpoint

    at = upload(open_page(), "upload_images", [("seven.png", digit_png, "image/png")])
    (header,) = latent_maps(at)  # one mount: both models side by side
    vae, ae = header["maps"]
    assert (vae["label"], ae["label"]) == ("VAE", "Autoencoder") and header["pins"] is False
    assert [k["kind"] for k in vae["marks"]] == ["sample"] * 8 + ["code"], "8 codes drawn from q(z|x), then the star"
    assert [k["kind"] for k in ae["marks"]] == ["code"], "the autoencoder has no cloud to sample"
    image = prepare(digit_png).result.image
    reference = None
    for m in (vae, ae):
        path = CHECKPOINTS / f"{m['title'].split(' · ')[1]}.safetensors"
        lmap = LatentMap("pca").fit(load_latents(path)["mu"])  # the map the browser draws: the autoencoder's turned
        lmap = lmap if reference is None else lmap.aligned_to(reference)  # onto the VAE's, place for place
        reference = lmap.points_ if reference is None else reference
        mu = image_posterior(load_checkpoint(path).model, image).mu
        star = m["marks"][-1]
        assert star["label"] == "your image"
        assert np.abs(np.array([star["x"], star["y"]]) - lmap.transform(mu[None])[0]).max() < 1e-5
        inverse = m["inverse"]  # what the browser decodes where the star is: the image's own code, all 16 numbers
        at_star = np.array(inverse["mean"]) + np.array([star["x"], star["y"]]) @ np.array(inverse["components"])
        assert np.abs(at_star - mu).max() < 1e-4
    text = visible("\n".join(c.value for c in at.caption))
    assert "Hover around your digit: both models decode the place under the cursor, in your browser" in text
    assert "hovering moves your code along the map's two directions and keeps its other 14 numbers" in text
    assert not at.get("plotly_chart"), "a 16-D VAE has no close-up; the maps are no plotly figures any more"


def test_two_images_get_two_maps(digit_png):
    at = upload(open_page(), "upload_images", [("a.png", digit_png, "image/png"), ("b.png", digit_png, "image/png")])
    assert len(latent_maps(at)) == 2, "each image its own maps (a key per image)"


def test_a_renamed_text_file_is_named_in_an_error_and_the_next_file_still_works(digit_png):
    files = [("notes *really*.png", b"this is my shopping list, not a picture", "image/png"),
             ("seven.png", digit_png, "image/png")]  # fmt: skip
    at = upload(open_page(), "upload_images", files)
    errors = [visible(e.value) for e in at.error]
    assert errors == [
        "notes *really*.png: This file contains text, not a picture (was it renamed?). Please upload PNG, JPEG, GIF, "
        "BMP or WEBP."
    ]
    assert r"notes \*really\*\.png" in at.error[0].value  # escaped: shown as typed, never as Markdown
    assert "VAE reconstruction" in markdown(at)


def test_a_truncated_png_is_refused_clearly(digit_png):
    at = upload(open_page(), "upload_images", [("half.png", digit_png[: len(digit_png) // 2], "image/png")])
    assert [visible(e.value) for e in at.error] == [
        "half.png: The PNG file is damaged or incomplete (perhaps cut off while uploading). Please save it again and "
        "re-upload it."
    ]


def test_an_enormous_file_is_refused_before_decoding(digit_png):
    huge = digit_png + bytes(6 * 1024 * 1024)  # a valid PNG start, then 6 MB of padding
    at = upload(open_page(), "upload_images", [("huge.png", huge, "image/png"), ("seven.png", digit_png, "image/png")])
    assert [visible(e.value) for e in at.error] == [
        "huge.png: The file is 6.0 MB; the limit is 5 MB. Please upload a smaller image (a photo of one digit needs "
        "far less)."
    ]
    assert "VAE reconstruction" in markdown(at)


def test_a_pickled_checkpoint_is_refused_with_the_reason(tmp_path):
    model = build_model(ModelConfig(latent_dim=2))
    torch.save(model.state_dict(), tmp_path / "model.pt")
    at = upload(
        open_page(),
        "upload_checkpoint",
        [("model.pt", (tmp_path / "model.pt").read_bytes(), "application/octet-stream")],
    )
    message = visible(at.error[0].value)
    assert message.startswith("model.pt was not loaded: .pt files are pickles")
    assert "loading a pickle can run any code its author wrote, so this app never opens them" in message
    assert not at.button  # nothing to add


def test_a_pickle_renamed_safetensors_is_refused_by_its_content(tmp_path):
    model = build_model(ModelConfig(latent_dim=2))
    torch.save(model.state_dict(), tmp_path / "model.pt")
    data = (tmp_path / "model.pt").read_bytes()
    at = upload(open_page(), "upload_checkpoint", [("sneaky.safetensors", data, "application/octet-stream")])
    assert "looks like a pickled PyTorch file" in visible(at.error[0].value)


def test_a_valid_checkpoint_joins_the_catalog_and_the_sidebar():
    torch.manual_seed(1)
    data = checkpoint_bytes(build_model(ModelConfig(latent_dim=2)), {"dataset": "mnist5k", "description": "[x](y)"})
    at = upload(open_page(), "upload_checkpoint", [("My Own VAE.safetensors", data, "application/octet-stream")])
    assert "My Own VAE.safetensors is a valid checkpoint: VAE, latent dim 2, beta 1." in visible(at.success[0].value)
    assert at.text_input(key="checkpoint_name").value == "my-own-vae"
    at.button[0].click().run()
    assert not at.exception
    assert "Added my-own-vae. Choose it in the sidebar on any page." in visible(at.success[0].value)
    info = next(i for i in scan_checkpoints() if i.name == "my-own-vae")
    assert info.dataset == "mnist5k" and not info.shipped
    assert info.description == "VAE, uploaded"  # the file's own free text is not carried over
    assert info.latents_path.is_file()
    assert any("my-own-vae" in option for option in at.sidebar.selectbox[1].options)


def test_a_damaged_safetensors_checkpoint_gets_a_clear_message():
    data = checkpoint_bytes(build_model(ModelConfig(latent_dim=2)))
    at = upload(open_page(), "upload_checkpoint", [("cut.safetensors", data[:5000], "application/octet-stream")])
    message = visible(at.error[0].value)
    assert message == (
        "cut.safetensors was not loaded: the file ends before its weights do: it is truncated or damaged; "
        "save or download it again"
    )


def test_the_drawing_canvas_is_offered():
    at = open_page()
    assert "Or draw a digit" in [h.value for h in at.subheader]
    assert any("Draw a digit on the black square" in i.value for i in at.info)


def test_png_data_urls_from_the_canvas_are_checked():
    from ui.draw_canvas import png_from_data_url

    assert png_from_data_url("data:image/png;base64,iVBORw0KGgo=") == b"\x89PNG\r\n\x1a\n"
    for bad in ("data:text/html;base64,PGI+", "data:image/png;base64,@@@", "x" * 10):
        with pytest.raises(ValueError, match="The drawing could not be read"):
            png_from_data_url(bad)


def test_canvas_strokes_prepare_like_mnist():
    """The canvas reports white strokes on black; they are prepared without inversion."""
    from ui.upload_results import prepare

    canvas = np.zeros((280, 280), np.uint8)
    canvas[60:220, 130:150] = 255  # a 1
    buf = io.BytesIO()
    Image.fromarray(canvas).save(buf, format="PNG")
    prepared = prepare(buf.getvalue())
    assert prepared.error is None and not prepared.result.inverted
    assert prepared.result.image.shape == (28, 28)


def test_a_class_of_phone_photos_keeps_only_thumbnails_in_the_shared_cache():
    """Cached preparations hold each step at thumbnail size (a 12-megapixel photo's full steps are ~7 MB)."""
    from ui.upload_results import STEP_SIDE, prepare

    paper = np.full((3024, 4032), 225, np.uint8)
    paper[600:2400, 1900:2150] = 30  # a 1
    buf = io.BytesIO()
    Image.fromarray(paper).save(buf, format="JPEG", quality=85)
    prepared = prepare(buf.getvalue())
    assert prepared.error is None and prepared.result.inverted
    assert all(max(img.shape) <= STEP_SIDE for _, img in prepared.result.steps)
    assert prepared.result.image.shape == (28, 28)


def test_the_page_says_which_digit_the_classifier_sees_in_the_image_and_each_reconstruction(digit_png):
    at = upload(open_page(), "upload_images", [("seven.png", digit_png, "image/png")])
    text = markdown(at)
    assert "The classifier sees 7 (" in text, text
    assert text.count("reads as") == 2, "one reading per reconstruction: 'reads as 7 too' or a note"
