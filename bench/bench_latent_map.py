"""Benchmark: the latent map component (issue 13) in headless Chromium, against a real `streamlit run` of the app.

Per case (models and map), a fresh browser context opens the Latent map page (the server's caches warmed first):

- **hover -> both images painted** (ms p50 / p95): from a pointer event over the VAE's map (its ``timeStamp``) to both
  models' decoded images written to their canvases. "per frame": one synthetic pointermove per animation frame, like
  a mouse at the display's rate (judged against the targets); "mouse": Playwright's real mouse (CDP), whose events
  Chromium holds until the next frame starts, so it also holds that wait (0-16.7 ms at 60 Hz). "work": from handling
  the event to painted; "decode": one model's forward pass;
- **distinct fps**: animation frames in which both images differ from the frame before (read from their pixels);
- **sent**: websocket messages sent while hovering, zooming (wheel) and panning: must be 0;
- **pin**: a click at a new place -> the pinned VAE image below the maps changed (its ``src``, loaded);
- **first map**: from the component's element appearing (and from DOMContentLoaded) to both maps painted; and what
  travels: the first load (every asset, once per tab) and one rerun after a pin.

    python bench/bench_latent_map.py [--seconds 3] [--pins 12]
    python bench/bench_latent_map.py --classroom 10    # the same figures in one tab while 10 students use the app

With ``--classroom N``, N students use the same server, each walking every page twice (a pin on the latent map, a
release on the pad, an upload, ...), and once they have all arrived the first case is measured in one extra tab at
the same time; the classroom's own report (errors, latencies, server memory) follows the table. ``--students
protocol`` (the default) plays them with ``bench/load_classroom.py``'s websocket clients, as in a classroom where
each student's browser runs on their own computer; ``--students browser`` with ``bench/load_classroom_browser.py``'s
real Chromium tabs, which on this machine share the measured tab's 2 cores (so hover then measures the CPU).
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

CLASSROOM_RAMP_S = 0.5  # between two students' arrivals
CLASSROOM_SETTLE_S = 8.0  # after the last arrival, before the extra tab is measured
CLASSROOM = {  # --students: the script that plays them, and its options beyond the common ones
    "protocol": ("load_classroom.py", ["--waves", "1", "--think", "1.5"]),
    "browser": ("load_classroom_browser.py", []),
}
TARGETS = {"p50": 8.0, "p95": 16.0, "fps": 55.0, "sent": 0, "pin": 300.0, "first": 1000.0}
CASES = [  # (name, query string)
    ("16-D, PCA", "vae=mnist5k-vae-16&ae=mnist5k-ae-16&map=pca"),
    ("16-D, t-SNE", "vae=mnist5k-vae-16&ae=mnist5k-ae-16&map=tsne"),
    ("2-D, latent plane", "vae=mnist5k-vae-2&ae=mnist5k-ae-2&map=pca"),
]
READY_MARK = """
    window.__ready = {};
    new MutationObserver((_, obs) => {
        if (document.querySelector(".stBidiComponent")) { window.__ready.map = performance.now(); obs.disconnect(); }
    }).observe(document, {subtree: true, childList: true});
