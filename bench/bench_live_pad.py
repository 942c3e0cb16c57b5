"""Benchmark: the live latent pad (issue 4) in headless Chromium, against a real `streamlit run` of the app.

Targets: >= 55 frames per second while dragging, the per-decode time in ms, and the first image visible within
1 s of the page being ready. Also measured: what travels to the browser, on the first load (the decoder weights,
once per tab) and on the rerun after a release (keys and codes only).

For each case a fresh browser context opens the Latent sliders page (after one warm-up visit, so the server's
caches are warm) and drags the VAE's pad (2-D) or its first slider (8-D, 16-D) for ``--seconds``, twice:

- "mouse": real mouse events, one per loop iteration (Playwright -> CDP -> Chromium's input pipeline). How many
  arrive per second depends on the automation and the machine, so the image rate is capped by the input rate;
- "per frame": one synthetic pointer (or slider input) event per animation frame, dispatched in the page, like
  a mouse that reports at the display's rate. Judged against the target: does the pad keep up with every frame?

Columns: rAF fps (requestAnimationFrame callbacks per second: the browser's frame rate), input/s (events that
reached the pad), image fps (images decoded *and painted* per second), decode ms (performance.now() around the
JavaScript decoder: mean / median / 95th percentile). "First image" is measured from the page being ready (the
moment Streamlit has rendered the pad's element; the images and grids below appear in the same frame), and for
reference from DOMContentLoaded (which includes Streamlit's own start-up and the script run); "browser" is the
pad's own share: from its data (with the weights) reaching the browser to the first image on the canvas.

    python bench/bench_live_pad.py [--seconds 3]
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "e2e"))

from conftest import CHROMIUM_FLAGS, find_chromium, free_port, start_server, wait_healthy  # noqa: E402

TARGET_FPS = 55.0
TARGET_FIRST_IMAGE_MS = 1000.0
CASES = [  # (name, query string, what to drag)
    ("2-D pad, mnist5k", "vae=mnist5k-vae-2&ae=mnist5k-ae-2", "pad"),
    ("8-D sliders, shapes", "dataset=shapes&vae=shapes-vae-8&ae=shapes-ae-8", "slider"),
    ("16-D sliders, mnist5k", "vae=mnist5k-vae-16&ae=mnist5k-ae-16", "slider"),
]
READY_MARK = """
    window.__ready = {};
    new MutationObserver((_, obs) => {
        if (document.querySelector(".stBidiComponent")) { window.__ready.pad = performance.now(); obs.disconnect(); }
    }).observe(document, {subtree: true, childList: true});
