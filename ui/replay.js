// Training replayed, in the browser: the VAE's and the autoencoder's maps of the test codes side by side, moving
// over training, with play / pause / scrub and the loss terms marked at the same moment. Every frame is painted
// here from the frames Python sent once (tweened between stored frames); nothing goes back to the server while it
// plays. On the final frame, whose weights the checkpoint holds, the map decodes the place under the pointer with
// the live pad's decoder (live_pad_decoder.js, which comes first in this ES module; see ui/replay.py).

const RP = (globalThis.__vaeReplay ??= {});
RP.stats ??= { paints: 0, paintMs: [], firstPaintAt: null, decodes: 0 };
const INSTANCES = new WeakMap(); // component root -> instance (survives reruns)
const FRAMES_PER_SECOND = 8; // stored frames played per second: 55 frames (20 epochs) take about 7 s
const MAP_MAX_PX = 330;

function unpack(data) {
  const n = new DataView(data.buffer, data.byteOffset, data.byteLength).getUint32(0, true);
  return { header: JSON.parse(new TextDecoder().decode(data.subarray(4, 4 + n))), blobs: data.subarray(4 + n) };
}

function halves(bytes) {
  if (!HALF_TABLE) {
    HALF_TABLE = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) HALF_TABLE[h] = halfToFloat(h);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(bytes.byteLength / 2);
  for (let i = 0; i < out.length; i++) out[i] = HALF_TABLE[view.getUint16(2 * i, true)];
  return out;
}

function buildModel(spec, blobs) {
  const xy = halves(blobs.subarray(spec.xy.offset, spec.xy.offset + spec.xy.length));
  if (xy.length !== spec.frames * spec.n * 2) throw new Error(`the frames of ${spec.name} do not fit together`);
  let [x0, x1, y0, y1] = spec.range;
  return { ...spec, xy, epoch: Float64Array.from(spec.epoch), range: { x0, x1, y0, y1 } };
}

// The fractional frame of a model at epoch e: i + f between stored frames i and i + 1.
function frameAt(model, e) {
  const ep = model.epoch, last = ep.length - 1;
  if (e <= ep[0]) return 0;
  if (e >= ep[last]) return last;
  let lo = 0, hi = last;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (ep[mid] <= e) lo = mid;
    else hi = mid;
  }
  return lo + (e - ep[lo]) / Math.max(1e-9, ep[hi] - ep[lo]);
}

function termAt(values, s) {
  const i = Math.floor(s), f = s - i;
  return i + 1 < values.length ? values[i] * (1 - f) + values[i + 1] * f : values[values.length - 1];
}

function createView(inst, model) {
  const el = document.createElement("div");
  el.className = "rp-model";
  el.innerHTML =
    '<div class="rp-head"><span class="rp-label"></span><span class="rp-name"></span></div>' +
    '<div class="rp-stage"><canvas class="rp-map" tabindex="0"></canvas>' +
    '<div class="rp-probe"><canvas class="rp-digit" width="28" height="28"></canvas>' +
    '<div class="rp-probe-text"></div></div></div>' +
    '<canvas class="rp-loss"></canvas><div class="rp-terms"><span class="rp-recon"></span> ' +
    '<span class="rp-kl"></span> <span class="rp-unit"></span></div>';
  el.querySelector(".rp-label").textContent = model.label;
  el.querySelector(".rp-name").textContent = model.name;
  const map = el.querySelector(".rp-map");
  map.setAttribute("role", "img");
  map.setAttribute("aria-label", `${model.label}: the test codes over training`);
  const view = { el, model, map, loss: el.querySelector(".rp-loss"), recon: el.querySelector(".rp-recon"),
    kl: el.querySelector(".rp-kl"), unit: el.querySelector(".rp-unit"),
    digit: el.querySelector(".rp-digit"), probeText: el.querySelector(".rp-probe-text"), hover: null };
  const toCode = (ev) => {
    const r = map.getBoundingClientRect(), { x0, x1, y0, y1 } = model.range;
    const x = x0 + ((ev.clientX - r.left) / r.width) * (x1 - x0), y = y1 - ((ev.clientY - r.top) / r.height) * (y1 - y0);
    return [x, y];
  };
  map.addEventListener("pointermove", (ev) => { view.hover = toCode(ev); inst.schedule(); });
  map.addEventListener("pointerleave", () => { view.hover = null; inst.schedule(); });
  return view;
}

