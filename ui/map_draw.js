// Drawing the latent map: the still background (a background layer, prior circles, the test codes as dots, thumbnails
// of test images, then the marks Python placed: an image's code, samples of q(z|x), a path), redrawn only when the
// view changes, and the overlay of every frame (pin, probe, linked ring) on top of it.
// Canvases are sized in device pixels (CSS size x devicePixelRatio), so the map is crisp on a high-DPI projector.
// Part of the latent map's ES module (see ui/map_component.py): after map_inverse.js, before map_component.js.

const DOT_PX = 2.6; // radius of a test code's dot, CSS px
const THUMB_PX = 26; // a thumbnail's side, CSS px
const THUMB_CELL_PX = 46; // at most one thumbnail per cell of this size, so they never pile up

function cssVar(el, name, fallback) {
  const v = getComputedStyle(el).getPropertyValue(name).trim();
  return v || fallback;
}

/** Map units -> CSS px of the map canvas, and back. view.cam = {cx, cy, s}: the centre and px per map unit. */
function toScreen(view, x, y) {
  const { cx, cy, s } = view.cam;
  return [view.size / 2 + (x - cx) * s, view.size / 2 - (y - cy) * s];
}

function toMap(view, px, py) {
  const { cx, cy, s } = view.cam;
  return [cx + (px - view.size / 2) / s, cy - (py - view.size / 2) / s];
}

/** The camera that shows every test code and every mark ({x, y}) with a margin of 8% on each side (vae_core
 * LatentMap.bounds): an uploaded image can land far outside the test codes. */
function fitCamera(points, n, size, marks = []) {
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  const take = (x, y) => {
    if (x < x0) x0 = x;
    if (x > x1) x1 = x;
    if (y < y0) y0 = y;
    if (y > y1) y1 = y;
  };
  for (let i = 0; i < n; i++) take(points[2 * i], points[2 * i + 1]);
  for (const m of marks) take(m.x, m.y);
  const w = Math.max(x1 - x0, 1e-6) * 1.16, h = Math.max(y1 - y0, 1e-6) * 1.16;
  return { cx: (x0 + x1) / 2, cy: (y0 + y1) / 2, s: size / Math.max(w, h) };
}

/** One RGBA canvas holding every thumbnail of the atlas, each tinted in its label's colour (alpha = ink). */
function tintAtlas(atlas, labels, palette) {
  const { bitmap, cols, n, tile } = atlas;
  const canvas = document.createElement("canvas");
  canvas.width = bitmap.width;
  canvas.height = bitmap.height;
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  ctx.drawImage(bitmap, 0, 0);
  const img = ctx.getImageData(0, 0, canvas.width, canvas.height), px = img.data;
  const rgb = palette.map((c) => [1, 3, 5].map((o) => parseInt(c.slice(o, o + 2), 16)));
  for (let t = 0; t < n; t++) {
    const [r, g, b] = rgb[labels[atlas.index ? atlas.index[t] : t] % rgb.length];
    const x0 = (t % cols) * tile, y0 = Math.floor(t / cols) * tile;
    for (let y = y0; y < y0 + tile; y++)
      for (let x = x0; x < x0 + tile; x++) {
        const j = 4 * (y * canvas.width + x), ink = px[j];
        px[j] = r;
        px[j + 1] = g;
        px[j + 2] = b;
        px[j + 3] = ink;
      }
  }
  ctx.putImageData(img, 0, 0);
  return canvas;
}

/** Size a canvas to `css` CSS px square, `dpr` device pixels per CSS px. */
function sizeCanvas(canvas, css, dpr) {
  const px = Math.max(1, Math.round(css * dpr));
  if (canvas.width !== px) canvas.width = canvas.height = px;
  canvas.style.width = canvas.style.height = `${css}px`;
}

function drawPriorCircles(ctx, view, colour) {
  const [x, y] = toScreen(view, view.model.prior[0], view.model.prior[1]);
  ctx.save();
  ctx.strokeStyle = colour;
  ctx.fillStyle = colour;
  ctx.setLineDash([4, 4]);
  ctx.lineWidth = 1;
  ctx.font = "10px sans-serif";
  for (const r of [1, 2, 3]) {
    const rp = r * view.cam.s;
    ctx.globalAlpha = 0.55;
    ctx.beginPath();
    ctx.arc(x, y, rp, 0, 2 * Math.PI);
    ctx.stroke();
    ctx.globalAlpha = 0.8;
    ctx.fillText(`${r}\u03c3`, x + rp * 0.7071 + 2, y - rp * 0.7071 - 2);
  }
  ctx.restore();
}

