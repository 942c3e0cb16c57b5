"""Benchmark: the layout of every page at a 1280x720 projector and a 390x844 phone, in headless Chromium against a
real `streamlit run` of the app: how many geometry problems each page has (two images, captions or buttons that
overlap, one that overflows its column, a code block or formula cut off; tests/e2e/test_layout.py's check, which the
test suite asserts), and where the page's first image or canvas ends (the fold is the window's height). Target: 0
problems everywhere.

    python bench/bench_layout.py
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.e2e.conftest import CHROMIUM_FLAGS, find_chromium, free_port, start_server, wait_healthy  # noqa: E402
from tests.e2e.test_layout import GEOMETRY, SIZES, problems, settle  # noqa: E402
from ui.sidebar import app_pages  # noqa: E402

IMAGES = '[data-testid="stMain"] [data-testid="stImage"] img, [data-testid="stMain"] canvas'
# The bottom edge of the page's first image or canvas (the one nearest the top), px from the top of the window.
FIRST_BOTTOM = """els => {
  const boxes = els.map(e => e.getBoundingClientRect()).filter(b => b.width > 0 && b.height > 0);
  if (!boxes.length) return null;
  const first = boxes.reduce((a, b) => (b.top < a.top ? b : a));
  return first.bottom;
}"""


def main() -> int:
    from playwright.sync_api import sync_playwright

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = start_server(port)
    rows: dict[str, dict[str, tuple[int, float | None]]] = {}
    details: list[str] = []
    try:
        wait_healthy(url, proc)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=find_chromium(), args=CHROMIUM_FLAGS, headless=True)
            for size, (width, height) in SIZES.items():
                page = browser.new_context(viewport={"width": width, "height": height}).new_page()
                for script, label in app_pages():
                    path = "" if script == "app.py" else Path(script).stem.split("_", 1)[1]
                    page.goto(f"{url}/{path}")
                    settle(page)
                    page.wait_for_timeout(800)  # images decode, components draw
                    found = problems(page.evaluate(GEOMETRY))
                    first_image = page.locator(IMAGES).evaluate_all(FIRST_BOTTOM)
                    rows.setdefault(label, {})[size] = (len(found), first_image)
                    details += [f"  /{path} at {width}x{height}: {p}" for p in found]
                page.context.close()
            browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    print(f"\n{'page':<16}" + "".join(f"{f'{s} {w}x{h}':>34}" for s, (w, h) in SIZES.items()))
    print(f"{'':<16}" + f"{'problems':>18}{'first image ends':>18}" * len(SIZES))
    for label, by_size in rows.items():
        cells = "".join(f"{by_size[s][0]:>18}{_px(by_size[s][1]):>16}" for s in SIZES)
        print(f"{label:<16}{cells}")
    total = sum(n for by_size in rows.values() for n, _ in by_size.values())
    print(f"\ngeometry problems over every page and size: {total} (target 0)")
    print("\n".join(details))
    return 0 if total == 0 else 1


def _px(value: float | None) -> str:
    return "no image" if value is None else f"{value:.0f} px"


if __name__ == "__main__":
    raise SystemExit(main())