"""
START = """(control) => {
    const b = (window.__bench = {frames: 0, inputs: 0, t0: performance.now(), run: true});
    const tick = () => { if (b.run) { b.frames++; requestAnimationFrame(tick); } };
    requestAnimationFrame(tick);
    const root = document.querySelector(".stBidiComponent [data-testid='stBidiComponentIsolated']").shadowRoot;
    const section = root.querySelector('section[data-label="VAE"]');
    b.target = control === "pad" ? section.querySelector("canvas.lp-pad") : section.querySelector("input");
    b.target.addEventListener(control === "pad" ? "pointermove" : "input", () => b.inputs++);
    window.__vaeLivePad.resetStats();
}"""
PER_FRAME = """([control, seconds]) => new Promise((done) => {
    // One event per animation frame, along the same Lissajous path as the mouse drag.
    const b = window.__bench, el = b.target, r = el.getBoundingClientRect(), t0 = performance.now();
    const at = (t) => [r.left + r.width * (0.5 + 0.4 * Math.sin(2 * Math.PI * 0.7 * t)),
                       r.top + r.height * (0.5 + 0.4 * Math.sin(2 * Math.PI * 0.45 * t))];
    const fire = (type, [x, y]) => el.dispatchEvent(new PointerEvent(type, {clientX: x, clientY: y, bubbles: true,
                                                                          pointerId: 1, isPrimary: true}));
    if (control === "pad") fire("pointerdown", at(0));
    const step = () => {
        const t = (performance.now() - t0) / 1000;
        if (t >= seconds) { if (control === "pad") fire("pointerup", at(t)); done(); return; }
        if (control === "pad") fire("pointermove", at(t));
        else {
            const f = 0.5 + 0.4 * Math.sin(2 * Math.PI * 0.7 * t);
            el.value = String(Number(el.min) + (Number(el.max) - Number(el.min)) * f);
            el.dispatchEvent(new Event("input", {bubbles: true}));
        }
        requestAnimationFrame(step);
    };
    requestAnimationFrame(step);
})"""
STOP = """() => {
    const b = window.__bench, s = window.__vaeLivePad.stats;
    b.run = false;
    return {frames: b.frames, inputs: b.inputs, ms: performance.now() - b.t0, paints: s.paints,
            decodeMs: s.decodeMs.slice()};
}"""
FIRST_IMAGE = """() => {
    const nav = performance.getEntriesByType("navigation")[0], s = window.__vaeLivePad.stats;
    return {dcl: nav.domContentLoadedEventEnd, ready: window.__ready.pad, data: s.firstDataAt, paint: s.firstPaintAt};
}"""


@dataclass(frozen=True)
class Drag:
    raf_fps: float
    inputs: float  # events per second that reached the pad
    image_fps: float
    decode_mean: float
    decode_median: float
    decode_p95: float


@dataclass(frozen=True)
class Row:
    case: str
    mouse: Drag
    per_frame: Drag
    first_image_ms: float  # from the page being ready (the pad's element rendered)
    first_image_dcl_ms: float  # from DOMContentLoaded
    first_image_browser_ms: float  # from the component's data arriving
    first_load_bytes: int
    rerun_bytes: int


def start_app(port: int) -> subprocess.Popen:
    """The e2e suite's server start (log in artifacts/), with a throw-away folder for user checkpoints."""
    return start_server(port, {"VAE_EXPLORER_USER_CHECKPOINTS": tempfile.mkdtemp(prefix="bench-user-ckpt-")})


def wait_for_image(pg, timeout: float = 60_000) -> None:
    pg.wait_for_function(
        "() => window.__vaeLivePad && window.__vaeLivePad.stats.paints >= 2"
        " && !document.querySelector('[data-testid=\"stStatusWidget\"]')",
        timeout=timeout,
    )


def mouse_drag(pg, control: str, seconds: float) -> None:
    """Real mouse events over the VAE's pad (or first slider) for ``seconds``, one per loop iteration."""
    target = pg.locator(
        'section[data-label="VAE"] canvas.lp-pad'
        if control == "pad"
        else 'section[data-label="VAE"] input[type="range"]'
    ).first
    box = target.bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    rx, ry = 0.4 * box["width"], (0.4 * box["height"] if control == "pad" else 0.0)
    pg.mouse.move(cx, cy)
    pg.mouse.down()
    t0 = time.perf_counter()
    while (t := time.perf_counter() - t0) < seconds:  # a Lissajous figure over the pad (or back and forth)
        pg.mouse.move(cx + rx * math.sin(2 * math.pi * 0.7 * t), cy + ry * math.sin(2 * math.pi * 0.45 * t))
    pg.mouse.move(cx - 0.33 * box["width"], cy + (0.3 * box["height"] if control == "pad" else 0.0))  # a new z


def summarise(result: dict) -> Drag:
    seconds = result["ms"] / 1000
    decode = sorted(result["decodeMs"]) or [float("nan")]
    return Drag(
        raf_fps=result["frames"] / seconds,
        inputs=result["inputs"] / seconds,
        image_fps=result["paints"] / seconds,
        decode_mean=statistics.fmean(decode),
        decode_median=statistics.median(decode),
        decode_p95=decode[min(len(decode) - 1, int(0.95 * len(decode)))],
    )


