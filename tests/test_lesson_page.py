"""The lesson page through AppTest, on the lesson zoo (small 2-D models with a real training replay and metrics
files whose numbers the test chose): every step renders, hides its answer until a prediction is made, then shows
what a student should see, quoting the metrics files; Back / Next and ?step=N move through it."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.lesson_zoo import MEASURED, make_lesson_zoo

PAGE = str(Path(__file__).resolve().parents[1] / "pages" / "0_Lesson.py")
N_STEPS = 11


@pytest.fixture(scope="module")
def lesson_zoo(tmp_path_factory):
    return make_lesson_zoo(tmp_path_factory.mktemp("lesson_zoo"))


@pytest.fixture(autouse=True)
def _use_lesson_zoo(lesson_zoo, monkeypatch):
    from ui.loaders import checkpoint_catalog

    monkeypatch.setenv("VAE_EXPLORER_CHECKPOINTS", str(lesson_zoo))
    checkpoint_catalog.clear()
    yield
    checkpoint_catalog.clear()


def open_step(step: int | str) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.query_params["step"] = str(step)
    at.run()
    assert not at.exception, at.exception
    return at


def guess(at: AppTest, choice: int = 0) -> AppTest:
    """Make the step's prediction (its first choice unless told) and rerun."""
    (pills,) = [p for p in at.pills if str(p.key).startswith("lesson_guess::")]
    pills.set_value(pills.options[choice]).run()
    assert not at.exception, at.exception
    return at


def text(at: AppTest) -> str:
    return "\n".join([m.value for m in at.markdown] + [c.value for c in at.caption] + [i.value for i in at.info])


def captions(at: AppTest) -> list[str]:
    return [im.proto.imgs[0].caption for im in at.get("image")]


def chart_titles(at: AppTest) -> list[str]:
    layouts = [json.loads(c.proto.spec).get("layout", {}) for c in at.get("plotly_chart")]
    return [str((lay.get("title") or {}).get("text", "")).split("<br>")[0] for lay in layouts]


def views(at: AppTest) -> int:
    """How many pictures the page shows: images, charts, tables and components."""
    return sum(len(at.get(kind)) for kind in ("image", "plotly_chart", "dataframe", "bidi_component"))


def unpack_message(data: bytes) -> tuple[dict, bytes]:
    """The replay's message (``ui.live_pad.pack_message``): uint32 length, JSON header, then raw bytes."""
    (n,) = struct.unpack_from("<I", data)
    return json.loads(data[4 : 4 + n].decode("utf-8")), data[4 + n :]


def pct(key: str, which: int) -> str:
    return f"{100 * MEASURED[key][which][0]:.1f} %"


@pytest.mark.parametrize("step", range(1, N_STEPS + 1))
def test_every_step_shows_its_place_and_hides_the_answer_until_a_prediction(step):
    at = open_step(step)
    assert f"Step {step} of {N_STEPS}" in at.get("progress")[0].proto.text
    assert at.query_params["step"] == str(step)
    predictions = [p for p in at.pills if str(p.key).startswith("lesson_guess::")]
    if step == N_STEPS:  # your turn: no prediction, a canvas and a keyboard way to pick a digit
        assert not predictions and at.get("bidi_component")
        return
    assert len(predictions) == 1 and predictions[0].value is None
    assert "Make your prediction to see the answer." in text(at)
    assert "You predicted" not in text(at)
    before = views(at)
    guess(at)
    assert "You predicted" in text(at)
    assert views(at) > before, "the reveal shows something new"


def test_next_and_back_walk_the_steps_and_the_url_follows():
    at = open_step(1)
    assert at.button(key="lesson_back").disabled
    at.button(key="lesson_next").click().run()
    assert "Step 2 of 11" in at.get("progress")[0].proto.text and at.query_params["step"] == "2"
    at.button(key="lesson_back").click().run()
    assert "Step 1 of 11" in at.get("progress")[0].proto.text and at.query_params["step"] == "1"
    assert open_step(N_STEPS).button(key="lesson_next").disabled


def test_a_link_to_no_step_opens_step_one_and_says_why():
    at = open_step("99")
    assert "Step 1 of 11" in at.get("progress")[0].proto.text
    assert "Ignored ?step=99" in at.warning[0].value


def test_a_prediction_is_remembered_when_the_student_comes_back():
    at = guess(open_step(3), choice=1)
    at.button(key="lesson_next").click().run()
    at.button(key="lesson_back").click().run()
    assert "You predicted **25-50 %**" in text(at)