/** The still layer: background, its layer, prior circles, dots of the visible classes, thumbnails over the view. */
function drawBackground(view, inst) {
  const dpr = inst.dpr, size = view.size, m = view.model, data = view.data;
  const bg = (view.bg ??= document.createElement("canvas"));
  sizeCanvas(bg, size, dpr);
  const ctx = bg.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.fillStyle = inst.colours.background;
  ctx.fillRect(0, 0, size, size);
  drawLayer(ctx, view, inst); // under everything else (map_layer.js)
  if (m.prior && inst.showPrior) drawPriorCircles(ctx, view, inst.colours.text);
  const labels = inst.labels, palette = inst.palette, pts = data.points;
  ctx.globalAlpha = 0.7;
  for (let c = 0; c < palette.length; c++) {
    if (inst.hidden.has(c)) continue;
    ctx.fillStyle = palette[c];
    ctx.beginPath();
    for (let i = 0; i < data.n; i++) {
      if (labels[i] % palette.length !== c) continue;
      const [x, y] = toScreen(view, pts[2 * i], pts[2 * i + 1]);
      if (x < -DOT_PX || y < -DOT_PX || x > size + DOT_PX || y > size + DOT_PX) continue;
      ctx.moveTo(x + DOT_PX, y);
      ctx.arc(x, y, DOT_PX, 0, 2 * Math.PI);
    }
    ctx.fill();
  }
  ctx.globalAlpha = 1;
  const atlas = inst.tinted;
  if (atlas && inst.showImages) {
    const cells = Math.max(1, Math.floor(size / THUMB_CELL_PX));
    const [x0, y1] = toMap(view, 0, 0), [x1, y0] = toMap(view, size, size);
    const keep = (i) => !inst.hidden.has(labels[i] % palette.length) && inst.tile.has(i);
    for (const i of spreadInView(pts, data.n, x0, y0, x1, y1, cells, cells, keep)) {
      const t = inst.tile.get(i), tile = inst.atlas.tile;
      const [x, y] = toScreen(view, pts[2 * i], pts[2 * i + 1]);
      const sx = (t % inst.atlas.cols) * tile, sy = Math.floor(t / inst.atlas.cols) * tile;
      ctx.drawImage(atlas, sx, sy, tile, tile, x - THUMB_PX / 2, y - THUMB_PX / 2, THUMB_PX, THUMB_PX);
    }
  }
  drawMarks(ctx, view, inst.colours);
  ctx.fillStyle = inst.colours.text;
  ctx.globalAlpha = 0.6;
  ctx.font = "11px sans-serif";
  ctx.fillText(m.axes[0] + " \u2192", size - 8 - ctx.measureText(m.axes[0] + " \u2192").width, size - 7);
  ctx.fillText(m.axes[1] + " \u2191", 6, 14);
  ctx.globalAlpha = 1;
}

function ring(ctx, x, y, r, colour, width) {
  ctx.strokeStyle = colour;
  ctx.lineWidth = width;
  ctx.beginPath();
  ctx.arc(x, y, r, 0, 2 * Math.PI);
  ctx.stroke();
}

const MARK_GOLD = "#FFD700"; // an image's own code: a gold star, outlined in black, on a halo of the map's background
const STAR_PX = 11; // the star's outer radius, CSS px
const SAMPLE_PX = 4; // a sample's hollow dot
const PATH_PX = 5; // a path's step: a square of 4 px, hovered within 5 px
const PATH_DASHES = [[], [7, 5], [2, 4]]; // the first path on a map solid, the second dashed, the third dotted

function star(ctx, x, y, r) {
  ctx.beginPath();
  for (let k = 0; k < 10; k++) {
    const a = -Math.PI / 2 + (k * Math.PI) / 5, rk = k % 2 ? r * 0.45 : r;
    ctx.lineTo(x + rk * Math.cos(a), y + rk * Math.sin(a));
  }
  ctx.closePath();
}

/** The marks of ui.map_component.Mark, over the dots: each path as a line through its points (consecutive path marks
 * with one label), samples as hollow dots, codes as labelled stars. Every stroke goes over a wider one in the map's
 * background colour, so a mark stands out from the dots below it in a light and a dark theme alike. */