function sizeCanvas(canvas, w, h) {
  const dpr = window.devicePixelRatio || 1;
  canvas.style.width = `${w}px`;
  canvas.style.height = `${h}px`;
  if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(h * dpr);
  }
  const ctx = canvas.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  return ctx;
}

function paintMap(inst, view, s) {
  const m = view.model, { x0, x1, y0, y1 } = m.range, side = inst.side;
  const ctx = sizeCanvas(view.map, side, side);
  const px = (x) => ((x - x0) / (x1 - x0)) * side, py = (y) => side - ((y - y0) / (y1 - y0)) * side;
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, side, side);
  ctx.strokeStyle = "#e6e6e6";
  ctx.lineWidth = 1;
  ctx.beginPath();
  ctx.moveTo(px(0), 0); ctx.lineTo(px(0), side); ctx.moveTo(0, py(0)); ctx.lineTo(side, py(0));
  ctx.stroke();
  if (m.axes === "latent") { // the prior's 1, 2, 3 sigma circles: where N(0, I) puts its samples
    ctx.setLineDash([4, 4]);
    ctx.strokeStyle = "#888";
    for (const k of [1, 2, 3]) {
      ctx.beginPath();
      ctx.ellipse(px(0), py(0), (k / (x1 - x0)) * side, (k / (y1 - y0)) * side, 0, 0, 2 * Math.PI);
      ctx.stroke();
    }
    ctx.setLineDash([]);
  }
  const i = Math.floor(s), f = s - i, j = Math.min(i + 1, m.frames - 1), n = m.n, xy = m.xy;
  const a = i * n * 2, b = j * n * 2, labels = inst.labels, palette = inst.palette;
  for (let k = 0; k < n; k++) {
    const x = xy[a + 2 * k] * (1 - f) + xy[b + 2 * k] * f, y = xy[a + 2 * k + 1] * (1 - f) + xy[b + 2 * k + 1] * f;
    ctx.fillStyle = palette[labels[k] % palette.length];
    ctx.globalAlpha = 0.7;
    ctx.fillRect(px(x) - 2, py(y) - 2, 4, 4);
  }
  ctx.globalAlpha = 1;
  paintProbe(inst, view, s, ctx, px, py);
}

function paintProbe(inst, view, s, ctx, px, py) {
  const m = view.model, final = s >= m.frames - 1 - 1e-6, entry = m.decoder ? LP.models.get(m.decoder) : null;
  view.el.classList.toggle("rp-decoding", Boolean(view.hover && final && entry));
  if (!view.hover) {
    view.probeText.textContent = "";
    return;
  }
  if (!final || !entry) {
    view.probeText.textContent = "Only the final weights are saved: decoding works on the last frame";
    return;
  }
  const [x, y] = view.hover;
  let z = [x, y];
  if (m.inverse) z = m.inverse.mean.map((v, d) => v + x * m.inverse.components[0][d] + y * m.inverse.components[1][d]);
  const img = decodeImage(entry.decoder, z, false, 0);
  RP.stats.decodes += 1;
  const dctx = view.digit.getContext("2d");
  paintDigit(dctx, (view.digitPixels ??= dctx.createImageData(28, 28)), img);
  view.probeText.textContent = `z = (${x.toFixed(2)}, ${y.toFixed(2)})`;
  ctx.strokeStyle = "#111";
  ctx.lineWidth = 2;
  ctx.beginPath();
  ctx.arc(px(x), py(y), 6, 0, 2 * Math.PI);
  ctx.stroke();
}

function paintLoss(inst, view, e, s) {
  const m = view.model, w = inst.side, h = 64;
  const ctx = sizeCanvas(view.loss, w, h);
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, w, h);
  const eMax = m.epoch[m.frames - 1], x = (ep) => 4 + ((w - 8) * ep) / eMax;
  const series = [["recon", m.recon, "#0072B2"], ["KL", m.kl, "#D55E00"]].filter(([, v]) => v.some((u) => u > 0));
  for (const [, values, colour] of series) {
    const shown = values.slice(1), lo = Math.min(...shown), hi = Math.max(...shown);
    ctx.strokeStyle = colour;
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    for (let k = 1; k < m.frames; k++) {
      const y = h - 6 - ((h - 12) * (values[k] - lo)) / Math.max(1e-9, hi - lo);
      if (k === 1) ctx.moveTo(x(m.epoch[k]), y);
      else ctx.lineTo(x(m.epoch[k]), y);
    }
    ctx.stroke();
  }
  ctx.strokeStyle = "#111";
  ctx.lineWidth = 2;
  ctx.beginPath();
  ctx.moveTo(x(Math.min(e, eMax)), 0);
  ctx.lineTo(x(Math.min(e, eMax)), h);
  ctx.stroke();
  const shown = (values) => termAt(values, Math.max(1, s)).toFixed(1);
  const hasKl = series.some(([name]) => name === "KL");
  view.recon.textContent = s < 1 ? "before training" : `reconstruction ${shown(m.recon)}`;
  view.kl.textContent = s < 1 || !hasKl ? "" : `KL ${shown(m.kl)}`;
  view.unit.textContent = s < 1 ? "" : "nats per image (training batches)";
}

