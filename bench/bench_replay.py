"""Training replayed, in headless Chromium: frames per second while the replay plays, ms per painted frame, messages
to the server while it plays (target: 0), bytes the replay sent, and decoding under the pointer on the final frame.

    .venv/bin/python bench/bench_replay.py            # starts its own server on a free port
    .venv/bin/python bench/bench_replay.py --url http://127.0.0.1:8501   # or measures a running one

Counts painted frames (``globalThis.__vaeReplay.stats.paints``, one per requestAnimationFrame that drew both maps),
not timer ticks. Target: >= 20 frames per second, no server round trip per frame.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.e2e.conftest import CHROMIUM_FLAGS, find_chromium, free_port, start_server, wait_for_app, wait_healthy  # noqa: E402

TARGET_FPS = 20.0


def measure(url: str, seconds: float) -> dict[str, float]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=find_chromium(), args=CHROMIUM_FLAGS, headless=True)
        page = browser.new_context(viewport={"width": 1280, "height": 720}).new_page()
        sent: list[int] = []
        page.on("websocket", lambda ws: ws.on("framesent", lambda _p: sent.append(1)))
        page.goto(f"{url}/Lesson?step=7")
        wait_for_app(page, timeout=180_000)
        page.locator("[data-testid=stButtonGroup] button", has_text="The VAE's").click()  # the prediction first
        page.locator(".rp-map").first.wait_for(timeout=120_000)
        wait_for_app(page, timeout=180_000)
        page.wait_for_timeout(1000)
        stats = "globalThis.__vaeReplay.stats"
        page.evaluate(f"() => {{ {stats}.paints = 0; {stats}.paintMs = []; }}")
        messages = len(sent)
        page.locator(".rp-play").click()
        t0 = page.evaluate("() => performance.now()")
        page.wait_for_timeout(seconds * 1000)
        paints, t1 = page.evaluate(f"() => [{stats}.paints, performance.now()]")
        paint_ms = page.evaluate(f"() => {stats}.paintMs")
        during_play = len(sent) - messages
        page.locator(".rp-play").click()  # pause; then scrub to the end and hover: the final frame decodes
        page.locator(".rp-scrub").fill("1000")
        box = page.locator(".rp-map").first.bounding_box()
        decodes0 = page.evaluate(f"() => {stats}.decodes")
        for k in range(30):
            page.mouse.move(box["x"] + box["width"] * (0.3 + 0.013 * k), box["y"] + box["height"] * 0.45)
            page.wait_for_timeout(20)
        decodes = page.evaluate(f"() => {stats}.decodes") - decodes0
        browser.close()
    return {
        "fps": paints / ((t1 - t0) / 1000),
        "paint_p50": statistics.median(paint_ms),
        "paint_p95": sorted(paint_ms)[int(0.95 * (len(paint_ms) - 1))],
        "messages_during_play": float(during_play),
        "hover_decodes": float(decodes),
    }


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--url", help="measure a running server instead of starting one")
    p.add_argument("--seconds", type=float, default=5.0, help="how long to play")
    args = p.parse_args()
    proc = None
    url = args.url
    if url is None:
        port = free_port()
        proc = start_server(port)
        url = f"http://127.0.0.1:{port}"
        wait_healthy(url, proc, timeout=120)
    try:
        r = measure(url, args.seconds)
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=10)
    frames = sum(p.stat().st_size for p in (Path(__file__).resolve().parents[1] / "checkpoints").glob("*.snapshots.*"))
    print(f"{'measure':<44}{'value':>12}  target")
    print(f"{'frames painted per second while playing':<44}{r['fps']:>12.1f}  >= {TARGET_FPS:.0f}")
    print(f"{'ms per painted frame (both maps), p50':<44}{r['paint_p50']:>12.2f}")
    print(f"{'ms per painted frame (both maps), p95':<44}{r['paint_p95']:>12.2f}")
    print(f"{'messages to the server while playing':<44}{r['messages_during_play']:>12.0f}  0")
    print(f"{'decodes under the pointer (30 moves, final)':<44}{r['hover_decodes']:>12.0f}  > 0")
    print(f"{'replay files in checkpoints/ (kB)':<44}{frames / 1000:>12.0f}  <= 3000")
    ok = r["fps"] >= TARGET_FPS and r["messages_during_play"] == 0 and frames <= 3_000_000
    print("OK" if ok else "TARGET MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
