"""Benchmark: how long a class waits for the first digit (issue 12), in headless Chromium against `streamlit run`.

- **cold start**: `streamlit run app.py` launched -> the first decoded digit (the home page's prior samples) on
  screen. Target <= 4 s. Each run has a fresh server and fresh cache folders; the OS file cache stays warm, as on
  a server that has run before.
- **new tab, warm server**: a new browser tab (its own profile: no HTTP cache, a new session) opens the home page of
  a server that has already served it -> the first digit on screen. Target <= 1.5 s. Then the same for a new tab of
  a browser that has loaded the app before (Streamlit's ~5 MB of scripts in its HTTP cache): a student's second tab.
- **floor**: the same two measurements for an app that only writes one line of text: what Streamlit and the browser
  take on this machine right now, before any of our code runs. On a busy machine every number moves; the header prints
  the load average.

    python bench/bench_cold_start.py [--cold 3] [--warm 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "e2e"))

from conftest import CHROMIUM_FLAGS, find_chromium, free_port, wait_healthy  # noqa: E402

TARGET_COLD_S, TARGET_WARM_S = 4.0, 1.5
FLOOR_APP = 'import streamlit as st\n\nst.write("ready")\n'
# performance.now() when the first image of the main area is decoded and laid out, else null.
FIRST_IMAGE = """() => {
  const img = document.querySelector('[data-testid="stMain"] [data-testid="stImage"] img');
  const shown = img && img.complete && img.naturalWidth > 0 && img.getBoundingClientRect().height > 0;
  return shown ? performance.now() : null;
}"""
FIRST_TEXT = """() => {
  const p = document.querySelector('[data-testid="stMain"] [data-testid="stMarkdownContainer"]');
  return p && p.innerText.includes('ready') ? performance.now() : null;
}"""


def launch(script: Path, port: int, log: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "VAE_EXPLORER_USER_CHECKPOINTS": tempfile.mkdtemp(prefix="bench-user-ckpt-"),
        "VAE_EXPLORER_CACHE": tempfile.mkdtemp(prefix="bench-cache-"),
    }
    cmd = [sys.executable, "-m", "streamlit", "run", str(script), "--server.headless", "true",
           "--server.address", "127.0.0.1", "--server.port", str(port)]  # fmt: skip
    return subprocess.Popen(cmd, cwd=REPO, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def shown_at(browser, url: str, probe: str, context=None) -> float:
    """Open ``url`` in a new tab and return time.perf_counter() when ``probe`` first reports the thing on screen.
    The tab has a browser profile of its own (no HTTP cache: a student's first visit) unless ``context`` is given."""
    own = context is None
    context = context or browser.new_context(viewport={"width": 1280, "height": 720})
    page = None
    try:
        page = context.new_page()
        page.goto("about:blank")
        started, wall = time.perf_counter(), time.time()
        page.goto(url, wait_until="commit")
        in_page = page.wait_for_function(probe, timeout=120_000, polling="raf").json_value()
        # performance.now() counts from the page's timeOrigin (ms since the epoch): line it up with our clock.
        shown_wall = (page.evaluate("() => performance.timeOrigin") + in_page) / 1000
        return started + (shown_wall - wall)
    finally:
        if own:
            context.close()
        elif page is not None:
            page.close()


def cold(browser, script: Path, probe: str, logs: Path) -> float:
    """Seconds from launching `streamlit run` to ``probe``'s thing on screen in a tab opened as soon as it is up."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    t0 = time.perf_counter()
    proc = launch(script, port, logs / f"cold-{port}.log")
    try:
        wait_healthy(url.rstrip("/"), proc, poll=0.02)
        return shown_at(browser, url, probe) - t0
    finally:
        stop(proc)


def warm(browser, script: Path, probe: str, n: int, logs: Path) -> tuple[list[float], list[float]]:
    """Seconds from a new tab's navigation to ``probe``'s thing on screen, on a server that has served it before:
    (tabs of new browser profiles, tabs of one browser that has loaded the app before)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    proc = launch(script, port, logs / f"warm-{port}.log")
    try:
        wait_healthy(url.rstrip("/"), proc)
        shown_at(browser, url, probe)  # the server's first visit: imports, models, caches
        time.sleep(15)  # the background warm-up after the first paint (torch takes seconds on a busy machine)
        fresh, cached = [], []
        same_browser = browser.new_context(viewport={"width": 1280, "height": 720})
        shown_at(browser, url, probe, same_browser)  # this browser has Streamlit's scripts in its HTTP cache now
        for _ in range(n):
            t0 = time.perf_counter()
            fresh.append(shown_at(browser, url, probe) - t0)
            t0 = time.perf_counter()
            cached.append(shown_at(browser, url, probe, same_browser) - t0)
        same_browser.close()
        return fresh, cached
    finally:
        stop(proc)


def row(name: str, times: list[float], target: float | None) -> str:
    best, median = min(times), statistics.median(times)
    verdict = "" if target is None else ("OK" if median <= target else "MISS")
    goal = "" if target is None else f"<= {target:.1f} s"
    runs = " ".join(f"{t:.2f}" for t in times)
    return f"  {name:<24} {median:>7.2f} {best:>7.2f}   {goal:<9} {verdict:<5} runs: {runs}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cold", type=int, default=3, help="cold starts of the app (and of the floor app)")
    parser.add_argument("--warm", type=int, default=5, help="new tabs on a warm server")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    logs = Path(tempfile.mkdtemp(prefix="bench-cold-start-"))
    floor_app = logs / "floor_app.py"
    floor_app.write_text(FLOOR_APP)
    load = os.getloadavg()[0]
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=find_chromium(), args=CHROMIUM_FLAGS, headless=True)
        try:
            app = [cold(browser, REPO / "app.py", FIRST_IMAGE, logs) for _ in range(args.cold)]
            floor = [cold(browser, floor_app, FIRST_TEXT, logs) for _ in range(args.cold)]
            tabs, cached_tabs = warm(browser, REPO / "app.py", FIRST_IMAGE, args.warm, logs)
            floor_tabs, floor_cached = warm(browser, floor_app, FIRST_TEXT, args.warm, logs)
        finally:
            browser.close()
    print(f"\nCold start and new tabs, headless Chromium at 1280x720, {os.cpu_count()} CPU cores, load average "
          f"{load:.1f} before / {os.getloadavg()[0]:.1f} after. Logs: {logs}\n")  # fmt: skip
    print(f"  {'seconds to the first digit':<24} {'median':>7} {'best':>7}   target")
    print(row("cold start (app.py)", app, TARGET_COLD_S))
    print(row("new tab, warm server", tabs, TARGET_WARM_S))
    print(row("  same browser again", cached_tabs, TARGET_WARM_S))
    print(row("floor: cold, one line", floor, None))
    print(row("floor: new tab, one line", floor_tabs, None))
    print(row("  same browser again", floor_cached, None))


if __name__ == "__main__":
    main()
