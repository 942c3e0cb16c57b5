"""A classroom on one server: N concurrent real-browser sessions against one `streamlit run`, on 127.0.0.1 only.

    python bench/load_classroom_browser.py --sessions 10 --rounds 2

Starts the app once, opens N browser contexts (one Chromium, one context per student: separate cookies,
separate Streamlit sessions), and has each walk a bounded loop: home -> latent map (click the map) -> sliders
(drag the pad) -> upload (an image) -> smoothness. It reports errors (page exceptions, console errors, time-outs),
p50/p95 latency of the server interactions (navigation to a finished script run, click-to-decode,
upload-to-reconstruction), and the server's RSS over time, including a minute after every session closed.
Sessions are real browser sessions (Playwright + Chromium), not a re-implementation of the websocket protocol.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "e2e"))

sys.path.insert(0, str(REPO / "bench"))

from conftest import BENIGN_404, CHROMIUM_FLAGS, find_chromium, wait_healthy  # noqa: E402
from load_classroom import pct, rss_mb, server_for  # noqa: E402

PAGES = ["", "Latent_map", "Latent_sliders", "Upload", "Smoothness"]
IDLE_JS = (
    "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
    " && document.querySelector('[data-testid=\"stMainBlockContainer\"]')"
)


def digit_png() -> bytes:
    img = np.full((64, 64), 255, np.uint8)
    img[10:54, 28:36] = 0  # a "1", dark on light
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format="PNG")
    return buf.getvalue()


async def wait_idle(page, timeout_ms: float = 30_000) -> None:
    await page.wait_for_function(IDLE_JS, timeout=timeout_ms)


async def student(i: int, browser, url: str, rounds: int, upload: Path, stats: dict, ramp: float) -> None:
    context = await browser.new_context(viewport={"width": 1300, "height": 900})
    page = await context.new_page()
    page.on("pageerror", lambda e: stats["errors"].append(f"session {i}: page error {e}"))

    def on_console(m) -> None:
        url = (m.location or {}).get("url", "")
        if m.type == "error" and not any(p in url for p in BENIGN_404):  # Streamlit's own sub-page probes
            stats["console"].append(f"session {i}: {m.text[:120]} ({url[-60:]})")

    page.on("console", on_console)
    try:
        await asyncio.sleep(ramp * i)  # students arrive over the ramp, not all in the same millisecond
        for _round in range(rounds):
            for name in PAGES:
                t = time.perf_counter()
                await page.goto(f"{url}/{name}", wait_until="domcontentloaded", timeout=60_000)
                await page.wait_for_selector('[data-testid="stApp"]', timeout=60_000)
                await page.wait_for_timeout(200)
                await wait_idle(page, 60_000)
                stats["navigate"].append(time.perf_counter() - t)
                exc = await page.query_selector('[data-testid="stException"]')
                if exc:
                    stats["errors"].append(f"session {i}: exception on /{name}")
                if name == "Latent_map":
                    plot = await page.wait_for_selector('section[data-role="vae"] canvas.mc-map', timeout=60_000)
                    if plot:
                        box = await plot.bounding_box()
                        t = time.perf_counter()
                        await page.mouse.click(
                            box["x"] + box["width"] * (0.3 + 0.1 * (i % 4)), box["y"] + box["height"] * 0.5
                        )
                        await page.wait_for_timeout(50)
                        await wait_idle(page)
                        stats["click"].append(time.perf_counter() - t)
                elif name == "Latent_sliders":
                    canvas = await page.wait_for_selector("canvas", timeout=60_000)
                    if canvas:
                        box = await canvas.bounding_box()
                        await page.mouse.move(box["x"] + 10, box["y"] + 10)
                        await page.mouse.down()
                        for s in range(20):
                            await page.mouse.move(box["x"] + 10 + s * 4, box["y"] + 10 + s * 3)
                        await page.mouse.up()
                        await wait_idle(page)
                elif name == "Upload":
                    inp = await page.wait_for_selector('input[type="file"]', state="attached", timeout=60_000)
                    if inp:
                        t = time.perf_counter()
                        await inp.set_input_files(str(upload))
                        await page.wait_for_timeout(100)
                        await wait_idle(page)
                        stats["upload"].append(time.perf_counter() - t)
    except Exception as e:  # a time-out or a crash counts as an error for this session
        stats["errors"].append(f"session {i}: {type(e).__name__}: {str(e)[:160]}")
    finally:
        await context.close()


async def run(args: argparse.Namespace) -> int:
    from playwright.async_api import async_playwright

    proc, url, server_pid = server_for(args)
    memory: list[tuple[float, float, str]] = []
    start = time.perf_counter()
    stats: dict[str, list] = {"navigate": [], "click": [], "upload": [], "errors": [], "console": []}
    try:
        if proc is not None:
            wait_healthy(url, proc)
        upload = Path(tempfile.mkdtemp()) / "digit.png"
        upload.write_bytes(digit_png())
        memory.append((0.0, rss_mb(server_pid), "idle"))

        async def sample_memory(label: str, until: asyncio.Event) -> None:
            while not until.is_set():
                memory.append((time.perf_counter() - start, rss_mb(server_pid), label))
                await asyncio.sleep(2.0)

        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=find_chromium(), args=CHROMIUM_FLAGS, headless=True)
            done = asyncio.Event()
            sampler = asyncio.create_task(sample_memory("sessions open", done))
            students = [student(i, browser, url, args.rounds, upload, stats, args.ramp) for i in range(args.sessions)]
            await asyncio.gather(*students)
            done.set()
            await sampler
            await browser.close()
        after = asyncio.Event()
        sampler = asyncio.create_task(sample_memory("after close", after))
        await asyncio.sleep(args.settle)
        after.set()
        await sampler
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=10)

    print(f"{args.sessions} sessions x {args.rounds} rounds over {len(PAGES)} pages, 127.0.0.1, real Chromium contexts")
    print(f"{'interaction':24s} {'n':>5s} {'p50 ms':>9s} {'p95 ms':>9s}")
    for key in ("navigate", "click", "upload"):
        print(f"{key:24s} {len(stats[key]):5d} {pct(stats[key], 50):9.0f} {pct(stats[key], 95):9.0f}")
    print(f"errors: {len(stats['errors'])}   console errors: {len(stats['console'])}")
    for e in (stats["errors"] + stats["console"])[:10]:
        print("  ", e)
    print("server RSS (MB) over time:")
    for t, mb, label in memory[:: max(1, len(memory) // 25)] + [memory[-1]]:
        print(f"  t={t:6.1f}s  {mb:7.0f} MB  {label}")
    peak = max(m for _, m, _ in memory)
    print(f"peak {peak:.0f} MB; idle {memory[0][1]:.0f} MB; after close {memory[-1][1]:.0f} MB")
    return 0 if not stats["errors"] else 1


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sessions", type=int, default=30)
    p.add_argument("--rounds", type=int, default=2, help="loops over the pages per session (bounded)")
    p.add_argument("--ramp", type=float, default=1.0, help="seconds between two students' arrivals")
    p.add_argument("--settle", type=float, default=60.0, help="seconds to watch memory after the sessions close")
    p.add_argument("--url", help="use this running server instead of starting one (with --server-pid for memory)")
    p.add_argument("--server-pid", type=int, help="the running server's process id, to sample its memory")
    args = p.parse_args()
    if args.url and not args.server_pid:
        p.error("--url needs --server-pid: the server's memory is part of the report")
    if not 1 <= args.sessions <= 100 or not 1 <= args.rounds <= 20:
        p.error("--sessions must be 1..100 and --rounds 1..20 (the load stays bounded)")
    os.environ.setdefault("VAE_EXPLORER_USER_CHECKPOINTS", tempfile.mkdtemp())
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
