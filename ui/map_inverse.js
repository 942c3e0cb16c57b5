// The way back from a point on a latent map to a code, in the browser: the same math as vae_core's map decoding.
//
// PCA (and the identity map of a 2-D latent) is linear: code = mean + x * components[0] + y * components[1].
// t-SNE has no inverse: the code is the inverse-distance-weighted mean of the codes of the k nearest mapped points,
// weights 1 / (distance + 1e-6), as vae_core's NeighbourInverse computes it; so it stays inside the cloud of codes.
// A mark Python placed with its code (ui.map_component.Mark) is decoded as that code, wherever the map puts it.
// Pure functions over typed arrays (no DOM): tests/test_map_inverse_js.py runs this file in node against numpy.
// ui/map_component.py puts it into the latent map's ES module, after live_pad_decoder.js.

const IDW_EPS = 1e-6; // vae_core NeighbourInverse: w = 1 / (d + 1e-6)

/** The k mapped points nearest to (x, y), nearest first: fills idx (Int32Array) and dist (Float64Array) and
 * returns how many it found (min(k, n)). points is (n, 2) row-major. Ties keep the lower index first. */
function nearestK(points, n, x, y, k, idx, dist) {
  const m = Math.min(k, n);
  let filled = 0;
  for (let i = 0; i < n; i++) {
    const dx = points[2 * i] - x, dy = points[2 * i + 1] - y;
    const d = Math.sqrt(dx * dx + dy * dy);
    if (filled === m && d >= dist[m - 1]) continue;
    let j = filled < m ? filled++ : m - 1; // insertion into the sorted list
    while (j > 0 && dist[j - 1] > d) {
      dist[j] = dist[j - 1];
      idx[j] = idx[j - 1];
      j--;
    }
    dist[j] = d;
    idx[j] = i;
  }
  return m;
}

/** Inverse-distance weights of the first m neighbours (they sum to 1), into w. */
function idwWeights(dist, m, w) {
  let total = 0;
  for (let j = 0; j < m; j++) total += (w[j] = 1 / (dist[j] + IDW_EPS));
  for (let j = 0; j < m; j++) w[j] /= total;
  return w;
}

/** A scratch space for one map's look-ups: no allocation on the hover path. */
function inverseScratch(k, dim) {
  return { idx: new Int32Array(k), dist: new Float64Array(k), w: new Float64Array(k), code: new Float64Array(dim) };
}

/** The code at map point (x, y). inv is {kind: "linear", mean, components: [c0, c1]} or {kind: "neighbours", k};
 * data is {points (n, 2), codes (n, dim), n, dim}. Returns scratch.code (overwritten by the next call). */
function codeAt(inv, data, x, y, scratch) {
  const out = scratch.code, dim = data.dim;
  if (inv.kind === "linear") {
    const { mean, components } = inv, c0 = components[0], c1 = components[1];
    for (let d = 0; d < dim; d++) out[d] = x * c0[d] + y * c1[d] + mean[d];
    return out;
  }
  const m = nearestK(data.points, data.n, x, y, inv.k, scratch.idx, scratch.dist);
  idwWeights(scratch.dist, m, scratch.w);
  out.fill(0);
  for (let j = 0; j < m; j++) {
    const base = scratch.idx[j] * dim, wj = scratch.w[j];
    for (let d = 0; d < dim; d++) out[d] += wj * data.codes[base + d];
  }
  return out;
}

/** The same place on another map of the same test images: the mapped points nearest to (x, y) on this map, and
 * the inverse-distance-weighted mean of where those test images lie on the other map. On a test image it is that
 * image's place on the other map (its weight is ~1). Returns [x', y']. */
function samePlace(fromPoints, toPoints, n, x, y, k, scratch) {
  const m = nearestK(fromPoints, n, x, y, k, scratch.idx, scratch.dist);
  idwWeights(scratch.dist, m, scratch.w);
  let px = 0, py = 0;
  for (let j = 0; j < m; j++) {
    const i = scratch.idx[j];
    px += scratch.w[j] * toPoints[2 * i];
    py += scratch.w[j] * toPoints[2 * i + 1];
  }
  return [px, py];
}

/** The mark of `others` (another model's map) that stands for `mark` of `marks`: the same kind and label, the same
 * rank among them (the same image's code; the same step of a path), or null. */
function twinOf(mark, marks, others) {
  const same = (m) => m.kind === mark.kind && m.label === mark.label;
  return others.filter(same)[marks.filter(same).indexOf(mark)] || null;
}

/** The code a mark stands for, when Python sent it: decoded as it is, not through the map (which may be a view of a
 * larger latent). Null when the mark carries none. */
function markCode(mark) {
  return mark && mark.code && mark.code.length ? Float64Array.from(mark.code) : null;
}

/** The test image drawn under (x, y), within radius (map units), among the visible ones; -1 if none. */
function pointUnder(points, n, x, y, radius, visible) {
  let best = -1, bestD = radius * radius;
  for (let i = 0; i < n; i++) {
    if (visible && !visible(i)) continue;
    const dx = points[2 * i] - x, dy = points[2 * i + 1] - y, d = dx * dx + dy * dy;
    if (d <= bestD) {
      bestD = d;
      best = i;
    }
  }
  return best;
}

/** One point per occupied cell of a grid over [x0, x1] x [y0, y1] (the one nearest the cell's centre), at most
 * cols * rows of them: where to draw thumbnails without piling them up (vae_core LatentMap.spread, in the view). */
function spreadInView(points, n, x0, y0, x1, y1, cols, rows, keep) {
  const cw = (x1 - x0) / cols, ch = (y1 - y0) / rows, best = new Map();
  for (let i = 0; i < n; i++) {
    const px = points[2 * i], py = points[2 * i + 1];
    if (px < x0 || px >= x1 || py < y0 || py >= y1 || (keep && !keep(i))) continue;
    const cx = Math.floor((px - x0) / cw), cy = Math.floor((py - y0) / ch), cell = cy * cols + cx;
    const dx = px - (x0 + (cx + 0.5) * cw), dy = py - (y0 + (cy + 0.5) * ch), d = dx * dx + dy * dy;
    const prev = best.get(cell);
    if (!prev || d < prev[1]) best.set(cell, [i, d]);
  }
  return Array.from(best.values(), (v) => v[0]);
}
