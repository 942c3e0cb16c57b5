"""Every page as a class sees it, at a 1280x720 projector and a 390x844 phone: a screenshot of each into
artifacts/screenshots/, and a geometry check in the browser: no two images, captions or buttons overlap, none overflows
its column, no code block is cut off, and the main image is above the fold.

The geometry is asserted on every page (and printed; bench/bench_layout.py prints the same table without pytest).
Then the sidebar in the browser: Home -> Latent sliders shows the pad, and
switching the VAE A -> B -> A -> B keeps each choice without a warning or a console error.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.e2e.conftest import screenshot, wait_for_app
from ui.sidebar import app_pages

pytestmark = pytest.mark.browser

SIZES = {"projector": (1280, 720), "phone": (390, 844)}
SETTLED = """() => { const app = document.querySelector('[data-testid="stApp"]');
  return app && app.dataset.testConnectionState === 'CONNECTED' && app.dataset.testScriptState === 'notRunning'
    && !!document.querySelector('[data-testid="stMain"] [data-testid="stElementContainer"]'); }"""
FIRST_RUN_MS = 90_000  # a fresh server's first page imports torch and loads the models: slow on a busy CPU
# The page's things a student reads or clicks, shadow roots (our components) included; each with its box, its
# column's box, and whether its text is cut off inside it (a code block or formula scrolling sideways, a link label).
GEOMETRY = """() => {
  const main = document.querySelector('[data-testid="stMain"]');
  const SEL = '[data-testid="stImage"] img, [data-testid="stImageCaption"], [data-testid="stCaptionContainer"],'
    + ' button:not([data-testid="stBaseButton-elementToolbar"]), canvas:not(.js-plotly-plot canvas), figcaption, pre,'
    + ' .katex-display, [data-testid="stPageLink-NavLink"]';
  // Text cut off inside its box: a code block or a formula that scrolls sideways, a link label ending in "...".
  const TEXT = 'pre, .katex-display, [data-testid="stPageLink-NavLink"]';
  const wider = (n) => n.clientWidth > 0 && n.scrollWidth > n.clientWidth + 1;
  const cut = (e) => e.matches(TEXT) && (wider(e) || (e.matches('a') && [...e.querySelectorAll('*')].some(wider)));
  const shown = (e) => e.checkVisibility({ opacityProperty: true, visibilityProperty: true });
  const found = [];
  const walk = (root) => {
    root.querySelectorAll(SEL).forEach((e) => shown(e) && found.push(e));  // not inside a closed expander
    root.querySelectorAll('*').forEach((e) => e.shadowRoot && walk(e.shadowRoot));
  };
  walk(main);
  const boxOf = (e) => { const r = e.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; };
  const column = (e) => {
    for (let n = e; n; n = n.parentElement || (n.getRootNode() && n.getRootNode().host)) {
      if (n.dataset && (n.dataset.testid === 'stColumn' || n.dataset.testid === 'stMainBlockContainer')) return n;
    }
    return main;
  };
  const text = (e) => e.innerText || e.getAttribute('aria-label') || e.dataset.label || e.getAttribute('src') || '';
  const name = (e) => (e.dataset.testid || e.tagName.toLowerCase()) + ': ' + text(e).trim().slice(0, 50);
  return found.map((e) => ({ name: name(e), box: boxOf(e), column: boxOf(column(e)),
    cut: cut(e) }))
    .filter((t) => t.box[2] - t.box[0] > 1 && t.box[3] - t.box[1] > 1);
}"""


def settle(page, timeout: float = FIRST_RUN_MS) -> None:
    """Until the session is connected, its script run has ended and the page shows something (a fresh tab reports
    "not running" before its first run has even started; the lesson has no title, its step's name is in a bar)."""
    page.wait_for_function(SETTLED, timeout=timeout, polling=100)
    wait_for_app(page, timeout)


def problems(things: list[dict]) -> list[str]:
    """Overlaps (more than 2 px each way, one not inside the other), overflows (> 1 px past the column) and cuts."""
    out = []
    for t in things:
        (x0, _, x1, _), (c0, _, c1, _) = t["box"], t["column"]
        if x0 < c0 - 1 or x1 > c1 + 1:
            out.append(f"{t['name']!r} overflows its column ({x0:.0f}-{x1:.0f} vs {c0:.0f}-{c1:.0f})")
        if t["cut"]:
            out.append(f"{t['name']!r} is cut off (its text is wider than its box)")
    for i, a in enumerate(things):
        for b in things[i + 1 :]:
            (a0, a1, a2, a3), (b0, b1, b2, b3) = a["box"], b["box"]
            w, h = min(a2, b2) - max(a0, b0), min(a3, b3) - max(a1, b1)
            inside = (a0 >= b0 and a1 >= b1 and a2 <= b2 and a3 <= b3) or (
                b0 >= a0 and b1 >= a1 and b2 <= a2 and b3 <= a3
            )
            if w > 2 and h > 2 and not inside:
                out.append(f"{a['name']!r} overlaps {b['name']!r} by {w:.0f}x{h:.0f} px")
    return out


def fold(page, selector: str) -> float:
    """The lowest bottom edge (px from the top of the window) of the elements matching ``selector``."""
    return page.locator(selector).evaluate_all("els => Math.max(...els.map(e => e.getBoundingClientRect().bottom))")


@pytest.mark.parametrize("size", SIZES, ids=str)
def test_every_page_fits_without_overlaps_and_the_main_image_is_above_the_fold(browser, app_url, size):

    width, height = SIZES[size]
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    failures, measured = [], {}
    try:
        for script, _label in app_pages():
            path = "" if script == "app.py" else Path(script).stem.split("_", 1)[1]  # pages/3_Latent_sliders.py
            page.goto(f"{app_url}/{path}")
            settle(page)
            page.wait_for_timeout(800)  # images decode, components draw
            found = problems(page.evaluate(GEOMETRY))
            measured[path or "home"] = len(found)
            failures += [f"/{path} at {width}x{height}: {p}" for p in found]
            if path == "" and size == "projector":
                assert fold(page, '[data-testid="stImage"] img') <= height, "Home's prior samples are below the fold"
            if path == "Latent_sliders":
                pad = page.locator("canvas.lp-pad").first.bounding_box()
                assert pad["y"] < height - 100, f"the pad starts at {pad['y']:.0f} px, under the fold"
                if size == "projector":
                    assert fold(page, "canvas.lp-image") <= height, "both decoded images are above the fold"
            screenshot(page, f"layout-{size}-{path or 'home'}")
        print(f"geometry problems per page at {width}x{height}: {measured}")
        assert not failures, "\n".join(failures)
        assert not errors, errors
    finally:
        context.close()


def test_home_to_latent_sliders_shows_the_pad(page, app_url):
    page.goto(app_url + "/")
    settle(page)
    page.locator('[data-testid="stSidebar"] a[href$="Latent_sliders"]').click()
    page.wait_for_function("() => location.pathname.endsWith('/Latent_sliders')")
    page.locator("canvas.lp-pad").first.wait_for(timeout=60_000)
    settle(page)
    assert page.locator("canvas.lp-pad").count() == 2, "one pad per model"
    assert page.locator("canvas.lp-pad").first.is_visible()
    assert page.console_errors == [], page.console_errors


@pytest.mark.parametrize("path", ["Latent_sliders", "Latent_map"])
def test_switching_the_vae_back_and_forth_keeps_each_choice(page, app_url, path):
    page.goto(f"{app_url}/{path}")
    settle(page)
    box = page.get_by_label("VAE", exact=True)
    start = box.input_value().split(" ")[0]
    other = "mnist5k-vae-16" if start == "mnist5k-vae-2" else "mnist5k-vae-2"
    for name in (other, start, other, start):
        box.click()
        page.get_by_role("option", name=re.compile(rf"^{name} ")).click()
        page.wait_for_function("n => new URLSearchParams(location.search).get('vae') === n", arg=name)
        settle(page)
        assert box.input_value().startswith(f"{name} "), f"/{path}: the box snapped back from {name}"
        warnings = page.locator('[data-testid="stAlertContentWarning"]')
        assert warnings.count() == 0, warnings.first.inner_text()
    assert page.locator('[data-testid="stException"]').count() == 0
    assert page.console_errors == [], page.console_errors
