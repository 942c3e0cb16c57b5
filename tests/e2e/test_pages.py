"""Every page in a real Chromium: it loads, its script runs to the end without an exception or a console error, it
shows its title, and a full-page screenshot is saved. The sidebar's model choice follows the user between pages.

The pages are found in pages/ (each URL is the file name without its number prefix), so a new page is covered the
day it is added; its title is read from the page's own `page("...")` and `st.title("...")`.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from tests.e2e.conftest import screenshot
from ui.page import tab_title

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[2]
SCRIPT_DONE = (
    "() => { const app = document.querySelector('[data-testid=\"stApp\"]');"
    " return app && app.dataset.testScriptState === 'notRunning' && app.dataset.testConnectionState === 'CONNECTED'"
    " && !document.querySelector('[data-testid=\"stStatusWidget\"]'); }"
)
FIRST_RUN_MS = 90_000  # the first page a fresh server runs imports torch and loads every model: slow on a busy CPU
MAX_SCREENSHOT_HEIGHT = 8000


def _first_string_arg(script: Path, function: str) -> str | None:
    for node in ast.walk(ast.parse(script.read_text(encoding="utf-8"))):
        if (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", getattr(node.func, "id", None)) == function
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            return node.args[0].value
    return None


def page_title(script: Path) -> tuple[str, str | None]:
    """(the browser tab's title, the page's heading): the title given to ui.page.page("...") and the text of its
    first st.title("..."). A page may leave out the heading (the lesson shows its step's title in the progress bar
    to keep a projector's height for the step), never the tab title."""
    heading = _first_string_arg(script, "title")
    tab = _first_string_arg(script, "page") or heading  # the home page passes the app's name, which is its heading
    if tab is None:
        raise AssertionError(f'{script.name} does not call page("Title", icon): every page should say what it is')
    return tab, heading


def app_pages() -> list[tuple[str, tuple[str, str | None]]]:
    """(url path, (tab title, heading)) for the home page and every file in pages/
    ("pages/2_Latent_map.py" -> "/Latent_map")."""
    found = [("", page_title(REPO / "app.py"))]
    for script in sorted((REPO / "pages").glob("*.py"), key=lambda p: (int(re.match(r"\d*", p.stem)[0] or 0), p.stem)):
        found.append((re.sub(r"^\d+_", "", script.stem), page_title(script)))
    return found


def wait_script_done(pg, timeout: float = 60_000) -> None:
    """Until Streamlit reports the script run finished (stApp's data-test-script-state) and nothing is running."""
    pg.wait_for_function(SCRIPT_DONE, timeout=timeout, polling=100)


def full_page_screenshot(pg, name: str) -> Path:
    """Streamlit scrolls its main area inside the window: grow the window to the content's height to capture all."""
    height = pg.evaluate(
        "() => Math.max(...['stMain', 'stAppViewContainer', 'stMainBlockContainer']"
        '.map(id => document.querySelector(`[data-testid="${id}"]`)).filter(Boolean).map(e => e.scrollHeight),'
        " document.documentElement.scrollHeight)"
    )
    size = pg.viewport_size
    pg.set_viewport_size({"width": size["width"], "height": min(max(height, size["height"]), MAX_SCREENSHOT_HEIGHT)})
    pg.wait_for_timeout(400)  # plotly and images re-lay out to the new size
    path = screenshot(pg, name)
    pg.set_viewport_size(size)
    return path


def _query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlparse(url).query).items()}


@pytest.mark.parametrize(("path", "title"), app_pages(), ids=[path or "home" for path, _ in app_pages()])
def test_page_runs_to_the_end_and_shows_its_title(page, app_url, path, title):
    page.goto(f"{app_url}/{path}")
    wait_script_done(page, FIRST_RUN_MS)
    tab, heading_text = title
    if heading_text is not None:
        heading = page.locator("h1").filter(has_text=heading_text)
        heading.first.wait_for(timeout=10_000)
        assert heading.first.is_visible(), f"the page should show its title {heading_text!r}"
    assert page.title() == tab_title(tab), f"the browser tab should read {tab_title(tab)!r}, not {page.title()!r}"
    exceptions = page.locator('[data-testid="stException"]')
    assert exceptions.count() == 0, f"/{path} shows an exception: {exceptions.first.inner_text()[:800]}"
    broken_math = page.locator(".katex-error")  # KaTeX shows a formula it cannot parse as red source text
    assert broken_math.count() == 0, f"/{path} shows unrendered math: {broken_math.first.get_attribute('title')}"
    expected = ["Home", *(p.replace("_", " ") for p, _ in app_pages()[1:])]
    nav = '[data-testid="stSidebar"] [data-testid="stPageLink-NavLink"]'
    # A page that writes the model pair into its URL reruns once on a fresh tab: its links are redrawn meanwhile.
    page.wait_for_function("([sel, n]) => document.querySelectorAll(sel).length === n", arg=[nav, len(expected)])
    links = page.locator(nav).all_inner_texts()
    assert links == expected, "the sidebar lists every page"
    full_page_screenshot(page, f"page-{path or 'home'}")
    assert page.console_errors == [], page.console_errors


def test_the_chosen_model_follows_the_user_through_the_sidebar_links(page, app_url):
    page.goto(f"{app_url}/Interpolate")
    wait_script_done(page, FIRST_RUN_MS)
    vae_box = page.get_by_label("VAE", exact=True)
    assert not vae_box.input_value().startswith("mnist5k-vae-2 "), "the test needs a page that starts elsewhere"

    vae_box.click()
    page.get_by_role("option", name=re.compile(r"^mnist5k-vae-2 ")).click()
    page.wait_for_function("() => new URLSearchParams(location.search).get('vae') === 'mnist5k-vae-2'")
    wait_script_done(page)
    assert _query(page.url).get("ae") == "mnist5k-ae-2", "the autoencoder follows to the VAE's 2-D twin"

    titles = {"/" + path: heading for path, (_tab, heading) in app_pages()}
    for target in ("/Latent_map", "/"):  # a page with query parameters of its own, then home
        link = "Home" if target == "/" else target.strip("/").replace("_", " ")
        page.locator('[data-testid="stSidebar"]').get_by_role("link", name=link, exact=True).click()
        page.wait_for_function("p => location.pathname === p", arg=target)
        page.locator("h1").filter(has_text=titles[target]).first.wait_for(timeout=30_000)  # the new page's run
        page.wait_for_function("() => new URLSearchParams(location.search).get('vae') !== null", timeout=30_000)
        wait_script_done(page)
        query = _query(page.url)
        assert query.get("vae") == "mnist5k-vae-2", f"{target} lost the chosen VAE: {page.url}"
        assert query.get("ae") == "mnist5k-ae-2", f"{target} lost the chosen autoencoder: {page.url}"
        assert page.get_by_label("VAE", exact=True).input_value().startswith("mnist5k-vae-2 "), target
    assert page.locator('[data-testid="stException"]').count() == 0
    assert page.console_errors == [], page.console_errors