"""
MAP_PAINTED = "() => window.__vaeLatentMap && window.__vaeLatentMap.stats.firstMapAt !== null"
# Count the frames in which both decoded images changed, from their pixels, while `run` is set.
WATCH = """() => {
    const LM = window.__vaeLatentMap, views = LM.current.views;
    const b = (window.__bench = {frames: 0, distinct: 0, t0: performance.now(), run: true, last: null});
    const read = () => views.map((v) => {  // FNV-1a over the canvas's pixels
        const px = new Uint32Array(v.imageCtx.getImageData(0, 0, 28, 28).data.buffer);
        let h = 2166136261;
        for (let i = 0; i < px.length; i++) h = Math.imul(h ^ px[i], 16777619);
        return h;
    });
    b.last = read();
    const tick = () => {
        if (!b.run) return;
        const now = read();
        b.frames++;
        if (now.every((s, i) => s !== b.last[i])) b.distinct++;
        b.last = now;
        requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
    LM.resetStats();
    window.__vaeLivePad.resetStats();
}"""
STOP = """() => {
    const b = window.__bench, s = window.__vaeLatentMap.stats;
    b.run = false;
    return {frames: b.frames, distinct: b.distinct, ms: performance.now() - b.t0, hover: s.hoverMs.slice(),
            work: s.workMs.slice(), decode: window.__vaeLivePad.stats.decodeMs.slice()};
}"""
# A Lissajous path over the middle 80% of the VAE's map, one synthetic pointermove per animation frame.
PER_FRAME = """(seconds) => new Promise((done) => {
    const LM = window.__vaeLatentMap, view = LM.current.views[0], el = view.canvas;
    const r = el.getBoundingClientRect(), t0 = performance.now();
    const step = () => {
        const t = (performance.now() - t0) / 1000;
        if (t >= seconds) return done();
        el.dispatchEvent(new PointerEvent("pointermove", {bubbles: true, composed: true, pointerId: 1,
            isPrimary: true, pointerType: "mouse",
            clientX: r.left + r.width * (0.5 + 0.4 * Math.sin(2 * Math.PI * 0.7 * t)),
            clientY: r.top + r.height * (0.5 + 0.4 * Math.sin(2 * Math.PI * 0.45 * t))}));
        requestAnimationFrame(step);
    };
    requestAnimationFrame(step);
})"""
# The pinned VAE image below the maps (st.image captioned "VAE: decoded"): its src, once loaded.
DECODED_SRC = """() => {
  const button = document.querySelector('[aria-label="Fullscreen: VAE: decoded"]');
  const img = button && button.closest('[data-testid="stElementToolbar"]').parentElement.querySelector('img');
  return img && img.complete && img.naturalWidth > 0 ? img.getAttribute('src') : null;
}"""
SCRIPT_DONE = """() => { const app = document.querySelector('[data-testid="stApp"]'), busy = 'stStatusWidget';
  return app && app.dataset.testScriptState === 'notRunning' && !document.querySelector(`[data-testid="${busy}"]`); }"""


@dataclass(frozen=True)
class Hover:
    p50: float
    p95: float
    work_p50: float  # from handling the event to painted (without the wait for the frame)
    decode_p50: float  # one model's decoder alone (two per frame)
    fps: float  # frames per second in which both images changed
    raf_fps: float


@dataclass(frozen=True)
class Row:
    case: str
    per_frame: Hover
    mouse: Hover
    sent: int  # websocket messages sent while hovering, panning and zooming
    pin_ms: list[float]
    first_map_ms: float  # from the component's element appearing
    first_map_dcl_ms: float  # from DOMContentLoaded
    first_load_bytes: int
    pin_rerun_bytes: int


def pct(values: list[float], q: float) -> float:
    return sorted(values)[min(len(values) - 1, int(q * len(values)))] if values else float("nan")


def summarise(r: dict) -> Hover:
    seconds = r["ms"] / 1000
    return Hover(
        p50=statistics.median(r["hover"] or [float("nan")]),
        p95=pct(r["hover"], 0.95),
        work_p50=statistics.median(r["work"] or [float("nan")]),
        decode_p50=statistics.median(r["decode"] or [float("nan")]),
        fps=r["distinct"] / seconds,
        raf_fps=r["frames"] / seconds,
    )


def map_box(pg) -> dict:
    return pg.evaluate("() => { const r = window.__vaeLatentMap.current.views[0].canvas.getBoundingClientRect();"
                       " return {x: r.left, y: r.top, w: r.width, h: r.height}; }")  # fmt: skip


def mouse_hover(pg, seconds: float) -> None:
    box = map_box(pg)
    t0 = time.perf_counter()
    while (t := time.perf_counter() - t0) < seconds:
        pg.mouse.move(
            box["x"] + box["w"] * (0.5 + 0.4 * math.sin(2 * math.pi * 0.7 * t)),
            box["y"] + box["h"] * (0.5 + 0.4 * math.sin(2 * math.pi * 0.45 * t)),
        )


def pan_and_zoom(pg) -> None:
    """Wheel zooms in and out over the VAE's map, then a drag pans it."""
    box = map_box(pg)
    x, y = box["x"] + box["w"] / 2, box["y"] + box["h"] / 2
    pg.mouse.move(x, y)
    for dy in (-240, -240, 240, 240, -120):
        pg.mouse.wheel(0, dy)
        pg.wait_for_timeout(30)
    pg.mouse.down()
    pg.mouse.move(x + 60, y + 30, steps=10)
    pg.mouse.up()  # a drag, not a click: no pin
    pg.wait_for_timeout(300)


def pins(pg, n: int) -> list[float]:
    """Click ``n`` + 1 new places on the VAE's map; ms from the click to the pinned image below having changed."""
    times, box = [], map_box(pg)
    for i in range(n + 1):  # the first pin only warms the pinned-point part of the page
        fx, fy = 0.1 + 0.8 * ((i * 0.618) % 1), 0.1 + 0.8 * ((i * 0.382 + 0.2) % 1)
        old = pg.evaluate(DECODED_SRC)
        pg.mouse.move(box["x"] + fx * box["w"], box["y"] + fy * box["h"])
        pg.mouse.down()
        pg.mouse.up()
        handle = pg.wait_for_function(
            f"(old) => {{ const s = ({DECODED_SRC})(); return s && s !== old ? performance.now() : null; }}",
            arg=old,
            timeout=30_000,
            polling="raf",
        )
        if i:  # from the moment the component sent the pin (on pointerup)
            times.append(handle.json_value() - pg.evaluate("() => window.__vaeLatentMap.stats.pinnedAt"))
        pg.wait_for_function(SCRIPT_DONE, timeout=30_000)
    return times


def measure(browser, url: str, case: str, query: str, seconds: float, n_pins: int) -> Row:
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    pg = context.new_page()
    pg.add_init_script(READY_MARK)
    received: list[int] = []
    sent: list[int] = []

    def on_ws(ws) -> None:
        ws.on("framereceived", lambda f: received.append(len(f)))
        ws.on("framesent", lambda f: sent.append(len(f)))

    pg.on("websocket", on_ws)
    pg.goto(f"{url}/Latent_map?{query}")
    pg.wait_for_function(MAP_PAINTED, timeout=120_000)
    pg.wait_for_function(SCRIPT_DONE, timeout=60_000)
    pg.wait_for_timeout(500)
    first = pg.evaluate(
        "() => ({dcl: performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd,"
        " ready: window.__ready.map, painted: window.__vaeLatentMap.stats.firstMapAt})"
    )
    first_load = sum(received)
    sent.clear()
    pg.evaluate(WATCH)
    pg.evaluate(PER_FRAME, seconds)
    per_frame = summarise(pg.evaluate(STOP))
    pg.evaluate(WATCH)
    mouse_hover(pg, seconds)
    mouse = summarise(pg.evaluate(STOP))
    pan_and_zoom(pg)
    messages = len(sent)
    pg.mouse.move(0, 0)
    received.clear()
    pin_ms = pins(pg, n_pins)
    rerun = sum(received) // (n_pins + 1)
    context.close()
    ready, dcl = first["painted"] - first["ready"], first["painted"] - first["dcl"]
    return Row(case, per_frame, mouse, messages, pin_ms, ready, dcl, first_load, rerun)


def ok(good: bool) -> str:
    return "ok" if good else "MISS"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="length of each hover")
    parser.add_argument("--pins", type=int, default=12, help="pins (clicks) measured per case")
    parser.add_argument("--classroom", type=int, default=0, help="students using the app meanwhile (0: none)")
    parser.add_argument(
        "--students",
        choices=sorted(CLASSROOM),
        default="protocol",
        help="protocol: websocket clients, as when each student's browser runs on their own computer; browser: "
        "real Chromium tabs, which here share the measured tab's 2 cores",
    )
    args = parser.parse_args(argv)
    if not 0 <= args.classroom <= 50:
        parser.error("--classroom must be 0..50 (the load stays bounded)")
    from playwright.sync_api import sync_playwright

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc: subprocess.Popen = start_server(port, {"VAE_EXPLORER_USER_CHECKPOINTS": tempfile.mkdtemp(prefix="bench-")})
    rows = []
    try:
        wait_healthy(url, proc)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=find_chromium(), args=CHROMIUM_FLAGS, headless=True)
            for _, query in CASES:  # warm the server's caches (models, latents, maps, atlas)
                warm = browser.new_page()
                warm.goto(f"{url}/Latent_map?{query}")
                warm.wait_for_function(MAP_PAINTED, timeout=120_000)
                warm.close()
            classroom = None
            if args.classroom:
                script, extra = CLASSROOM[args.students]
                classroom = subprocess.Popen(
                    [sys.executable, str(REPO / "bench" / script), "--url", url, "--server-pid", str(proc.pid),
                     "--sessions", str(args.classroom), "--rounds", "2", "--ramp", str(CLASSROOM_RAMP_S),
                     "--settle", "0", *extra],
                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                )  # fmt: skip
                time.sleep(args.classroom * CLASSROOM_RAMP_S + CLASSROOM_SETTLE_S)  # every student has arrived
            for case, query in CASES[:1] if classroom else CASES:
                rows.append(measure(browser, url, case, query, args.seconds, args.pins))
            browser.close()
        if classroom is not None:
            busy = classroom.poll() is None  # still running when the measurement ended: it was measured under load
            report = classroom.communicate(timeout=1800)[0]
    finally:
        proc.terminate()
        proc.wait(timeout=10)

    t = TARGETS
    print(
        f"\nLatent map component, headless Chromium 1280x720, {os.cpu_count()} CPU cores (load average "
        f"{os.getloadavg()[0]:.1f}), {args.seconds:g} s hovers, {args.pins} pins per case."
    )
    if args.classroom:
        print(
            f"Measured in one extra tab while {args.classroom} students ({args.students}) used the same server "
            f"({'still running when the measurement ended' if busy else 'THEY FINISHED BEFORE IT ENDED'})."
        )
    print()
    head = (
        f"{'case':<20}{'hover':<11}{'ms p50':>8}{'p95':>7}{'(work p50)':>11}{'(decode)':>9}{'distinct fps':>13}"
        f"{'rAF fps':>9}"
    )
    print(head + f"   targets: p50 <= {t['p50']:g}, p95 <= {t['p95']:g}, >= {t['fps']:g} fps")
    print("-" * len(head))
    for r in rows:
        for name, h in (("per frame", r.per_frame), ("mouse", r.mouse)):
            verdict = f"{ok(h.p50 <= t['p50'])} {ok(h.p95 <= t['p95'])} {ok(h.fps >= t['fps'])}"
            print(
                f"{r.case if name == 'per frame' else '':<20}{name:<11}{h.p50:>8.1f}{h.p95:>7.1f}{h.work_p50:>11.1f}"
                f"{h.decode_p50:>9.1f}{h.fps:>13.1f}{h.raf_fps:>9.1f}   {verdict}"
            )
    head = (
        f"\n{'case':<20}{'sent':>6}{'pin ms p50':>12}{'p95':>7}{'first map ms':>14}{'(from DCL)':>12}"
        f"{'first load':>12}{'pin rerun':>11}"
    )
    print(head + f"   targets: 0 sent, pin p50 <= {t['pin']:g}, first map <= {t['first']:g}")
    print("-" * len(head.strip()))
    for r in rows:
        pin_p50 = statistics.median(r.pin_ms)
        verdict = f"{ok(r.sent == 0)} {ok(pin_p50 <= t['pin'])} {ok(r.first_map_ms <= t['first'])}"
        print(
            f"{r.case:<20}{r.sent:>6}{pin_p50:>12.0f}{pct(r.pin_ms, 0.95):>7.0f}{r.first_map_ms:>14.0f}"
            f"{r.first_map_dcl_ms:>12.0f}{r.first_load_bytes / 1e6:>10.2f}MB{r.pin_rerun_bytes / 1e3:>9.1f}kB"
            f"   {verdict}"
        )
    if args.classroom:
        print(f"\nThe classroom meanwhile (bench/{CLASSROOM[args.students][0]}):\n{report}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
