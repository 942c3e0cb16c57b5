"""The latent map's JavaScript inverse (ui/map_inverse.js) gives the same codes as vae_core's map decoding.

The browser decodes a hovered place through ui/map_inverse.js; a pinned place is decoded in Python through
``LatentMap.code_at``. Both must agree, or the image under the cursor and the one the page shows after a click
would differ. The JS runs in node when there is one, else in Chromium (Playwright); without either it skips."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from vae_core.latent.map_decoding import LatentMap

INVERSE_JS = Path(__file__).resolve().parents[1] / "ui" / "map_inverse.js"
# Called with the inputs as one object; returns the codes at every query point, and each query's nearest points.
RUN = """
const [inv, points, codes, n, dim, queries, k] = [input.inverse, input.points, input.codes, input.n, input.dim,
                                                 input.queries, input.k];
const data = {points: Float32Array.from(points), codes: Float32Array.from(codes), n, dim};
const scratch = inverseScratch(Math.max(k, 1), dim);
const out = {codes: [], nearest: [], same: []};
for (const [x, y] of queries) {
  out.codes.push(Array.from(codeAt(inv, data, x, y, scratch)));
  const m = nearestK(data.points, n, x, y, k, scratch.idx, scratch.dist);
  out.nearest.push(Array.from(scratch.idx.subarray(0, m)));
  out.same.push(samePlace(data.points, data.points, n, x, y, k, scratch));
}
return out;
"""


def run_js(payload: dict) -> dict:
    """ui/map_inverse.js, then RUN over ``payload``: in node if installed, else in headless Chromium."""
    source = INVERSE_JS.read_text(encoding="utf-8")
    node = shutil.which("node")
    if node:
        script = f"const input = JSON.parse(require('fs').readFileSync(0, 'utf8'));\n{source}\n"
        script += f"process.stdout.write(JSON.stringify((() => {{{RUN}}})()));"
        done = subprocess.run(
            [node, "-e", script], input=json.dumps(payload), capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)
    from tests.e2e.conftest import CHROMIUM_FLAGS, find_chromium

    sync_api = pytest.importorskip("playwright.sync_api", reason="neither node nor playwright is installed")
    with sync_api.sync_playwright() as pw:
        try:
            browser = pw.chromium.launch(executable_path=find_chromium(), args=CHROMIUM_FLAGS, headless=True)
        except Exception as e:
            pytest.skip(f"neither node nor a Chromium to run the JavaScript: {e}")
        page = browser.new_page()
        result = page.evaluate(f"(input) => {{ {source}\n{RUN} }}", payload)
        browser.close()
        return result


def _payload(lmap: LatentMap, inverse: dict, queries: np.ndarray) -> dict:
    return {
        "inverse": inverse,
        "points": lmap.points_.ravel().tolist(),
        "codes": lmap.codes_.ravel().tolist(),
        "n": len(lmap.points_),
        "dim": lmap.latent_dim,
        "queries": queries.tolist(),
        "k": lmap.k,
    }


def _queries(lmap: LatentMap, rng: np.random.Generator) -> np.ndarray:
    """Places all over the map and beyond its edge, and a few test images' own places."""
    lo, hi = lmap.bounds(0.3)
    places = rng.uniform(lo, hi, size=(60, 2))
    return np.vstack([places, lmap.points_[:5].astype(np.float64)])


def test_pca_inverse_in_js_equals_vae_core():
    rng = np.random.default_rng(0)
    codes = (rng.standard_normal((300, 16)) * rng.uniform(0.2, 3.0, 16)).astype(np.float32)
    lmap = LatentMap("pca").fit(codes)
    pca = lmap.inverse_
    inverse = {"kind": "linear", "mean": pca.mean_.tolist(), "components": pca.components_.tolist()}
    queries = _queries(lmap, rng)
    got = np.array(run_js(_payload(lmap, inverse, queries))["codes"])
    want = np.array([lmap.code_at(q) for q in queries])
    assert np.abs(got - want).max() < 1e-5


def test_tsne_neighbour_inverse_in_js_equals_vae_core():
    rng = np.random.default_rng(1)
    codes = rng.standard_normal((400, 8)).astype(np.float32)
    islands = rng.integers(0, 4, 400)  # a t-SNE-like map: separated clusters with empty space between them
    points = rng.standard_normal((400, 2)) * 2 + np.array([[-20, -20], [20, -20], [-20, 20], [20, 20]])[islands]
    lmap = LatentMap("tsne").fit(codes, points.astype(np.float32))
    queries = _queries(lmap, rng)
    result = run_js(_payload(lmap, {"kind": "neighbours", "k": lmap.k}, queries))
    want = np.array([lmap.code_at(q) for q in queries])
    assert np.abs(np.array(result["codes"]) - want).max() < 1e-5
    assert [list(lmap.nearest(q)) for q in queries] == result["nearest"], "the same k nearest, in the same order"
    # "the same place" on an identical map is the place itself on a test image, and inside the cloud elsewhere
    same = np.array(result["same"])
    assert np.allclose(same[-5:], lmap.points_[:5], atol=1e-4)
    lo, hi = lmap.bounds(0.0)
    assert np.all((same >= lo - 1e-4) & (same <= hi + 1e-4))
