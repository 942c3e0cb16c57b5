"""Benchmark: the server path (issue 4) in headless Chromium against a real `streamlit run` of the app.

Three numbers a student feels:

- **cold start**: `streamlit run` launched -> the first decoded image (the prior samples on the home page) visible
  in the browser. Target <= 4 s. Measured ``--cold`` times, each with a fresh server and fresh cache folders
  (the OS file cache stays warm, as on a server that has run before).
- **click to decode** on the Latent map: a click (a pin) on the VAE's map at a new place -> the pinned image below the
  maps has changed (its ``src``, loaded). Targets p50 <= 150 ms, p95 <= 300 ms.
- **upload to reconstruction** on the Upload page: a new PNG of a digit through the file input -> both models'
  reconstructions shown (loaded). Same targets. Each digit is drawn differently, so no cache can answer it.

Times are taken inside the page with performance.now(): from the user's input event (mousedown, the file input's
change) to the first animation frame where the image is in the DOM and decoded. A wrapped WebSocket records when
the browser sent the rerun request and when the server's messages arrived, which splits each round trip into:

- **browser -> request**: from the input event to the rerun request leaving the browser (the map component's pin,
  the file's HTTP upload, Streamlit's widget state);
- **server**: from that request to the message that carries the new image (the script rerun, including our code,
  Streamlit's serialisation and a loopback socket);
- **render**: from that message to the image on screen (React, fetching the image from the server's /media/ URL,
  image decoding).

"busy (JS)" is the time the browser's main thread spent in long tasks (> 50 ms) during the round trip; "kB in" is
what the server sent. On a shared machine every number moves with the load: the header prints the load average, and
the empty page shows how much of a round trip Streamlit alone costs right then.

For comparison the same round trip is measured on an **empty page** (a button and a counter), which is the floor
Streamlit itself sets on this machine.

    python bench/bench_server_path.py [--cold 3] [--clicks 20] [--uploads 12] [--only cold,click,upload,empty]
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "e2e"))

from conftest import CHROMIUM_FLAGS, find_chromium, free_port  # noqa: E402
from conftest import wait_healthy as shared_wait_healthy  # noqa: E402

TARGET_COLD_S = 4.0
TARGET_P50_MS, TARGET_P95_MS = 150.0, 300.0
MAP_PAGE = "/Latent_map?vae=mnist5k-vae-16&ae=mnist5k-ae-16&map=pca"
UPLOAD_PAGE = "/Upload?vae=mnist5k-vae-16&ae=mnist5k-ae-16"

# Every WebSocket frame's time and direction, for the browser / server / render split.
WS_LOG = """
(() => {
  const Base = window.WebSocket;
  window.__ws = [];
  const size = (d) => (d && (d.byteLength ?? d.size ?? d.length)) || 0;
  window.WebSocket = class extends Base {
    constructor(...args) {
      super(...args);
      this.addEventListener("message", (e) => window.__ws.push(["recv", performance.now(), size(e.data)]));
    }
    send(data) { window.__ws.push(["send", performance.now(), size(data)]); return super.send(data); }
  };
  window.__long = [];  // main-thread tasks over 50 ms: where the browser is busy (React, layout)
  new PerformanceObserver((list) => list.getEntries().forEach((e) => window.__long.push([e.startTime, e.duration])))
    .observe({type: "longtask"});
})();
"""
SCRIPT_DONE = (
    "() => { const app = document.querySelector('[data-testid=\"stApp\"]');"
    " return app && app.dataset.testScriptState === 'notRunning' && app.dataset.testConnectionState === 'CONNECTED'"
    " && !document.querySelector('[data-testid=\"stStatusWidget\"]'); }"
)
# Watch from the next input event (`event` on window, capturing) to the first frame where `probe()` (a JS
# expression returning a string that identifies what is shown, or null) differs from what it was at arming time.
ARM = """([event, probe]) => {
  const read = new Function(`return (${probe})`);
  const w = (window.__watch = {old: read(), start: null, end: null, value: null});
  window.addEventListener(event, () => { if (w.start === null) w.start = performance.now(); },
                          {capture: true, once: true});
  const tick = () => {
    if (w.start !== null) {
      const now = read();
      if (now !== null && now !== w.old) { w.end = performance.now(); w.value = now; return; }
    }
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
  return w.old;
}"""
# The VAE's decoded image on the latent map (see tests/e2e/test_latent_map_click.py): its src, once loaded.
DECODED_SRC = """(() => {
  const button = document.querySelector('[aria-label="Fullscreen: VAE: decoded"]');
  const img = button && button.closest('[data-testid="stElementToolbar"]').parentElement.querySelector('img');
  return img && img.complete && img.naturalWidth > 0 ? img.getAttribute('src') : null;
})()"""
# The Upload page's two reconstructions (the image in the column headed "... reconstruction"), once both are loaded.
RECONSTRUCTIONS = """(() => {
  const srcs = ['VAE reconstruction', 'Autoencoder reconstruction'].map((head) => {
    const col = Array.from(document.querySelectorAll('[data-testid="stColumn"]'))
      .find((c) => Array.from(c.querySelectorAll('strong')).some((s) => s.textContent.trim() === head));
    const img = col && col.querySelector('[data-testid="stImage"] img');
    return img && img.complete && img.naturalWidth > 0 ? img.getAttribute('src') : null;
  });
  return srcs.every(Boolean) ? srcs.join('|') : null;
})()"""
FIRST_IMAGE = """() => {
  const img = document.querySelector('[data-testid="stMain"] [data-testid="stImage"] img');
  const shown = !!img && img.complete && img.naturalWidth > 0 && img.getBoundingClientRect().height > 0;
  return shown ? performance.now() : null;
}"""
# Page coordinates of places on the VAE's map (the map component's canvas) at least 12 px from every test image's
# dot: a click there pins that place. The component's own hooks (ui/map_component.js) convert map units to pixels.
GRID_POINTS = """() => {
  const LM = window.__vaeLatentMap, view = LM.current.views[0], p = view.data.points, n = view.data.n;
  const box = view.canvas.getBoundingClientRect(), out = [];
  const dots = Array.from({length: n}, (_, i) => LM.clientPoint('vae', p[2 * i], p[2 * i + 1]));
  for (let gy = 1; gy < 20; gy++)
    for (let gx = 1; gx < 20; gx++) {
      const x = box.left + (box.width * gx) / 20, y = box.top + (box.height * gy) / 20;
      if (dots.every((d) => Math.hypot(x - d.x, y - d.y) > 12)) out.push([x, y]);
    }
  return out;
}"""
EMPTY_PAGE = """
import streamlit as st

st.title("Empty page")
if st.button("Again"):
    st.session_state.n = st.session_state.get("n", 0) + 1
st.markdown(f"**count {st.session_state.get('n', 0)}**")
"""
COUNT_TEXT = """(() => { const s = Array.from(document.querySelectorAll('strong'))
  .find((e) => e.textContent.startsWith('count ')); return s ? s.textContent : null; })()"""


@dataclass(frozen=True)
class Trip:
    """One round trip, in ms from the input event."""

    total: float
    request: float  # the rerun request left the browser
    reply: float  # the last server message before the image showed arrived
    busy: float  # ms of long main-thread tasks (> 50 ms) in the browser between the input and the image
    received: int  # bytes the server sent until the image showed


@dataclass(frozen=True)
class Cold:
    """One cold start, in s from `streamlit run` being launched."""

    healthy: float  # /_stcore/health answers: Python, Streamlit and its web server are up
    page: float  # the browser has Streamlit's page and scripts (DOMContentLoaded)
    connected: float  # the server's first WebSocket message: the session exists, the script starts
    image_sent: float  # the last server message before the image showed (the script reached the image)
    image: float  # the first decoded image visible


# ---- servers -------------------------------------------------------------------------------------------------


def launch(script: Path, port: int, log: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "VAE_EXPLORER_USER_CHECKPOINTS": tempfile.mkdtemp(prefix="bench-user-ckpt-"),
        "VAE_EXPLORER_CACHE": tempfile.mkdtemp(prefix="bench-cache-"),
    }
    cmd = [
        sys.executable, "-m", "streamlit", "run", str(script),
        "--server.headless", "true", "--server.address", "127.0.0.1", "--server.port", str(port),
        "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
    ]  # fmt: skip
    return subprocess.Popen(cmd, cwd=REPO, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)


def wait_healthy(url: str, proc: subprocess.Popen, timeout: float = 60.0) -> None:
    """The shared fixture's health poll, every 20 ms (its default 250 ms is too coarse to time a start)."""
    shared_wait_healthy(url, proc, timeout, poll=0.02)


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@contextmanager
def server(script: Path, logs: Path) -> Iterator[str]:
    port = free_port()
    proc = launch(script, port, logs / f"streamlit-{port}.log")
    try:
        url = f"http://127.0.0.1:{port}"
        wait_healthy(url, proc)
        yield url
    finally:
        stop(proc)


def new_page(browser, height: int = 1100):
    context = browser.new_context(viewport={"width": 1400, "height": height})
    pg = context.new_page()
    pg.add_init_script(WS_LOG)
    return pg


def wait_done(pg, timeout: float = 60_000) -> None:
    pg.wait_for_function(SCRIPT_DONE, timeout=timeout, polling=50)


# ---- measurements --------------------------------------------------------------------------------------------


def cold_start(browser, logs: Path) -> Cold:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    pg = new_page(browser)  # the user's browser is already open: only the tab is part of the time
    pg.goto("about:blank")
    t0 = time.perf_counter()
    proc = launch(REPO / "app.py", port, logs / f"cold-{port}.log")
    try:
        wait_healthy(url, proc)
        healthy = time.perf_counter() - t0
        pg.goto(url + "/", wait_until="commit")
        shown = pg.wait_for_function(FIRST_IMAGE, timeout=120_000, polling="raf").json_value()
        image = time.perf_counter() - t0
        # In-page times count from the navigation's start; line them up with the launch by the image's moment.
        at = image - shown / 1000
        dcl = pg.evaluate("() => performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd")
        recv = [t for kind, t, _ in pg.evaluate("() => window.__ws") if kind == "recv" and t <= shown]
    finally:
        pg.context.close()
        stop(proc)
    return Cold(
        healthy=healthy,
        page=at + dcl / 1000,
        connected=at + (recv[0] if recv else shown) / 1000,
        image_sent=at + (recv[-1] if recv else shown) / 1000,
        image=image,
    )


def round_trip(pg, event: str, probe: str, act, timeout: float = 30_000) -> Trip:
    """Arm the watcher, do ``act()`` (the user's input), wait for the change, and split the time."""
    pg.evaluate("() => { window.__ws.length = 0; window.__long.length = 0; }")
    pg.evaluate(ARM, [event, probe])
    act()
    pg.wait_for_function("() => window.__watch.end !== null", timeout=timeout, polling=50)
    w = pg.evaluate("() => window.__watch")
    frames = pg.evaluate("() => window.__ws")
    tasks = pg.evaluate("() => window.__long")
    start, end = w["start"], w["end"]
    # The rerun request is the browser's last message before the image (an upload first asks for upload URLs).
    sends = [t for kind, t, _ in frames if kind == "send" and start <= t <= end]
    request = (sends[-1] if sends else start) - start
    replies = [t for kind, t, _ in frames if kind == "recv" and t <= end and (not sends or t >= sends[-1])]
    reply = (replies[-1] if replies else end) - start
    busy = sum(max(0.0, min(t + d, end) - max(t, start)) for t, d in tasks)
    received = sum(n for kind, t, n in frames if kind == "recv" and start <= t <= end)
    return Trip(total=end - start, request=request, reply=reply, busy=busy, received=received)


def click_to_decode(browser, url: str, clicks: int, seed: int = 0) -> list[Trip]:
    pg = new_page(browser)
    pg.goto(url + MAP_PAGE)
    wait_done(pg, 120_000)
    pg.wait_for_function("() => window.__vaeLatentMap && window.__vaeLatentMap.stats.firstMapAt", timeout=60_000)
    grid = pg.evaluate(GRID_POINTS)
    order = np.random.default_rng(seed).permutation(len(grid))  # a new place every click
    trips = []
    for i in range(min(clicks + 1, len(grid))):  # the first click only warms the decoded-point part of the page
        x, y = grid[order[i]]
        pg.mouse.move(x, y)
        trip = round_trip(pg, "mousedown", DECODED_SRC, lambda x=x, y=y: pg.mouse.click(x, y))
        if i:
            trips.append(trip)
        wait_done(pg)
    pg.context.close()
    return trips


def digit_png(rng: np.random.Generator) -> bytes:
    """A dark digit on light paper, drawn with a random digit, size, place, slant and stroke: never the same."""
    from PIL import Image, ImageDraw, ImageFont

    side = int(rng.integers(160, 320))
    paper = int(rng.integers(215, 256))
    img = Image.new("L", (side, side), paper)
    font = ImageFont.load_default(size=int(side * rng.uniform(0.55, 0.8)))
    draw = ImageDraw.Draw(img)
    xy = (side * rng.uniform(0.25, 0.45), side * rng.uniform(0.1, 0.25))
    draw.text(xy, str(int(rng.integers(10))), fill=int(rng.integers(0, 60)), font=font,
              stroke_width=int(rng.integers(1, 5)), stroke_fill=int(rng.integers(0, 60)))  # fmt: skip
    img = img.rotate(float(rng.uniform(-15, 15)), fillcolor=paper)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def upload_to_reconstruction(browser, url: str, uploads: int, seed: int = 0) -> list[Trip]:
    pg = new_page(browser)
    pg.goto(url + UPLOAD_PAGE)
    wait_done(pg, 120_000)
    file_input = pg.locator('[data-testid="stFileUploader"] input[type="file"]').first
    rng = np.random.default_rng(seed)
    trips = []
    for i in range(uploads + 1):  # the first upload only warms the page's first report
        png = digit_png(rng)

        def upload(png=png, i=i) -> None:
            file_input.set_input_files({"name": f"digit-{i}.png", "mimeType": "image/png", "buffer": png})

        trip = round_trip(pg, "change", RECONSTRUCTIONS, upload)
        if i:
            trips.append(trip)
        wait_done(pg)
        # One file at a time, as a student would try them: remove it (the uploader keeps adding files otherwise).
        pg.get_by_role("button", name=f"Remove digit-{i}.png").click()
        pg.wait_for_function(f"() => ({RECONSTRUCTIONS}) === null", timeout=30_000)
        wait_done(pg)
    pg.context.close()
    return trips


def empty_page(browser, clicks: int, logs: Path) -> list[Trip]:
    script = logs / "empty_page.py"
    script.write_text(textwrap.dedent(EMPTY_PAGE), encoding="utf-8")
    with server(script, logs) as url:
        pg = new_page(browser, 600)
        pg.goto(url)
        wait_done(pg)
        button = pg.get_by_role("button", name="Again")
        trips = []
        for i in range(clicks + 1):
            trip = round_trip(pg, "mousedown", COUNT_TEXT, button.click)
            if i:
                trips.append(trip)
            wait_done(pg)
        pg.context.close()
    return trips


# ---- report --------------------------------------------------------------------------------------------------


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def trip_row(name: str, trips: list[Trip], judged: bool) -> str:
    total = [t.total for t in trips]
    p50, p95 = pct(total, 50), pct(total, 95)
    verdict = ""
    if judged:
        verdict = "ok" if p50 <= TARGET_P50_MS and p95 <= TARGET_P95_MS else "MISS"
    request = statistics.median(t.request for t in trips)
    server_ms = statistics.median(t.reply - t.request for t in trips)
    render = statistics.median(t.total - t.reply for t in trips)
    busy = statistics.median(t.busy for t in trips)
    kb = statistics.median(t.received for t in trips) / 1e3
    return (
        f"{name:<28}{len(trips):>4}{p50:>9.0f}{p95:>9.0f}{min(total):>8.0f}{max(total):>8.0f}"
        f"{request:>12.0f}{server_ms:>9.0f}{render:>9.0f}{busy:>11.0f}{kb:>9.1f}  {verdict}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cold", type=int, default=3, help="cold starts to measure")
    parser.add_argument("--clicks", type=int, default=20, help="clicks on the latent map")
    parser.add_argument("--uploads", type=int, default=12, help="uploads on the Upload page")
    parser.add_argument("--only", default="cold,click,upload,empty", help="which parts to run (comma-separated)")
    args = parser.parse_args(argv)
    parts = set(args.only.split(","))
    from playwright.sync_api import sync_playwright

    logs = Path(tempfile.mkdtemp(prefix="bench-server-path-"))
    colds: list[Cold] = []
    trips: dict[str, list[Trip]] = {}
    load_before = os.getloadavg()[0]
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=find_chromium(), args=CHROMIUM_FLAGS, headless=True)
        if "cold" in parts:
            colds = [cold_start(browser, logs) for _ in range(args.cold)]
        if parts & {"click", "upload"}:
            with server(REPO / "app.py", logs) as url:
                if "click" in parts:
                    trips["click to decode (map)"] = click_to_decode(browser, url, args.clicks)
                if "upload" in parts:
                    if (REPO / "pages" / "5_Upload.py").exists():
                        trips["upload to reconstruction"] = upload_to_reconstruction(browser, url, args.uploads)
                    else:
                        print("pages/5_Upload.py is not there yet: upload benchmark skipped")
        if "empty" in parts:
            trips["empty page (Streamlit floor)"] = empty_page(browser, args.clicks, logs)
        browser.close()

    print(
        f"\nServer path, headless Chromium, {os.cpu_count()} CPU cores, load average {load_before:.1f} before / "
        f"{os.getloadavg()[0]:.1f} after. Logs: {logs}\n"
    )
    if colds:
        images = [c.image for c in colds]
        ok = "ok" if statistics.median(images) <= TARGET_COLD_S else "MISS"
        print(f"Cold start (target <= {TARGET_COLD_S:g} s to the first decoded image), {len(colds)} runs:")
        print("  seconds since launch when: the server is healthy, the browser has the page, the session starts,")
        print("  the server sends the image, the image is on screen")
        print(f"  {'run':<5}{'healthy':>9}{'page':>7}{'session':>9}{'image sent':>12}{'image shown':>13}")
        for i, c in enumerate(colds, 1):
            print(f"  {i:<5}{c.healthy:>9.2f}{c.page:>7.2f}{c.connected:>9.2f}{c.image_sent:>12.2f}{c.image:>13.2f}")
        print(f"  median first image {statistics.median(images):.2f} s, best {min(images):.2f} s  {ok}\n")
    if trips:
        print(f"Round trips in ms (targets p50 <= {TARGET_P50_MS:g}, p95 <= {TARGET_P95_MS:g}); split = medians:")
        header = (
            f"{'case':<28}{'n':>4}{'p50':>9}{'p95':>9}{'min':>8}{'max':>8}"
            f"{'->request':>12}{'server':>9}{'render':>9}{'busy (JS)':>11}{'kB in':>9}"
        )
        print(header)
        print("-" * len(header))
        for name, ts in trips.items():
            print(trip_row(name, ts, judged=not name.startswith("empty")))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
