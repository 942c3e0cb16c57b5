"""The Upload page in a real Chromium: a PNG sent through the file input (with the server's XSRF protection on) is
rebuilt by both models, and a digit drawn on the canvas with the mouse is rebuilt too."""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageDraw

from tests.e2e.conftest import screenshot, wait_for_app

pytestmark = pytest.mark.browser


def _digit_png() -> bytes:
    img = Image.new("L", (240, 240), 250)
    ImageDraw.Draw(img).line([(80, 50), (165, 50), (110, 200)], fill=15, width=18)  # a 7, dark on paper
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def _wait_for_plots(pg, n: int) -> None:
    """Plotly draws asynchronously: wait until exactly ``n`` figures are on the page."""
    pg.wait_for_function("n => document.querySelectorAll('.js-plotly-plot').length >= n", arg=n, timeout=30_000)
    assert pg.locator(".js-plotly-plot").count() == n


def test_upload_and_draw(page, app_url):
    pg = page
    errors = page.console_errors  # console errors and page exceptions (conftest)
    pg.goto(app_url + "/Upload?dataset=mnist5k&vae=mnist5k-vae-2&ae=mnist5k-ae-2")  # 2-D: ellipses and close-up
    wait_for_app(pg)

    # 1. A PNG through the browser's own file input.
    file_input = pg.locator('[data-testid="stFileUploader"] input[type="file"]').first
    file_input.set_input_files({"name": "my-seven.png", "mimeType": "image/png", "buffer": _digit_png()})
    pg.get_by_text("my-seven.png", exact=False).last.wait_for(timeout=30_000)
    pg.get_by_text("Autoencoder reconstruction").first.wait_for(timeout=30_000)
    wait_for_app(pg)
    assert pg.get_by_text("VAE reconstruction", exact=True).count() >= 1
    _wait_for_plots(pg, 3)  # where it lands on both maps, and q(z|x) up close

    # 2. A digit drawn on the canvas with the mouse.
    canvas = pg.locator("canvas.dc-canvas")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    assert box and box["width"] >= 200
    x0, y0 = box["x"], box["y"]
    pg.mouse.move(x0 + 90, y0 + 60)
    pg.mouse.down()
    for x, y in [(150, 60), (200, 60), (170, 130), (140, 200), (125, 240)]:  # a 7, in several moves
        pg.mouse.move(x0 + x, y0 + y, steps=6)
    pg.mouse.up()
    pg.get_by_text("Your drawing").first.wait_for(timeout=30_000)
    wait_for_app(pg)
    assert pg.get_by_text("Draw a digit on the black square").count() == 0
    _wait_for_plots(pg, 6)  # the drawing has its own report

    # 3. Clear empties the canvas and the drawing's report goes away.
    pg.set_viewport_size({"width": 1400, "height": 3800})  # Streamlit scrolls inside the page: show it all
    pg.mouse.move(5, 5)  # no hover toolbars in the picture
    pg.evaluate("document.querySelectorAll('*').forEach(e => { if (e.scrollTop) e.scrollTop = 0; })")
    pg.wait_for_timeout(1000)
    screenshot(pg, "upload")
    pg.set_viewport_size({"width": 1400, "height": 1000})
    pg.locator("button.dc-clear").click()
    pg.get_by_text("Draw a digit on the black square").first.wait_for(timeout=30_000)
    assert errors == []
