"""The latent map component in a real Chromium: hovering decodes under the cursor on every frame without a word to
the server, the other map rings the same test image, a click pins a place that the URL keeps, zooming keeps hover
honest, and the browser's code and image equal vae_core's and torch's for the same place."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlparse

import numpy as np
import pytest
import torch

from tests.e2e.conftest import ARTIFACTS, screenshot, wait_for_app
from vae_core.latent.codes import load_latents
from vae_core.latent.map_decoding import LatentMap
from vae_core.store.checkpoints import load_checkpoint

pytestmark = pytest.mark.browser

CHECKPOINTS = Path(__file__).resolve().parents[2] / "checkpoints"
PAGE = "/Latent_map?vae=mnist5k-vae-16&ae=mnist5k-ae-16&map={map}"
READY = "() => window.__vaeLatentMap && window.__vaeLatentMap.current && window.__vaeLatentMap.stats.firstMapAt"
PIXELS = "c => Array.from(c.getContext('2d').getImageData(0, 0, 28, 28).data.filter((_, i) => i % 4 === 0))"
NEXT_FRAME = "() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))"
# A test image whose dot stands alone on the VAE's map (no other within 12 px): hovering it is on that image.
LONE_IMAGE = """() => {
  const v = window.__vaeLatentMap.current.views[0], p = v.data.points, n = v.data.n, r = 12 / v.cam.s;
  const inside = (i) => { const [x, y] = [p[2 * i], p[2 * i + 1]];
    return Math.abs(x - v.cam.cx) * v.cam.s < v.size * 0.4 && Math.abs(y - v.cam.cy) * v.cam.s < v.size * 0.4; };
  for (let i = 0; i < n; i++) {
    if (!inside(i)) continue;
    let alone = true;
    for (let j = 0; j < n && alone; j++)
      if (j !== i && Math.hypot(p[2 * i] - p[2 * j], p[2 * i + 1] - p[2 * j + 1]) < r) alone = false;
    if (alone) return i;
  }
  return -1;
}"""


def _open(page, app_url: str, method: str = "pca", extra: str = "") -> list[int]:
    """Open the page; returns a list that collects the sizes of websocket messages the browser sends from now on."""
    sent: list[int] = []
    page.on("websocket", lambda ws: ws.on("framesent", lambda frame: sent.append(len(frame))))
    page.goto(app_url + PAGE.format(map=method) + extra)
    wait_for_app(page, timeout=90_000)
    page.wait_for_function(READY, timeout=60_000)
    return sent


def _client(page, role: str, xy) -> tuple[float, float]:
    p = page.evaluate("([r, x, y]) => window.__vaeLatentMap.clientPoint(r, x, y)", [role, float(xy[0]), float(xy[1])])
    return p["x"], p["y"]


def _inspect(page, role: str) -> dict:
    return page.evaluate("(r) => window.__vaeLatentMap.inspect(r)", role)


def _query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlparse(url).query).items()}


def _map(name: str, method: str) -> tuple[LatentMap, torch.nn.Module]:
    """The map the page shows for a shipped checkpoint (PCA, or the precomputed t-SNE), and the model."""
    path = CHECKPOINTS / f"{name}.safetensors"
    arrays = load_latents(path)
    points = None if method == "pca" else arrays["tsne"]
    return LatentMap(method).fit(arrays["mu"], points), load_checkpoint(path).model


def test_hover_decodes_on_every_frame_without_any_message_to_the_server(page, app_url):
    errors = page.console_errors
    sent = _open(page, app_url)
    vae_image = page.locator('canvas.mc-image[data-role="vae"]')
    ae_image = page.locator('canvas.mc-image[data-role="ae"]')
    box = page.locator('section[data-role="vae"] canvas.mc-map').bounding_box()
    sent.clear()
    seen_vae, seen_ae = [vae_image.evaluate(PIXELS)], [ae_image.evaluate(PIXELS)]
    for i in range(8):  # one pointer move per frame, across the map
        page.mouse.move(box["x"] + box["width"] * (0.2 + 0.08 * i), box["y"] + box["height"] * (0.3 + 0.05 * i))
        page.evaluate(NEXT_FRAME)
        seen_vae.append(vae_image.evaluate(PIXELS))
        seen_ae.append(ae_image.evaluate(PIXELS))
    assert all(a != b for a, b in zip(seen_vae, seen_vae[1:], strict=False)), "the VAE's image changes every frame"
    assert all(a != b for a, b in zip(seen_ae, seen_ae[1:], strict=False)), "so does the autoencoder's, beside it"
    assert _inspect(page, "vae")["caption"].startswith("under the cursor")
    assert page.evaluate("() => !!window.__vaeLatentMap.worker"), "the autoencoder's image is decoded in a worker"
    alt = vae_image.get_attribute("aria-label")
    assert alt and alt.startswith("VAE: image decoded"), alt
    vae_map = page.locator('section[data-role="vae"] canvas.mc-map')
    name = vae_map.get_attribute("aria-label")
    assert name.startswith("VAE latent map (PCA) of 500 test images"), name
    vae_map.focus()  # the keyboard moves the probe too
    before = _inspect(page, "vae")["probe"]
    page.keyboard.press("ArrowRight")
    page.evaluate(NEXT_FRAME)  # keys within one frame coalesce: the next frame decodes the latest
    page.keyboard.press("ArrowUp")
    page.evaluate(NEXT_FRAME)
    after = _inspect(page, "vae")["probe"]
    assert after[0] > before[0] and after[1] > before[1], (before, after)
    assert vae_image.evaluate(PIXELS) != seen_vae[-1]
    assert sent == [], f"hovering sent {len(sent)} websocket messages"
    assert not errors, errors


def test_hovering_a_test_image_rings_it_in_the_other_map(page, app_url):
    _open(page, app_url)
    i = page.evaluate(LONE_IMAGE)
    assert i >= 0
    ae_map = page.locator('section[data-role="ae"] canvas.mc-map')
    ae_xy = page.evaluate("(i) => window.__vaeLatentMap.testImage('ae', i)", i)
    ring_at = _client(page, "ae", ae_xy)
    box = ae_map.bounding_box()
    dpr = page.evaluate("() => window.devicePixelRatio")
    around = f"""c => {{ const d = c.getContext('2d').getImageData({round((ring_at[0] - box["x"] - 12) * dpr)},
        {round((ring_at[1] - box["y"] - 12) * dpr)}, {round(24 * dpr)}, {round(24 * dpr)}).data;
        return Array.from(d); }}"""
    before = ae_map.evaluate(around)
    page.mouse.move(*_client(page, "vae", page.evaluate("(i) => window.__vaeLatentMap.testImage('vae', i)", i)))
    page.evaluate(NEXT_FRAME)
    caption = "(i) => window.__vaeLatentMap.inspect('ae').caption.includes(`test image #${i} `)"
    page.wait_for_function(caption, arg=i, timeout=5_000)  # the worker paints the autoencoder's image
    ae = _inspect(page, "ae")
    assert ae["linked"] == i, "the hovered test image is the linked one"
    assert ae["probe"] == pytest.approx(ae_xy, abs=1e-5), "the autoencoder decodes where that image lies on its map"
    assert f"test image #{i}" in ae["caption"]
    assert ae_map.evaluate(around) != before, "a ring is drawn around the same image on the autoencoder's map"
    label = page.evaluate("(i) => window.__vaeLatentMap.current.className(i)", i)
    legend = page.locator(".mc-legend button", has_text=label).first
    legend.click()  # hide that class: its images can no longer be hovered
    assert legend.get_attribute("aria-pressed") == "false"
    page.mouse.move(*_client(page, "vae", page.evaluate("(i) => window.__vaeLatentMap.testImage('vae', i)", i)))
    page.evaluate(NEXT_FRAME)
    assert _inspect(page, "ae")["linked"] == -1


def test_a_click_pins_the_place_and_the_url_keeps_it(page, app_url):
    errors = page.console_errors
    _open(page, app_url)
    vae = page.locator('section[data-role="vae"] canvas.mc-map')
    box = vae.bounding_box()
    x, y = box["x"] + 0.06 * box["width"], box["y"] + 0.08 * box["height"]  # the corner: the plane, not an image
    page.mouse.click(x, y)
    page.wait_for_function("() => new URLSearchParams(location.search).get('vae_at')", timeout=30_000)
    wait_for_app(page)
    at = _query(page.url)["vae_at"]
    assert "," in at, f"a click on the plane pins a place x,y (got {at})"
    page.get_by_text("PCA inverse transform", exact=False).first.wait_for(timeout=20_000)  # the details follow
    pinned = [float(v) for v in at.split(",")]

    page.goto(page.url)  # the shared link reproduces the pin
    wait_for_app(page)
    page.wait_for_function(READY, timeout=60_000)
    shown = _inspect(page, "vae")
    assert shown["pin"]["xy"] == pytest.approx(pinned) and shown["caption"] == "at the pinned place"
    assert "xy" not in (_inspect(page, "ae")["pin"] or {}), "a place belongs to the map that was clicked"

    i = page.evaluate(LONE_IMAGE)
    page.mouse.click(*_client(page, "vae", page.evaluate("(i) => window.__vaeLatentMap.testImage('vae', i)", i)))
    page.wait_for_function(f"() => new URLSearchParams(location.search).get('ae_at') === '{i}'", timeout=30_000)
    wait_for_app(page)
    assert _query(page.url)["vae_at"] == str(i), "a test image is pinned in both maps"
    page.get_by_text(f"Test image #{i} (label", exact=False).first.wait_for(timeout=20_000)
    assert not errors, errors


def test_zoom_and_pan_then_hover_still_decodes_the_place_under_the_cursor(page, app_url):
    sent = _open(page, app_url)
    box = page.locator('section[data-role="vae"] canvas.mc-map').bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    sent.clear()
    page.mouse.move(cx + 30, cy - 20)
    for _ in range(3):
        page.mouse.wheel(0, -240)  # zoom in around the pointer
        page.wait_for_timeout(50)
    page.mouse.down()
    page.mouse.move(cx - 20, cy + 10, steps=8)  # and pan
    page.mouse.up()
    scale = page.evaluate("() => window.__vaeLatentMap.current.views[0].cam.s")
    assert scale > page.evaluate("() => window.__vaeLatentMap.current.views[1].cam.s") * 1.5, "the VAE map zoomed"
    lmap, _ = _map("mnist5k-vae-16", "pca")
    place = lmap.points_[:50].mean(axis=0) + np.array([0.3, -0.2])
    page.mouse.move(*_client(page, "vae", place))
    page.evaluate(NEXT_FRAME)
    shown = _inspect(page, "vae")
    assert shown["probe"] == pytest.approx(place, abs=1.0 / scale), "the probe is where the pointer is, in map units"
    assert np.abs(np.array(shown["code"]) - lmap.code_at(np.array(shown["probe"]))).max() < 1e-5
    assert _query(page.url).get("vae_at") is None and sent == [], "zooming, panning and hovering sent nothing"


@pytest.mark.parametrize("method", ["pca", "tsne"])
def test_the_browser_decodes_the_place_as_vae_core_and_torch_do(page, app_url, method):
    _open(page, app_url, method)
    lmap, model = _map("mnist5k-vae-16", method)
    lo, hi = lmap.bounds(0.0)
    place = lo + np.array([0.37, 0.61]) * (hi - lo)  # somewhere inside the map
    page.mouse.move(*_client(page, "vae", place))
    page.evaluate(NEXT_FRAME)
    shown = _inspect(page, "vae")
    code = lmap.code_at(np.array(shown["probe"]))  # PCA: exact; t-SNE: the weighted mean of the nearest codes
    assert np.abs(np.array(shown["code"]) - code).max() < 1e-5
    with torch.no_grad():
        want = model.decoder_mean(torch.from_numpy(np.array(shown["code"], dtype=np.float32))[None])[0, 0].numpy()
    diff = np.abs(np.array(shown["image"]) - want.ravel()).max()
    assert diff < 1e-4, f"{method}: the browser's image differs from torch's by {diff:.2e}"


@pytest.mark.parametrize(("width", "height"), [(1280, 720), (390, 844)])
def test_maps_and_decoded_images_fit_the_screen(page, app_url, width, height):
    page.set_viewport_size({"width": width, "height": height})
    _open(page, app_url, extra="&vae_at=3")
    boxes = {
        f"{what} {role}": page.locator(f'section[data-role="{role}"] canvas.mc-{what}').bounding_box()
        for role in ("vae", "ae")
        for what in ("map", "image")
    }
    for name, b in boxes.items():
        assert b["x"] >= 0 and b["x"] + b["width"] <= width + 0.5, f"{name} overflows the page: {b}"
    boxes["legend"] = page.locator(".mc-legend").bounding_box()
    names = list(boxes)
    for a in range(len(names)):
        for b in range(a + 1, len(names)):
            p, q = boxes[names[a]], boxes[names[b]]
            apart = (p["x"] + p["width"] <= q["x"] or q["x"] + q["width"] <= p["x"] or
                     p["y"] + p["height"] <= q["y"] or q["y"] + q["height"] <= p["y"])  # fmt: skip
            assert apart, f"{names[a]} overlaps {names[b]}"
    if width == 1280:
        for name in ("map vae", "image vae", "map ae", "image ae"):
            assert boxes[name]["y"] + boxes[name]["height"] <= height, f"{name} is below the fold"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"latent_map_{width}x{height}_fold.png"))  # what the screen shows
    assert screenshot(page, f"latent_map_{width}x{height}").exists()  # the whole page
