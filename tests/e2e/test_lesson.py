"""The lesson in a real Chromium at 1280x720, walked with the keyboard alone: at every step the answer stays hidden
until the prediction is made, the URL names the step and reopens it, the replay plays in the browser, and nothing
goes to the console. A screenshot of every step (after its reveal) lands in artifacts/screenshots/."""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import ARTIFACTS, wait_for_app

pytestmark = pytest.mark.browser

N_STEPS = 11
REVEAL = "You predicted"
ACTIVE = """() => {
  let e = document.activeElement;
  while (e && e.shadowRoot && e.shadowRoot.activeElement) e = e.shadowRoot.activeElement;  // into components
  const group = e && e.closest('[data-testid="stButtonGroup"]');
  return {
    tag: e ? e.tagName : null,
    text: e ? (e.innerText || e.textContent || '').trim().slice(0, 40) : '',
    prediction: Boolean(group && group.parentElement.innerText.includes('Predict:')),
  };
}"""


@pytest.fixture
def projector(browser):
    """A 1280x720 page (a projector) that records console errors, like the suite's ``page`` fixture."""
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    pg = context.new_page()
    errors: list[str] = []
    sent: list[int] = []  # one entry per websocket message the page sends to the server

    def on_console(m) -> None:  # the two 404s of Streamlit's own sub-page probes are not the app's
        if m.type == "error" and "/_stcore/" not in (m.location or {}).get("url", ""):
            errors.append(m.text)

    pg.on("console", on_console)
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.on("websocket", lambda ws: ws.on("framesent", lambda _payload: sent.append(1)))
    pg.console_errors, pg.ws_sent = errors, sent  # type: ignore[attr-defined]
    yield pg
    context.close()


def progress(pg) -> str:
    return pg.get_by_test_id("stProgress").inner_text()


def press(pg, key: str, until, tries: int = 12) -> dict:
    """Press ``key`` until ``until(active element)`` holds; fail if it never does (keyboard only, no clicks)."""
    for _ in range(tries):
        pg.keyboard.press(key)
        active = pg.evaluate(ACTIVE)
        if until(active):
            return active
    pytest.fail(f"{key} never reached the element (last: {active})")


def to_main(pg) -> None:
    """Tab to Streamlit's 'Skip to main content' link and follow it, past the sidebar's links and boxes."""
    press(pg, "Tab", lambda a: a["text"] == "Skip to main content")
    pg.keyboard.press("Enter")


def revealed(pg) -> bool:
    return pg.get_by_text(REVEAL).count() > 0


def test_the_lesson_walks_by_keyboard_hides_each_answer_and_reopens_from_its_url(app_url, projector):
    pg = projector
    pg.goto(f"{app_url}/Lesson")
    wait_for_app(pg, timeout=120_000)
    for step in range(1, N_STEPS + 1):
        pg.wait_for_function(f"() => document.body.innerText.includes('Step {step} of {N_STEPS}')", timeout=60_000)
        wait_for_app(pg, timeout=120_000)
        assert re.search(rf"[?&]step={step}\b", pg.url), pg.url
        to_main(pg)
        if step < N_STEPS:  # every step but "your turn" asks for a prediction first
            assert not revealed(pg), f"step {step} shows its answer before the prediction"
            press(pg, "Tab", lambda a: a["prediction"])
            pg.keyboard.press("Space")
            pg.get_by_text(REVEAL).first.wait_for(timeout=60_000)
            wait_for_app(pg, timeout=120_000)
        if step == 7:
            check_replay_plays(pg)
        pg.screenshot(path=str(ARTIFACTS / f"lesson_step{step:02d}_1280x720.png"))
        if step < N_STEPS:
            to_main(pg)
            press(pg, "Tab", lambda a: a["text"].startswith("Next"))
            pg.keyboard.press("Enter")
    assert pg.get_by_role("button", name=re.compile("Next")).is_disabled()
    to_main(pg)
    pg.keyboard.press("ArrowLeft")  # the arrow keys turn the page too
    pg.wait_for_function(f"() => document.body.innerText.includes('Step {N_STEPS - 1} of {N_STEPS}')", timeout=60_000)
    assert f"step={N_STEPS - 1}" in pg.url

    pg.goto(f"{app_url}/Lesson?step=6")  # a shared link opens the same step, its prediction not yet made
    wait_for_app(pg, timeout=120_000)
    assert "Step 6 of 11" in progress(pg)
    assert pg.console_errors == []


def check_replay_plays(pg) -> None:
    """Step 7: Play (by keyboard) runs the replay in the browser, frame after frame, with no message to the server."""
    pg.locator(".rp-map").first.wait_for(timeout=60_000)
    press(pg, "Tab", lambda a: a["text"].endswith("Play"), tries=30)
    before = pg.evaluate("() => globalThis.__vaeReplay.stats.paints")
    label = pg.locator(".rp-time").inner_text()
    messages = len(pg.ws_sent)
    pg.keyboard.press("Space")
    pg.wait_for_timeout(1500)
    assert pg.evaluate("() => globalThis.__vaeReplay.stats.paints") - before > 10
    assert pg.locator(".rp-time").inner_text() != label
    pg.keyboard.press("Space")  # pause, so the screenshot shows a moment of training
    assert len(pg.ws_sent) == messages, "the replay sent messages to the server while playing"
