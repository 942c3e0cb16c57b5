// The background layer under a map's dots (ui/map_layers.py Background): a grid of values over the map's plane,
// e.g. the classifier's confidence on the image each place decodes to. The grid arrives once per tab as uint8
// values; each grid is painted through its colour ramp into a small canvas (one pixel per cell) once, then drawn
// by the still layer with the map's camera and without smoothing, so that cells read as cells at any zoom.
// Part of the latent map's ES module (see ui/map_component.py): after map_draw.js, before map_view.js.

const LAYER_CANVASES = new Map(); // grid asset key -> its painted canvas (cols x rows px)
const MAX_LAYERS = 16;

/** The ramp's colour [r, g, b] of a value in [0, 1], linear between its stops (ui.map_layers.ramp_colour). */
function rampColour(ramp, v) {
  const rgb = (c) => [1, 3, 5].map((o) => parseInt(c.slice(o, o + 2), 16));
  for (let i = 1; i < ramp.length; i++) {
    const [t0, c0] = ramp[i - 1], [t1, c1] = ramp[i];
    if (v > t1) continue;
    const f = t1 === t0 ? 0 : Math.min(1, Math.max(0, (v - t0) / (t1 - t0))), a = rgb(c0), b = rgb(c1);
    return a.map((x, k) => Math.round(x + (b[k] - x) * f));
  }
  return rgb(ramp[ramp.length - 1][1]);
}

/** The ramp as a CSS gradient, for the legend's swatch. */
function rampCss(ramp) {
  return `linear-gradient(90deg, ${ramp.map(([t, c]) => `${c} ${Math.round(100 * t)}%`).join(", ")})`;
}

/** One pixel per cell (row 0 at the top), in the ramp's colours; built once per grid. */
function layerCanvas(bg) {
  if (LAYER_CANVASES.has(bg.grid)) return LAYER_CANVASES.get(bg.grid);
  const values = LM.assets.get(bg.grid);
  if (!values || values.length !== bg.rows * bg.cols) return null;
  const canvas = document.createElement("canvas");
  canvas.width = bg.cols;
  canvas.height = bg.rows;
  const ctx = canvas.getContext("2d"), img = ctx.createImageData(bg.cols, bg.rows);
  const lut = Array.from({ length: 256 }, (_, v) => rampColour(bg.ramp, v / 255));
  values.forEach((v, i) => img.data.set([...lut[v], 255], 4 * i));
  ctx.putImageData(img, 0, 0);
  LAYER_CANVASES.set(bg.grid, canvas);
  while (LAYER_CANVASES.size > MAX_LAYERS) LAYER_CANVASES.delete(LAYER_CANVASES.keys().next().value);
  return canvas;
}

/** Draw the view's background layer onto the still layer's context (already scaled by dpr): the image's corners go
 * where Python placed them on the map (top-left, top-right, bottom-left), so any rotation or flip is kept. */
function drawLayer(ctx, view, inst) {
  const bg = view.model.background;
  const canvas = bg && inst.showLayer ? layerCanvas(bg) : null;
  if (!canvas) return;
  const [o, r, b] = bg.corners.map(([x, y]) => toScreen(view, x, y)), d = inst.dpr;
  ctx.save();
  ctx.imageSmoothingEnabled = false;
  ctx.setTransform(
    (d * (r[0] - o[0])) / bg.cols, (d * (r[1] - o[1])) / bg.cols,
    (d * (b[0] - o[0])) / bg.rows, (d * (b[1] - o[1])) / bg.rows, d * o[0], d * o[1],
  );
  ctx.drawImage(canvas, 0, 0);
  ctx.restore();
}

/** The layer's four corners on the map as {x, y}: the first view fits them too. */
function layerCorners(model) {
  const bg = model.background;
  if (!bg) return [];
  const [o, r, b] = bg.corners;
  return [o, r, b, [r[0] + b[0] - o[0], r[1] + b[1] - o[1]]].map(([x, y]) => ({ x, y }));
}

/** The layer's value (0..1) in the cell under map place (x, y), or null off the grid. */
function layerValue(model, x, y) {
  const bg = model.background, values = bg && LM.assets.get(bg.grid);
  if (!values) return null;
  const [o, r, b] = bg.corners;
  const ax = r[0] - o[0], ay = r[1] - o[1], bx = b[0] - o[0], by = b[1] - o[1], det = ax * by - ay * bx;
  if (!det) return null;
  const px = x - o[0], py = y - o[1];
  const u = (px * by - py * bx) / det, v = (ax * py - ay * px) / det; // across and down the image, 0..1
  if (!(u >= 0 && u < 1 && v >= 0 && v < 1)) return null;
  return values[Math.floor(v * bg.rows) * bg.cols + Math.floor(u * bg.cols)] / 255;
}

/** What the layer says about a place, for the decoded image's caption: "; confidence 0.42" (or nothing). */
function layerNote(model, xy) {
  const v = xy ? layerValue(model, xy[0], xy[1]) : null;
  return v === null ? "" : `; ${model.background.name} ${v.toFixed(2)}`;
}
