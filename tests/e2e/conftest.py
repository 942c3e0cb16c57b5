"""End-to-end fixtures: one `streamlit run` per test session on a free 127.0.0.1 port, and Debian's Chromium
driven by Playwright. Chromium is found through $CHROMIUM_PATH, then /usr/bin/chromium, then Playwright's own
browser; without any, these tests skip and say why."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "artifacts" / "screenshots"
BENIGN_404 = ("/_stcore/health", "/_stcore/host-config")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def find_chromium() -> str | None:
    """$CHROMIUM_PATH, then /usr/bin/chromium, then None (Playwright's own browser, if a user installed one)."""
    for candidate in (os.environ.get("CHROMIUM_PATH"), "/usr/bin/chromium", shutil.which("chromium")):
        if candidate and Path(candidate).exists():
            return candidate
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(url: str, proc: subprocess.Popen, timeout: float = 60.0, poll: float = 0.25) -> None:
    """Poll /_stcore/health every ``poll`` seconds until the server answers (benchmarks poll finer)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited with code {proc.returncode}")
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(poll)
    raise RuntimeError(f"streamlit did not become healthy at {url} within {timeout:.0f} s")


def start_server(port: int, env: dict[str, str] | None = None) -> subprocess.Popen:
    cmd = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(REPO / "app.py"),
        "--server.headless",
        "true",
        "--server.address",
        "127.0.0.1",
        "--server.port",
        str(port),
        "--browser.gatherUsageStats",
        "false",
        "--server.fileWatcherType",
        "none",
    ]
    log_dir = REPO / "artifacts"
    log_dir.mkdir(exist_ok=True)
    log = open(log_dir / f"streamlit-{port}.log", "wb")  # a file, not a pipe: a chatty server never stalls
    return subprocess.Popen(cmd, cwd=REPO, env={**os.environ, **(env or {})}, stdout=log, stderr=subprocess.STDOUT)


@pytest.fixture(scope="session")
def app_url(tmp_path_factory):
    port = free_port()
    env = {
        "VAE_EXPLORER_USER_CHECKPOINTS": str(tmp_path_factory.mktemp("e2e_user_checkpoints")),
        "VAE_EXPLORER_CACHE": str(tmp_path_factory.mktemp("e2e_cache")),
    }
    proc = start_server(port, env)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, proc)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="session")
def browser():
    pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")
    from playwright.sync_api import sync_playwright

    path = find_chromium()
    with sync_playwright() as pw:
        try:
            b = pw.chromium.launch(executable_path=path, args=CHROMIUM_FLAGS, headless=True)
        except Exception as e:  # no browser anywhere: skip with the reason (CI installs one, so there it fails)
            message = f"no Chromium found (set CHROMIUM_PATH or apt-get install chromium): {e}"
            if os.environ.get("CI"):
                pytest.fail(message)
            pytest.skip(message)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    """A fresh page that records console errors and uncaught exceptions (asserted empty by tests)."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    pg.console_errors = []  # type: ignore[attr-defined]

    def on_console(m) -> None:
        # Opening a page URL directly makes Streamlit's client probe <page>/_stcore/health and host-config first;
        # those two 404s are Streamlit's own, not the app's.
        url = (m.location or {}).get("url", "")
        if m.type == "error" and not any(p in url for p in BENIGN_404):
            pg.console_errors.append(m.text)

    pg.on("console", on_console)
    pg.on("pageerror", lambda e: pg.console_errors.append(str(e)))
    yield pg
    context.close()


def screenshot(pg, name: str) -> Path:
    """Save a whole-page screenshot as a test artefact in artifacts/screenshots/.

    Streamlit scrolls inside its main section, so full_page alone captures one window: the viewport is made as
    tall as the content for the shot, then restored."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    size = pg.viewport_size or {"width": 1400, "height": 1000}
    height = pg.evaluate(
        "() => Math.max(...Array.from(document.querySelectorAll('section, div'), e => e.scrollHeight))"
    )
    pg.set_viewport_size({"width": size["width"], "height": int(min(max(height, size["height"]), 8000))})
    pg.wait_for_timeout(300)
    pg.screenshot(path=str(path), full_page=True)
    pg.set_viewport_size(size)
    return path


def wait_for_app(pg, timeout: float = 30_000) -> None:
    """Wait until Streamlit has finished running the script (no 'Running...' status widget, and stApp's
    data-test-script-state says the run ended: the status widget only shows up about a second into a run)."""
    pg.wait_for_selector('[data-testid="stApp"]', timeout=timeout)
    pg.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
        " && document.querySelector('[data-testid=\"stMainBlockContainer\"]')"
        " && document.querySelector('[data-testid=\"stApp\"]').dataset.testScriptState === 'notRunning'",
        timeout=timeout,
    )
    pg.wait_for_timeout(300)