def measure(browser, url: str, case: str, query: str, control: str, seconds: float) -> Row:
    context = browser.new_context(viewport={"width": 1400, "height": 1100})
    pg = context.new_page()
    pg.add_init_script(READY_MARK)
    received: list[int] = []
    pg.on("websocket", lambda ws: ws.on("framereceived", lambda frame: received.append(len(frame))))
    pg.goto(f"{url}/Latent_sliders?{query}&mode=live&show=mean")
    wait_for_image(pg)
    first = pg.evaluate(FIRST_IMAGE)
    first_load = sum(received)

    pg.evaluate(START, control)
    pg.evaluate(PER_FRAME, [control, seconds])
    per_frame = summarise(pg.evaluate(STOP))
    if control == "pad":  # the synthetic release reported z: let that rerun finish first
        wait_for_image(pg)

    pg.evaluate(START, control)
    mouse_drag(pg, control, seconds)
    mouse = summarise(pg.evaluate(STOP))
    received.clear()
    url_before = pg.url
    pg.mouse.up()
    pg.wait_for_function(f"() => location.href !== {url_before!r}", timeout=30_000)
    wait_for_image(pg)
    pg.wait_for_timeout(300)
    rerun = sum(received)
    context.close()
    return Row(
        case=case,
        mouse=mouse,
        per_frame=per_frame,
        first_image_ms=first["paint"] - first["ready"],
        first_image_dcl_ms=first["paint"] - first["dcl"],
        first_image_browser_ms=first["paint"] - first["data"],
        first_load_bytes=first_load,
        rerun_bytes=rerun,
    )


def payload_sizes() -> list[tuple[str, int, int]]:
    """(model, raw weight bytes as the pad sends them, the same as base64 JSON) of every shipped decoder."""
    import torch

    from vae_core.export import export_decoder
    from vae_core.store.catalog import scan_checkpoints
    from vae_core.store.checkpoints import load_checkpoint

    torch.set_num_threads(1)
    out = []
    for info in scan_checkpoints():
        if info.shipped:
            p = export_decoder(load_checkpoint(info.path).model, info.name)
            out.append((info.name, len(p.blob), p.json_bytes()))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="length of each scripted drag")
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = start_app(port)
    rows = []
    try:
        wait_healthy(url, proc)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=find_chromium(), args=CHROMIUM_FLAGS, headless=True)
            for _, query, _ in CASES:  # warm the server's caches (models, latents, grids)
                warm = browser.new_page()
                warm.goto(f"{url}/Latent_sliders?{query}&mode=live")
                wait_for_image(warm, timeout=120_000)
                warm.close()
            for case, query, control in CASES:
                rows.append(measure(browser, url, case, query, control, args.seconds))
            browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=10)

    print(
        f"\nLive latent pad, headless Chromium, {os.cpu_count()} CPU cores (load average "
        f"{os.getloadavg()[0]:.1f}), {args.seconds:g} s drags. Targets: image fps >= {TARGET_FPS:g} per frame, "
        f"first image <= {TARGET_FIRST_IMAGE_MS:g} ms after the page is ready.\n"
    )
    header = f"{'case':<24}{'drag':<11}{'rAF fps':>8}{'input/s':>9}{'image fps':>10}{'decode ms mean/med/p95':>25}"
    print(header)
    print("-" * len(header))
    for r in rows:
        for name, d in (("per frame", r.per_frame), ("mouse", r.mouse)):
            ok = ("ok" if d.image_fps >= TARGET_FPS else "MISS") if name == "per frame" else ""
            decode = f"{d.decode_mean:.2f} / {d.decode_median:.2f} / {d.decode_p95:.2f}"
            print(
                f"{r.case if name == 'per frame' else '':<24}{name:<11}{d.raf_fps:>8.1f}{d.inputs:>9.1f}"
                f"{d.image_fps:>10.1f}{decode:>25}  {ok}"
            )
    header = (
        f"\n{'case':<24}{'first image ms: after ready':>28}{'(after DOMContentLoaded)':>26}{'(browser)':>11}"
        f"{'first load':>12}{'rerun':>10}"
    )
    print(header)
    print("-" * len(header.strip()))
    for r in rows:
        ok = "ok" if r.first_image_ms <= TARGET_FIRST_IMAGE_MS else "MISS"
        print(
            f"{r.case:<24}{r.first_image_ms:>28.0f}{r.first_image_dcl_ms:>26.0f}{r.first_image_browser_ms:>11.0f}"
            f"{r.first_load_bytes / 1e6:>10.2f}MB{r.rerun_bytes / 1e3:>8.1f}kB  {ok}"
        )
    print("\nDecoder weights (sent once per tab and model, raw bytes, float16 where lossless):")
    for name, blob, js in payload_sizes():
        print(f"  {name:<22} {blob / 1e3:7.1f} kB   (as base64 JSON it would be {js / 1e3:7.1f} kB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