function paint(inst) {
  inst.raf = 0;
  const t0 = performance.now();
  if (inst.playing) {
    const dt = inst.lastTick ? (t0 - inst.lastTick) / 1000 : 0;
    inst.s = Math.min(inst.ref.frames - 1, inst.s + dt * FRAMES_PER_SECOND);
    inst.lastTick = t0;
    if (inst.s >= inst.ref.frames - 1) inst.setPlaying(false);
  }
  const e = termAt(inst.ref.epoch, inst.s);
  for (const view of inst.views) {
    const s = frameAt(view.model, e);
    paintMap(inst, view, s);
    paintLoss(inst, view, e, s);
  }
  inst.scrub.value = String(Math.round((1000 * inst.s) / Math.max(1, inst.ref.frames - 1)));
  inst.time.textContent = `epoch ${e.toFixed(2)} of ${inst.ref.epoch[inst.ref.frames - 1].toFixed(0)}`;
  RP.stats.paints += 1;
  RP.stats.paintMs.push(performance.now() - t0);
  if (RP.stats.paintMs.length > 2000) RP.stats.paintMs.splice(0, 1000);
  RP.stats.firstPaintAt ??= performance.now();
  if (inst.playing) inst.schedule();
}

function createInstance(root) {
  const inst = { root, grid: root.querySelector(".rp-grid"), views: [], s: 0, playing: false, lastTick: 0, raf: 0,
    play: root.querySelector(".rp-play"), scrub: root.querySelector(".rp-scrub"), time: root.querySelector(".rp-time"),
    side: MAP_MAX_PX, key: "" };
  inst.schedule = () => { if (!inst.raf) inst.raf = requestAnimationFrame(() => paint(inst)); };
  inst.setPlaying = (on) => {
    inst.playing = on;
    inst.lastTick = 0;
    inst.play.textContent = on ? "❚❚ Pause" : "▶ Play";
    inst.play.setAttribute("aria-pressed", String(on));
    if (on) inst.schedule();
  };
  inst.play.addEventListener("click", () => {
    if (!inst.playing && inst.s >= inst.ref.frames - 1) inst.s = 0;
    inst.setPlaying(!inst.playing);
  });
  inst.scrub.addEventListener("input", () => {
    inst.setPlaying(false);
    inst.s = (Number(inst.scrub.value) / 1000) * (inst.ref.frames - 1);
    inst.schedule();
  });
  new ResizeObserver(() => { inst.resize(); inst.schedule(); }).observe(root);
  inst.resize = () => {
    const cols = inst.views.length || 1, width = root.clientWidth || 2 * MAP_MAX_PX;
    inst.side = Math.max(160, Math.min(MAP_MAX_PX, Math.floor((width - 24 * cols) / cols) - 24));
  };
  return inst;
}

function update(inst, data) {
  const { header, blobs } = unpack(data);
  for (const [key, asset] of Object.entries(header.assets)) register({ key, ...asset }, blobs);
  const missing = Object.values(header.models).map((m) => m.decoder).filter((k) => k && !LP.models.has(k));
  if (missing.length) inst.setTrigger("missing", missing);
  const key = header.models.map((m) => m.key).join("|");
  if (key === inst.key) return;
  inst.key = key;
  inst.labels = Uint8Array.from(header.labels);
  inst.palette = header.palette;
  const models = header.models.map((spec) => buildModel(spec, blobs));
  inst.ref = models[0];
  inst.grid.replaceChildren();
  inst.views = models.map((m) => createView(inst, m));
  inst.views.forEach((v) => inst.grid.appendChild(v.el));
  inst.scrub.setAttribute("aria-label", "Moment of training");
  inst.s = inst.ref.frames - 1; // open on the trained maps: what the other steps show
  inst.setPlaying(false);
  inst.resize();
  inst.schedule();
}

export default function (component) {
  return mountOnce(component, ".rp-root", INSTANCES, createInstance, update);
}