function drawMarks(ctx, view, colours) {
  const marks = view.model.marks || [], ink = colours.text, halo = colours.background;
  ctx.save();
  ctx.lineJoin = "round";
  for (let i = 0, path = 0; i < marks.length; ) {
    let j = i;
    while (j < marks.length && marks[j].kind === "path" && marks[j].label === marks[i].label) j++;
    if (j === i) { i++; continue; }
    const pts = marks.slice(i, j).map((m) => toScreen(view, m.x, m.y));
    ctx.setLineDash(PATH_DASHES[path++ % PATH_DASHES.length]);
    for (const [colour, width] of [[halo, 5], [ink, 2]]) {
      ctx.strokeStyle = colour;
      ctx.lineWidth = width;
      ctx.beginPath();
      pts.forEach(([x, y]) => ctx.lineTo(x, y));
      ctx.stroke();
    }
    ctx.setLineDash([]);
    ctx.fillStyle = ink;
    for (const [x, y] of pts) ctx.fillRect(x - 2, y - 2, 4, 4);
    i = j;
  }
  for (const m of marks) {
    if (m.kind !== "sample") continue;
    const [x, y] = toScreen(view, m.x, m.y);
    ring(ctx, x, y, SAMPLE_PX, halo, 4.5);
    ring(ctx, x, y, SAMPLE_PX, ink, 1.8);
  }
  ctx.font = "600 12px sans-serif";
  const middle = marks.reduce((sum, m) => sum + m.x, 0) / Math.max(1, marks.length);
  for (const m of marks) {
    if (m.kind !== "code") continue;
    const [x, y] = toScreen(view, m.x, m.y);
    star(ctx, x, y, STAR_PX);
    ctx.strokeStyle = halo;
    ctx.lineWidth = 6;
    ctx.stroke();
    ctx.fillStyle = MARK_GOLD;
    ctx.fill();
    ctx.strokeStyle = "#000";
    ctx.lineWidth = 1.5;
    ctx.stroke();
    // The label on the side away from the other marks (a path's other end), unless it would leave the map there.
    const w = ctx.measureText(m.label).width, fits = [x + STAR_PX + 4 + w < view.size - 4, x - STAR_PX - 4 - w > 4];
    const right = m.x >= middle ? fits[0] || !fits[1] : !fits[1];
    const tx = right ? x + STAR_PX + 4 : x - STAR_PX - 4 - w, ty = y + 4;
    ctx.strokeStyle = halo;
    ctx.lineWidth = 4;
    ctx.strokeText(m.label, tx, ty);
    ctx.fillStyle = ink;
    ctx.fillText(m.label, tx, ty);
  }
  ctx.restore();
}

/** The mark under (x, y) (within its drawn size; `scale` CSS px per map unit), the nearest one, or null: what the
 * pointer is on. Marks are drawn over the dots, so they come before a test image under them. */
function markUnder(marks, x, y, scale) {
  let best = null, bestD = 1;
  for (const m of marks || []) {
    const r = (m.kind === "code" ? STAR_PX : m.kind === "sample" ? SAMPLE_PX + 1 : PATH_PX) / scale;
    const d = ((m.x - x) ** 2 + (m.y - y) ** 2) / (r * r);
    if (d <= bestD) (best = m), (bestD = d);
  }
  return best;
}

function cross(ctx, x, y, r, colour) {
  ctx.strokeStyle = colour;
  ctx.lineWidth = 2;
  ctx.beginPath();
  ctx.moveTo(x - r, y); ctx.lineTo(x + r, y); ctx.moveTo(x, y - r); ctx.lineTo(x, y + r);
  ctx.stroke();
}

/** Every frame: the background, then the pin (black ring), the linked test image (accent ring) and the probe
 * (a crosshair where the pointer is, a + where the other map decodes the same place). */
function drawOverlay(view, inst) {
  const ctx = view.ctx, dpr = inst.dpr;
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  if (view.bg) ctx.drawImage(view.bg, 0, 0);
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  const pts = view.data.points, accent = inst.colours.accent, ink = inst.colours.text;
  const pin = view.pinXY();
  if (pin) {
    const [x, y] = toScreen(view, pin[0], pin[1]);
    ring(ctx, x, y, 10, "rgba(255,255,255,0.9)", 5);
    ring(ctx, x, y, 10, ink, 2.5);
  }
  if (inst.linked >= 0) {
    const [x, y] = toScreen(view, pts[2 * inst.linked], pts[2 * inst.linked + 1]);
    ring(ctx, x, y, 8, "rgba(255,255,255,0.9)", 4);
    ring(ctx, x, y, 8, accent, 2);
  }
  if (view.probe && inst.active) {
    const [x, y] = toScreen(view, view.probe[0], view.probe[1]);
    if (inst.active === view) {
      ctx.globalAlpha = 0.45;
      cross(ctx, x, y, 2000, accent);
      ctx.globalAlpha = 1;
      ring(ctx, x, y, 5, accent, 2);
    } else {
      cross(ctx, x, y, 9, "rgba(255,255,255,0.9)");
      cross(ctx, x, y, 8, accent);
    }
  }
}
