"""The latent map in a real Chromium: a click on the empty plane decodes that place, another place decodes another
image, and a click on a test image selects it in both maps."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

import pytest

from tests.e2e.conftest import screenshot, wait_for_app

pytestmark = pytest.mark.browser

PAGE = "/Latent_map?vae=mnist5k-vae-16&ae=mnist5k-ae-16&map=pca"
DECODED_SRC = """label => {
  const button = document.querySelector(`[aria-label="Fullscreen: ${label}"]`);
  const img = button && button.closest('[data-testid="stElementToolbar"]').parentElement.querySelector('img');
  return img ? img.getAttribute('src') : null;
}"""
# Page coordinates of the first test image drawn on the map titled `model · ...` (plotly's own axis
# conversion).
TEST_IMAGE_XY = """model => {
  const gd = Array.from(document.querySelectorAll('.js-plotly-plot'))
    .find(g => ((g._fullLayout.title || {}).text || '').replace(/<[^>]*>/g, '').startsWith(`${model} ·`));
  const trace = gd._fullData.find(d => d.customdata);
  const box = gd.querySelector('.nsewdrag').getBoundingClientRect();
  return {x: box.left + gd._fullLayout.xaxis.d2p(trace.x[0]), y: box.top + gd._fullLayout.yaxis.d2p(trace.y[0])};
}"""


def _query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlparse(url).query).items()}


def _decoded_image(pg, label: str, other_than: str | None = None) -> str:
    """The src of the image captioned ``label`` once it is shown (and differs from ``other_than``)."""
    handle = pg.wait_for_function(
        f"([label, old]) => {{ const src = ({DECODED_SRC})(label); return src && src !== old ? src : null; }}",
        arg=[label, other_than],
        timeout=30_000,
    )
    return handle.json_value()


def _click_and_wait(pg, x: float, y: float, until_param: str) -> dict[str, str]:
    """Click at page coordinates and wait until the URL's ``until_param`` changes and the rerun has finished."""
    before = _query(pg.url).get(until_param)
    pg.mouse.move(x, y)
    pg.wait_for_timeout(150)  # let plotly register the hover it turns into a click selection
    pg.mouse.click(x, y)
    pg.wait_for_function(
        "([k, v]) => new URLSearchParams(location.search).get(k) !== v", arg=[until_param, before], timeout=30_000
    )
    wait_for_app(pg, timeout=60_000)
    pg.wait_for_timeout(500)
    return _query(pg.url)


def test_clicking_the_map_decodes_the_clicked_place(page, app_url):
    errors = page.console_errors  # console errors and page exceptions (conftest)
    page.goto(app_url + PAGE)
    wait_for_app(page, timeout=90_000)  # the first page of a fresh server loads torch, the data and the models
    page.wait_for_function("() => document.querySelectorAll('.js-plotly-plot .nsewdrag').length >= 2", timeout=60_000)
    assert page.evaluate(DECODED_SRC, "VAE: decoded") is None, "nothing is decoded before a click"
    vae_map = page.locator(".js-plotly-plot").first
    vae_map.scroll_into_view_if_needed()
    box = vae_map.locator(".nsewdrag").first.bounding_box()

    # The plot's outer margin holds no test image: these clicks land on the invisible grid, i.e. on the plane.
    query = _click_and_wait(page, box["x"] + 0.03 * box["width"], box["y"] + 0.04 * box["height"], "vae_at")
    assert "," in query["vae_at"], f"a click on the plane is a place x,y (got {query})"
    page.get_by_text(re.compile("PCA inverse transform")).first.wait_for(timeout=20_000)
    first = _decoded_image(page, "VAE: decoded")  # the decoded image appears beside the map

    box = vae_map.locator(".nsewdrag").first.bounding_box()
    query = _click_and_wait(page, box["x"] + 0.96 * box["width"], box["y"] + 0.95 * box["height"], "vae_at")
    assert _decoded_image(page, "VAE: decoded", other_than=first), "another place decodes to another image"

    # A click on a test image selects that image in both maps and shows it beside its reconstructions.
    xy = page.evaluate(TEST_IMAGE_XY, "Autoencoder")
    query = _click_and_wait(page, xy["x"], xy["y"], "ae_at")
    assert query["ae_at"].isdigit() and query["vae_at"] == query["ae_at"], query
    assert _decoded_image(page, "Autoencoder: decoded")
    page.get_by_text(re.compile(rf"^Test image #{query['ae_at']} \(label")).first.wait_for(timeout=20_000)

    page.set_viewport_size({"width": 1400, "height": 1900})
    wait_for_app(page)
    screenshot(page, "latent_map")
    assert not errors, errors