def test_the_autoencoder_steps_quote_the_metrics_files():
    at = guess(open_step(2))
    assert "test image 2" in captions(at)[0] and "test image 3" in captions(at)[0]  # the scoreboard's typical pair
    assert pct("path_smudges", 1) in text(at) and pct("path_holes", 1) in text(at)
    (hover,) = at.get("bidi_component")  # the Latent map page's component, to hover the autoencoder's map
    assert [m["role"] for m in unpack_message(hover.proto.bytes)[0]["maps"]] == ["ae"]
    at = guess(open_step(3), choice=1)  # "25-50 %": the AE's measured 31.4 % is in it
    assert "You predicted **25-50 %**: right." in text(at)
    assert f"{pct('prior_valid', 1)} [29.3, 33.5] %" in text(at)


def test_the_cloud_step_shows_the_real_reparameterize_and_decodes_the_cloud():
    at = guess(open_step(4))
    assert "mu_s + std * eps" in at.code[0].value and "def reparameterize(" in at.code[0].value
    assert any("its 8 codes" in c for c in captions(at))
    assert "cloud on the VAE's map" in chart_titles(at)[0]


def test_the_kl_step_computes_with_the_apps_own_kl():
    at = guess(open_step(5))
    assert "right." in text(at) and "3.81 nats against 0.00" in text(at)
    assert "= **0.82 nats**" in text(at)  # KL(N(1, 0.5^2) || N(0, 1)) = (1 + 0.25 - 1 - log 0.25) / 2


def test_the_beta_scrubber_moves_from_reconstruction_only_to_kl_only():
    at = guess(open_step(6))
    slider = at.select_slider(key="lesson_beta")
    assert slider.options[0].startswith("Reconstruction only") and slider.options[-1] == "KL only"
    slider.set_value("KL only").run()
    assert chart_titles(at)[0] == "KL only: the codes"


def test_the_replay_step_sends_both_models_frames_once_predicted():
    at = guess(open_step(7))
    (component,) = at.get("bidi_component")
    header, blobs = unpack_message(component.proto.bytes)
    models = {m["label"]: m for m in header["models"]}
    assert set(models) == {"VAE", "Autoencoder"}
    for m in models.values():
        assert m["frames"] == 1 + 4 and m["epoch"][0] == 0 and m["epoch"][-1] == 1
        assert m["xy"]["length"] == m["frames"] * m["n"] * 2 * 2  # float16 codes
    assert sum(a["length"] for a in header["assets"].values()) > 0  # the decoders, for the final frame


def test_the_comparison_steps_give_the_measured_verdicts():
    at = guess(open_step(8))
    assert "**Path: share smudged**" in text(at) and "**VAE better**" in text(at)
    at = guess(open_step(9), choice=0)  # "The VAE": its 61.2 % beats 31.4 % beyond the noise
    assert "You predicted **The VAE**: right." in text(at)
    at = guess(open_step(10), choice=0)  # holes in its own region: VAE better; under N(0, I) a tie
    assert "You predicted **The VAE**: right." in text(at) and "Under N(0, I) the verdict changes" in text(at)
    table = at.dataframe[0].value
    assert list(table["verdict"])[:2] == ["tie", "VAE better"]


def test_your_turn_lands_a_digit_on_both_maps():
    at = open_step(N_STEPS)
    at.pills(key="lesson_pick").set_value("7").run()
    assert not at.exception
    assert any("rebuilt by the VAE" in c for c in captions(at))
    assert chart_titles(at) == ["VAE: your digit's cloud", "Autoencoder: one point"]
    assert "The VAE put it at μ = (" in text(at)


def test_the_lesson_offers_the_2d_models_and_keeps_a_choice():
    at = open_step(1)
    box = at.sidebar.selectbox(key="sidebar::vae")
    assert box.value == "mnist5k-vae-2" and any(o.startswith("mnist5k-beta0-2 ") for o in box.options)
    for name in ("mnist5k-beta0-2", "mnist5k-vae-2", "mnist5k-beta0-2"):
        at.sidebar.selectbox(key="sidebar::vae").select(name).run()
        assert not at.exception and at.sidebar.selectbox(key="sidebar::vae").value == name
        assert at.query_params["vae"] == name and at.query_params["step"] == "1"


def test_the_train_page_replays_the_chosen_pair_when_asked():
    """The Train page's "Watch a training again": nothing is sent until the toggle is on; then both models'
    frames, and what the replay shows read from its frames."""
    at = AppTest.from_file(str(Path(PAGE).parent / "1_Train.py"), default_timeout=120).run()
    assert not at.exception, at.exception
    assert not at.get("bidi_component"), "the replay is mounted only when asked for"
    at.toggle(key="train_replay").set_value(True).run()
    assert not at.exception, at.exception
    (component,) = at.get("bidi_component")
    header, _ = unpack_message(component.proto.bytes)
    assert [m["label"] for m in header["models"]] == ["VAE", "Autoencoder"]
    assert "of the VAE's test codes lie inside the 3σ circle" in text(at)
