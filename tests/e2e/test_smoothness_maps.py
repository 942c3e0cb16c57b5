"""The Smoothness page's validity maps in a real Chromium: each map's background is the classifier's confidence grid,
painted cell for cell where vae_core placed it (a dark cell dark, a bright cell bright, in the ramp's own colours);
its legend toggle hides it; and hovering a dark region decodes there in the browser, with no websocket message."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.e2e.conftest import screenshot, wait_for_app
from ui.map_layers import CONFIDENCE_RAMP, ramp_colour
from vae_core.evaluation.results import read_scores

pytestmark = pytest.mark.browser

CHECKPOINTS = Path(__file__).resolve().parents[2] / "checkpoints"
PAGE = "/Smoothness?dataset=mnist5k&vae=mnist5k-vae-2&ae=mnist5k-ae-2"
READY = """() => { const LM = window.__vaeLatentMap, live = LM ? [...LM.live] : [];  // both mounts, every map drawn
  return live.length >= 2 && live.every((i) => i.views.length && i.views.every((v) => v.code)); }"""
NEXT_FRAME = "() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))"
PIXEL = """(c, [x, y]) => { const r = c.getBoundingClientRect(), d = window.devicePixelRatio;
  return Array.from(c.getContext('2d').getImageData(Math.round((x - r.left) * d), Math.round((y - r.top) * d), 1, 1)
    .data).slice(0, 3); }"""


def cell(vmap, dark: bool) -> tuple[float, float, float]:
    """The centre (x, y) and confidence of a dark (< 0.35: a 10-class classifier is never below 0.1) or bright
    (> 0.97) cell nearest the grid's middle."""
    conf = vmap.confidence
    rows, cols = np.nonzero(conf < 0.35 if dark else conf > 0.97)
    mid = (len(vmap.ys) - 1) / 2
    k = np.argmin((rows - mid) ** 2 + (cols - mid) ** 2)
    return float(vmap.xs[cols[k]]), float(vmap.ys[rows[k]]), float(conf[rows[k], cols[k]])


def test_the_background_is_painted_cell_for_cell_and_hovering_a_smudge_decodes_it_silently(page, app_url):
    errors, sent = page.console_errors, []
    page.on("websocket", lambda ws: ws.on("framesent", lambda frame: sent.append(len(frame))))
    page.goto(app_url + PAGE)
    wait_for_app(page, timeout=90_000)
    page.wait_for_function(READY, timeout=60_000)
    ae_map = page.locator('section[data-role="ae"] canvas.mc-map')
    ae_map.scroll_into_view_if_needed()
    root = page.locator(".mc-root", has=ae_map)
    legend = root.locator("button.mc-toggle")
    layer = legend.filter(has_text="confidence")
    assert layer.count() == 1 and "a smudge" in layer.inner_text()
    for i in range(legend.count()):  # hide the dots, thumbnails and circles: only the background is left
        if legend.nth(i) != layer and "confidence" not in legend.nth(i).inner_text():
            legend.nth(i).click()
    page.evaluate(NEXT_FRAME)
    vmap = read_scores(CHECKPOINTS / "mnist5k-ae-2.safetensors").validity_map
    cells = {dark: cell(vmap, dark) for dark in (True, False)}

    def client(dark: bool) -> tuple[float, float]:  # where a cell's centre is on the page now (clicks scroll it)
        p = page.evaluate("([x, y]) => window.__vaeLatentMap.clientPoint('ae', x, y)", list(cells[dark][:2]))
        return p["x"], p["y"]

    for dark, (_, _, conf) in cells.items():
        want = ramp_colour(CONFIDENCE_RAMP, round(conf * 255) / 255)
        got = ae_map.evaluate(PIXEL, client(dark))
        assert np.abs(np.subtract(got, want)).max() <= 3, ("dark" if dark else "bright", conf, got, want)
    dark, bright = (sum(ae_map.evaluate(PIXEL, client(d))) for d in (True, False))
    assert dark < bright / 2, "a smudge's cell is dark, a confident digit's bright"
    screenshot(page, "smoothness_validity_background")
    layer.click()  # the legend's toggle hides the background: the panel's own colour shows through
    page.evaluate(NEXT_FRAME)
    hidden = ae_map.evaluate(PIXEL, client(True))
    assert sum(hidden) > 500, hidden
    layer.click()
    page.evaluate(NEXT_FRAME)
    sent.clear()
    before = page.evaluate("() => window.__vaeLatentMap.inspect('ae').image")
    page.mouse.move(*client(False))
    page.evaluate(NEXT_FRAME)
    page.mouse.move(*client(True))  # into the dark region
    page.evaluate(NEXT_FRAME)
    shown = page.evaluate("() => window.__vaeLatentMap.inspect('ae')")
    x, y, conf = cells[True]
    step = float(vmap.xs[1] - vmap.xs[0])
    assert np.abs(np.subtract(shown["code"], [x, y])).max() < step, "the code of that cell (a 2-D latent: the place)"
    assert shown["caption"] == f"under the cursor; confidence {round(conf * 255) / 255:.2f}", shown["caption"]
    assert shown["image"] != before
    vae = page.evaluate("() => window.__vaeLatentMap.inspect('vae')")
    assert vae["caption"].startswith("at the same place; confidence"), "the VAE decodes beside it, with its own"
    assert sent == [], f"hovering sent {len(sent)} websocket messages"
    assert not errors, errors


@pytest.mark.parametrize("size", [(1280, 720), (390, 844)], ids=["projector", "phone"])
def test_the_page_with_its_maps_has_nothing_overlapping_or_cut_off(browser, app_url, size):
    """The geometry check of tests/e2e/test_layout.py on this page, the maps' canvases, legend and captions included
    (they are in the component's shadow root): no two overlap, none leaves its column."""
    from tests.e2e.test_layout import GEOMETRY, problems

    context = browser.new_context(viewport={"width": size[0], "height": size[1]})
    page = context.new_page()
    try:
        page.goto(app_url + PAGE)
        wait_for_app(page, timeout=90_000)
        page.wait_for_function(READY, timeout=60_000)
        things = page.evaluate(GEOMETRY)
        assert sum(t["name"].startswith("canvas") for t in things) >= 6, "3 maps and their 3 decoded images measured"
        assert problems(things) == []
        screenshot(page, f"smoothness-{size[0]}x{size[1]}")
    finally:
        context.close()
