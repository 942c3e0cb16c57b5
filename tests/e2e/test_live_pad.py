"""The live latent pad in a real Chromium: it draws, it morphs *during* a drag (no server involved), it reports z
when the user lets go, the weights are not resent on that rerun, and its JavaScript decoder matches torch."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
import torch

from tests.e2e.conftest import screenshot, wait_for_app
from vae_core.export import export_decoder
from vae_core.store.catalog import scan_checkpoints
from vae_core.store.checkpoints import load_checkpoint

pytestmark = pytest.mark.browser

DECODER_JS = Path(__file__).resolve().parents[2] / "ui" / "live_pad_decoder.js"
PAGE = "/Latent_sliders?vae=mnist5k-vae-2&ae=mnist5k-ae-2&mode=live&show=mean&z=-2.0,2.0&z_ae=0.0,0.0"
PIXELS = "c => Array.from(c.getContext('2d').getImageData(0, 0, 28, 28).data.filter((_, i) => i % 4 === 0))"
NEXT_FRAMES = "() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))"


def _code_from_url(url: str) -> list[float]:
    query = dict(p.split("=", 1) for p in url.split("?", 1)[1].split("&"))
    return [float(v) for v in query["z"].replace("%2C", ",").split(",")]


def test_dragging_the_pad_morphs_the_image_live_and_the_page_follows_on_release(page, app_url):
    errors = page.console_errors  # console errors and page exceptions (conftest)
    received: list[int] = []
    page.on("websocket", lambda ws: ws.on("framereceived", lambda frame: received.append(len(frame))))
    page.goto(app_url + PAGE)
    wait_for_app(page)
    page.wait_for_function("() => window.__vaeLivePad && window.__vaeLivePad.stats.paints >= 2", timeout=30_000)
    assert page.locator("canvas.lp-image").count() == 2 and page.locator("canvas.lp-pad").count() == 2
    assert sum(received) > 500_000, "the first load carries both decoders' weights"

    image = page.locator('canvas.lp-image[data-label="VAE"]')
    box = page.locator('section[data-label="VAE"] canvas.lp-pad').bounding_box()
    before, url_before = image.evaluate(PIXELS), page.url
    decodes_before = page.evaluate("() => window.__vaeLivePad.stats.decodes")
    page.mouse.move(box["x"] + 0.2 * box["width"], box["y"] + 0.2 * box["height"])
    page.mouse.down()
    page.mouse.move(box["x"] + 0.6 * box["width"], box["y"] + 0.7 * box["height"], steps=12)
    page.evaluate(NEXT_FRAMES)
    during = image.evaluate(PIXELS)
    assert during != before, "the image must change while the mouse is still down"
    assert page.evaluate("() => window.__vaeLivePad.stats.decodes") > decodes_before
    assert page.url == url_before, "nothing went to the server during the drag"

    received.clear()
    page.mouse.move(box["x"] + 0.85 * box["width"], box["y"] + 0.9 * box["height"], steps=6)
    page.evaluate(NEXT_FRAMES)
    shown = [float(v) for v in page.locator('section[data-label="VAE"] output.lp-value').all_inner_texts()]
    page.mouse.up()
    page.wait_for_function(f"() => location.href !== {json.dumps(url_before)}", timeout=20_000)
    wait_for_app(page)
    z = _code_from_url(page.url)
    assert z == pytest.approx(shown, abs=0.006), "Python got the z the pad showed when the mouse was released"
    caption = page.get_by_text(re.compile(r"^VAE: the 8 test images with codes nearest to z")).inner_text()
    in_caption = [float(v) for v in re.search(r"z = \(([-\d.]+), ([-\d.]+)\)", caption).groups()]
    assert in_caption == pytest.approx(z, abs=0.006), "the nearest-images row follows the released z"
    assert sum(received) < 200_000, f"the rerun after release must not resend the weights ({sum(received)} bytes)"

    page.set_viewport_size({"width": 1400, "height": 2400})
    page.wait_for_timeout(500)
    screenshot(page, "latent_sliders")
    assert not errors, errors


def _shipped_by_latent_dim() -> dict[int, Path]:
    out: dict[int, Path] = {}
    for info in scan_checkpoints():
        if info.shipped and info.latent_dim not in out:
            out[info.latent_dim] = info.path
    return out


def test_the_browser_decoder_matches_torch_for_every_shipped_decoder_shape(page):
    errors = page.console_errors  # console errors and page exceptions (conftest)
    shipped = _shipped_by_latent_dim()
    assert {2, 8, 16} <= set(shipped), f"expected shipped decoders with latent dims 2, 8 and 16: {sorted(shipped)}"
    rng = np.random.default_rng(0)
    payloads, codes, want = [], [], []
    for dim in (2, 8, 16):
        model = load_checkpoint(shipped[dim]).model
        z = (rng.standard_normal((4, dim)) * 1.5).astype(np.float32)
        with torch.no_grad():
            want.append(model.decoder_mean(torch.from_numpy(z))[:, 0].reshape(4, -1).numpy())
        payloads.append(export_decoder(model, shipped[dim].stem).to_json())
        codes.append(z.tolist())
    page.goto("about:blank")
    got = page.evaluate(
        """async ([src, payloads, codes]) => {
            const url = URL.createObjectURL(new Blob([src], {type: "text/javascript"}));
            await import(url);
            const LP = window.__vaeLivePad;
            return payloads.map((p, i) => {
                const key = LP.register({decoder: p});
                return {mean: codes[i].map((z) => LP.decode(key, z)), sample: LP.decode(key, codes[i][0], true, 3)};
            });
        }""",
        [DECODER_JS.read_text(encoding="utf-8"), payloads, codes],
    )
    for dim, expected, result in zip((2, 8, 16), want, got, strict=True):
        diff = np.abs(np.array(result["mean"]) - expected).max()
        assert diff < 1e-4, f"latent dim {dim}: the browser's image differs from torch's by {diff:.2e}"
        assert set(result["sample"]) <= {0.0, 1.0}, "a Bernoulli sample x ~ p(x|z) has pixels 0 or 1"
    assert not errors, errors
