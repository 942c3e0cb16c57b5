"""Take the README's screenshot (docs/screenshot.png): the Latent map page with the default models, one test image
pinned and the pointer hovering the VAE's map, in headless Chromium at 1400x960. Re-run it after the shipped
checkpoints change:

    python docs/screenshot.py [--at 3] [--out docs/screenshot.png]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "e2e"))

from conftest import CHROMIUM_FLAGS, find_chromium, free_port, wait_healthy  # noqa: E402

SCRIPT_DONE = (
    "() => { const app = document.querySelector('[data-testid=\"stApp\"]');"
    " return app && app.dataset.testScriptState === 'notRunning'"
    " && window.__vaeLatentMap && window.__vaeLatentMap.stats.firstMapAt !== null"
    " && Array.from(document.images).every((i) => i.complete); }"
)

# Scroll whichever element scrolls Streamlit's main area so the title sits 24 px below the window's top.
SCROLL_TITLE_TO_TOP = """() => {
  const h = document.querySelector('h1');
  const scrolls = (el) => el.scrollHeight > el.clientHeight && getComputedStyle(el).overflowY !== 'visible';
  let el = h.parentElement;
  while (el && !scrolls(el)) el = el.parentElement;
  const box = el || document.scrollingElement;
  box.scrollTop += h.getBoundingClientRect().top - 24;
  return [box.getAttribute('data-testid'), box.scrollTop, h.getBoundingClientRect().top];
}"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--at", default="2", help="the test image clicked in both maps (?vae_at=&ae_at=)")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "screenshot.png")
    parser.add_argument("--height", type=int, default=960)
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "VAE_EXPLORER_USER_CHECKPOINTS": tempfile.mkdtemp(prefix="screenshot-user-ckpt-")}
    cmd = [
        sys.executable, "-m", "streamlit", "run", str(REPO / "app.py"),
        "--server.headless", "true", "--server.address", "127.0.0.1", "--server.port", str(port),
        "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
        "--client.toolbarMode", "viewer",  # no "Deploy" button in the picture
    ]  # fmt: skip
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_healthy(url, proc)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=find_chromium(), args=CHROMIUM_FLAGS, headless=True)
            pg = browser.new_page(viewport={"width": 1400, "height": args.height}, device_scale_factor=1)
            pg.goto(f"{url}/Latent_map?vae=mnist5k-vae-16&ae=mnist5k-ae-16&map=pca&vae_at={args.at}&ae_at={args.at}")
            pg.wait_for_function(SCRIPT_DONE, timeout=120_000, polling=200)
            # Scroll Streamlit's empty top band away: the title near the top, the decoded images in view.
            pg.evaluate(SCROLL_TITLE_TO_TOP)
            pg.wait_for_timeout(1000)  # the atlas of thumbnails and the images' decoding
            # Hover a place between the clusters of the VAE's map: both models decode it.
            lo = pg.evaluate("() => window.__vaeLatentMap.testImage('vae', 0)")
            at = pg.evaluate("([x, y]) => window.__vaeLatentMap.clientPoint('vae', x * 0.5, y * 0.5)", lo)
            pg.mouse.move(at["x"], at["y"])
            pg.wait_for_timeout(300)
            args.out.parent.mkdir(parents=True, exist_ok=True)
            pg.screenshot(path=str(args.out))
            browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
