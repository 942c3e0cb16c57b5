"""The Upload page in a real Chromium: a PNG sent through the file input (with the server's XSRF protection on) is
rebuilt by both models, and a digit drawn on the canvas with the mouse is rebuilt too; the uploaded digit is a star
on both latent maps, and hovering around it decodes in the browser without a word to the server."""

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


READY = "() => window.__vaeLatentMap && window.__vaeLatentMap.current && window.__vaeLatentMap.stats.firstMapAt"
NEXT_FRAME = "() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))"
# The star of a map: its mark, where it is in the page, and the canvas pixel there (RGBA, device pixels).
STAR = """(role) => {
  const LM = window.__vaeLatentMap, v = LM.current.views.find((w) => w.model.role === role);
  const mark = v.model.marks.find((m) => m.kind === "code"), at = LM.clientPoint(role, mark.x, mark.y);
  const box = v.canvas.getBoundingClientRect(), dpr = window.devicePixelRatio;
  const rgba = v.canvas.getContext("2d").getImageData(Math.round((at.x - box.left) * dpr),
    Math.round((at.y - box.top) * dpr), 1, 1).data;
  return { mark, at, rgba: Array.from(rgba), box: { left: box.left, top: box.top, right: box.right,
    bottom: box.bottom } };
}"""


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
    _wait_for_plots(pg, 1)  # q(z|x) up close (where it lands is the latent map component)

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
    _wait_for_plots(pg, 2)  # the drawing has its own report
    assert pg.locator("canvas.mc-map").count() == 4, "and its own maps: two images, two maps each"

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


def test_the_uploaded_digit_is_a_star_on_both_maps_and_hovering_beside_it_decodes_in_the_browser(page, app_url):
    pg = page
    sent: list[int] = []
    pg.on("websocket", lambda ws: ws.on("framesent", lambda frame: sent.append(len(frame))))
    pg.goto(app_url + "/Upload?dataset=mnist5k&vae=mnist5k-vae-2&ae=mnist5k-ae-2")  # 2-D: each map is the plane
    wait_for_app(pg)
    file_input = pg.locator('[data-testid="stFileUploader"] input[type="file"]').first
    file_input.set_input_files({"name": "my-seven.png", "mimeType": "image/png", "buffer": _digit_png()})
    pg.wait_for_function(READY, timeout=30_000)
    wait_for_app(pg)
    vae_map = pg.locator('section[data-role="vae"] canvas.mc-map')
    vae_map.scroll_into_view_if_needed()
    pg.evaluate(NEXT_FRAME)

    stars = {role: pg.evaluate(STAR, role) for role in ("vae", "ae")}
    for role, star in stars.items():
        r, g, b, _ = star["rgba"]
        assert r > 200 and g > 170 and b < 90, f"{role}: the pixel at the star is {star['rgba']}, not gold"
        box, at = star["box"], star["at"]
        assert box["left"] < at["x"] < box["right"] and box["top"] < at["y"] < box["bottom"], "the star is in view"
        assert star["mark"]["label"] == "your image"
    name = vae_map.get_attribute("aria-label")
    assert "A star marks your image at" in name and "press Enter to hold it" in name, name

    at_rest = pg.evaluate("() => window.__vaeLatentMap.inspect('vae')")
    assert at_rest["caption"] == "on your image", "before any hover, the decoded image is the digit's own code's"
    sent.clear()
    vae_image = pg.locator('canvas.mc-image[data-role="vae"]')
    before = vae_image.evaluate("c => Array.from(c.getContext('2d').getImageData(0, 0, 28, 28).data)")
    star = stars["vae"]
    pg.mouse.move(star["at"]["x"] + 24, star["at"]["y"] - 10)  # beside the digit, off the star
    pg.evaluate(NEXT_FRAME)
    shown = pg.evaluate("() => window.__vaeLatentMap.inspect('vae')")
    assert shown["caption"].startswith("under the cursor") and "your image" not in shown["caption"]
    assert shown["code"] == pytest.approx(shown["probe"], abs=1e-5), "on the latent plane the place is the code"
    assert vae_image.evaluate("c => Array.from(c.getContext('2d').getImageData(0, 0, 28, 28).data)") != before
    pg.mouse.move(star["at"]["x"], star["at"]["y"])  # on the star: each map decodes its own code of the image
    pg.evaluate(NEXT_FRAME)
    pg.wait_for_function("() => window.__vaeLatentMap.inspect('ae').caption.startsWith('on your image')")
    vae = pg.evaluate("() => window.__vaeLatentMap.inspect('vae')")
    assert vae["caption"] == "under the cursor, on your image"
    assert vae["code"] == pytest.approx(stars["vae"]["mark"]["code"], abs=1e-6), "the image's own code, decoded"
    ae = pg.evaluate("() => window.__vaeLatentMap.inspect('ae')")
    assert ae["probe"] == pytest.approx([stars["ae"]["mark"]["x"], stars["ae"]["mark"]["y"]], abs=1e-5)
    assert ae["code"] == pytest.approx(stars["ae"]["mark"]["code"], abs=1e-6), "the autoencoder's code of it"
    pg.mouse.click(star["at"]["x"] + 24, star["at"]["y"] - 10)  # a click holds the place, and tells no one
    pg.wait_for_timeout(300)
    assert sent == [], f"hovering and clicking sent {len(sent)} websocket messages"
    assert pg.console_errors == []
