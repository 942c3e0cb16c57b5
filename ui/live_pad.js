// The live latent pad's user interface: a draggable pad over two latent dimensions (any model: a 2-D model's whole
// plane, or two chosen dimensions of a larger one), sliders for the others, and the decoded images (one column per
// model). It decodes on every animation frame that had an input event and reports z back to Python when the
// user lets go. Runs after live_pad_decoder.js in the same ES module (see ui/live_pad.py).

const INSTANCES = new WeakMap(); // component root element -> instance state (survives reruns)
// Model key -> {codes, labels}: the test codes drawn behind a pad, kept apart from the decoders the latent map
// registers in the same window (it sends no codes, and must not wipe ours).
LP.padCodes ??= new Map();

// -------------------------------------------------------------------------------------------- drawing

const PAD_CSS = 200; // px: the pad is square (two panels and their images fit side by side at 1280 px)

function cssVar(el, name, fallback) {
  const v = getComputedStyle(el).getPropertyValue(name).trim();
  return v || fallback;
}

function fmt(v) {
  return (v >= 0 ? "\u2007" : "") + v.toFixed(2); // figure space keeps the digits from jumping
}

function paintImage(view, img) {
  paintDigit(view.imageCtx, view.imageData, img);
  LP.stats.paints += 1;
  if (LP.stats.firstPaintAt === null) LP.stats.firstPaintAt = performance.now();
}

function padToZ(view, px, py) {
  const [d0, d1] = view.model.pad_dims, lo = view.model.lo, hi = view.model.hi;
  const fx = Math.min(1, Math.max(0, px / PAD_CSS)), fy = Math.min(1, Math.max(0, py / PAD_CSS));
  return [lo[d0] + fx * (hi[d0] - lo[d0]), hi[d1] - fy * (hi[d1] - lo[d1])];
}

function zToPad(view, z) {
  const [d0, d1] = view.model.pad_dims, lo = view.model.lo, hi = view.model.hi;
  return [((z[d0] - lo[d0]) / (hi[d0] - lo[d0])) * PAD_CSS, ((hi[d1] - z[d1]) / (hi[d1] - lo[d1])) * PAD_CSS];
}

// The pad's still background (grid, axes, the test codes as faint dots), drawn once per layout.
function drawPadBackground(view, palette = ["#0072B2"]) {
  const dpr = window.devicePixelRatio || 1, size = Math.round(PAD_CSS * dpr);
  const bg = document.createElement("canvas");
  bg.width = bg.height = size;
  const ctx = bg.getContext("2d");
  ctx.scale(dpr, dpr);
  const root = view.el;
  ctx.fillStyle = cssVar(root, "--st-secondary-background-color", "#f0f2f6");
  ctx.fillRect(0, 0, PAD_CSS, PAD_CSS);
  const [d0, d1] = view.model.pad_dims, lo = view.model.lo, hi = view.model.hi;
  ctx.strokeStyle = cssVar(root, "--st-border-color", "rgba(49,51,63,0.2)");
  ctx.lineWidth = 1;
  for (const [d, horizontal] of [[d0, false], [d1, true]]) {
    const step = hi[d] - lo[d] > 12 ? 5 : 1;
    for (let v = Math.ceil(lo[d] / step) * step; v <= hi[d]; v += step) {
      const z = new Float64Array(view.model.z.length);
      z[d] = v;
      const [x, y] = zToPad(view, z);
      ctx.globalAlpha = v === 0 ? 0.9 : 0.35;
      ctx.beginPath();
      if (horizontal) { ctx.moveTo(0, y); ctx.lineTo(PAD_CSS, y); } else { ctx.moveTo(x, 0); ctx.lineTo(x, PAD_CSS); }
      ctx.stroke();
    }
  }
  ctx.globalAlpha = 1;
  const entry = LP.padCodes.get(view.model.key);
  if (entry && entry.codes) {
    // The test codes, seen along the pad's two dimensions (for a larger model: their projection on that plane).
    const dim = view.model.z.length, z = new Float64Array(dim);
    ctx.globalAlpha = dim === 2 ? 0.45 : 0.3;
    for (let j = 0; j < entry.codes.length / dim; j++) {
      z[d0] = entry.codes[dim * j + d0];
      z[d1] = entry.codes[dim * j + d1];
      const [x, y] = zToPad(view, z);
      ctx.fillStyle = palette[(entry.labels ? entry.labels[j] : 0) % palette.length];
      ctx.beginPath();
      ctx.arc(x, y, 1.7, 0, 2 * Math.PI);
      ctx.fill();
    }
    ctx.globalAlpha = 1;
  }
  ctx.fillStyle = cssVar(root, "--st-text-color", "#31333f");
  ctx.globalAlpha = 0.6;
  ctx.font = `11px ${cssVar(root, "--st-font", "sans-serif")}`;
  ctx.fillText(`z${d0 + 1} \u2192`, PAD_CSS - 34, PAD_CSS - 6); // z1, z2, ...: numbered from 1 on every page
  ctx.fillText(`z${d1 + 1} \u2191`, 5, 13);
  ctx.globalAlpha = 1;
  view.padBackground = bg;
  view.accent = cssVar(root, "--st-primary-color", "#ff4b4b"); // read once: getComputedStyle is not free
}

function paintPad(view) {
  const ctx = view.padCtx, dpr = window.devicePixelRatio || 1;
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.drawImage(view.padBackground, 0, 0);
  ctx.scale(dpr, dpr);
  const [x, y] = zToPad(view, view.z);
  ctx.strokeStyle = view.accent;
  ctx.globalAlpha = 0.5;
  ctx.beginPath();
  ctx.moveTo(x, 0); ctx.lineTo(x, PAD_CSS); ctx.moveTo(0, y); ctx.lineTo(PAD_CSS, y);
  ctx.stroke();
  ctx.globalAlpha = 1;
  ctx.lineWidth = 2.5;
  ctx.beginPath();
  ctx.arc(x, y, 7, 0, 2 * Math.PI);
  ctx.fillStyle = "rgba(255,255,255,0.85)";
  ctx.fill();
  ctx.stroke();
  ctx.lineWidth = 1;
}

// ------------------------------------------------------------------------------------------- the layout

function el(tag, cls, parent) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (parent) parent.appendChild(e);
  return e;
}

function buildView(inst, model) {
  const view = { model, z: Float64Array.from(model.z), sliders: [] };
  const section = (view.el = el("section", "lp-model", inst.grid));
  section.dataset.label = model.label;
  const head = el("header", "lp-head", section);
  el("span", "lp-label", head).textContent = model.label;
  el("span", "lp-name", head).textContent = model.name;
  const stage = el("div", "lp-stage", section);
  if (model.pad_dims) {
    const pad = (view.pad = el("canvas", "lp-pad", stage));
    const dpr = window.devicePixelRatio || 1;
    pad.width = pad.height = Math.round(PAD_CSS * dpr);
    pad.style.width = pad.style.height = `${PAD_CSS}px`;
    pad.title = "Drag to move z through the latent plane";
    view.padCtx = pad.getContext("2d");
    const move = (ev) => {
      const r = pad.getBoundingClientRect();
      const [a, b] = padToZ(view, ev.clientX - r.left, ev.clientY - r.top);
      view.z[model.pad_dims[0]] = a;
      view.z[model.pad_dims[1]] = b;
      inst.schedule(view);
    };
    pad.addEventListener("pointerdown", (ev) => {
      ev.preventDefault();
      try {
        pad.setPointerCapture(ev.pointerId); // keep the drag when the cursor leaves the pad
      } catch {} // (synthetic events have no active pointer to capture)
      inst.dragging = view;
      move(ev);
    });
    pad.addEventListener("pointermove", (ev) => { if (inst.dragging === view) move(ev); });
    const up = () => { if (inst.dragging === view) { inst.dragging = null; inst.report(); } };
    pad.addEventListener("pointerup", up);
    pad.addEventListener("pointercancel", up);
  }
  const figure = el("figure", "lp-figure", stage);
  const canvas = (view.image = el("canvas", "lp-image", figure));
  canvas.width = canvas.height = 28;
  canvas.dataset.label = model.label;
  view.imageCtx = canvas.getContext("2d");
  view.imageData = view.imageCtx.createImageData(28, 28);
  view.caption = el("figcaption", "lp-caption", figure);
  const sliders = el("div", "lp-sliders", section);
  model.dims.forEach((d, j) => {
    const row = el("label", "lp-slider", sliders);
    el("span", "lp-dim", row).textContent = model.dim_labels[j];
    const input = el("input", "", row);
    Object.assign(input, { type: "range", min: model.lo[d], max: model.hi[d], step: 0.01 });
    input.setAttribute("aria-label", `${model.label} z${d + 1}`);
    const out = el("output", "lp-value", row);
    input.addEventListener("input", () => { view.z[d] = Number(input.value); inst.schedule(view); });
    input.addEventListener("change", () => inst.report());
    view.sliders.push({ d, input, out });
  });
  return view;
}

function syncSliders(view) {
  for (const s of view.sliders) {
    s.input.value = String(view.z[s.d]); // the slider being dragged gets back the value it just gave
    s.out.textContent = fmt(view.z[s.d]);
  }
}

function createInstance(root) {
  const inst = {
    root, grid: root.querySelector(".lp-grid"), status: root.querySelector(".lp-status"),
    views: [], layout: "", rev: null, sample: false, seed: 0, dirty: new Set(), raf: 0, dragging: null,
    requested: new Set(), setTrigger: () => {}, palette: ["#0072B2"],
  };
  inst.schedule = (view) => {
    inst.dirty.add(view);
    if (!inst.raf) inst.raf = requestAnimationFrame(inst.frame);
  };
  inst.frame = () => {
    inst.raf = 0;
    for (const view of inst.dirty) {
      const entry = LP.models.get(view.model.key);
      if (!entry) continue;
      paintImage(view, decodeImage(entry.decoder, view.z, inst.sample, inst.seed));
      if (view.pad) {
        if (!view.padBackground) drawPadBackground(view, inst.palette);
        paintPad(view);
      }
      syncSliders(view);
    }
    inst.dirty.clear();
  };
  inst.report = () => {
    const zs = {};
    for (const view of inst.views) zs[view.model.label] = Array.from(view.z, (v) => Math.round(v * 1e4) / 1e4);
    inst.setTrigger("release", { zs });
  };
  return inst;
}

/** The component's data: uint32 LE length N, N bytes of JSON header, then the weight blobs (see live_pad.py). */
function unpack(data) {
  if (!(data instanceof Uint8Array)) return { header: data, blobs: null };
  const n = new DataView(data.buffer, data.byteOffset, data.byteLength).getUint32(0, true);
  return { header: JSON.parse(new TextDecoder().decode(data.subarray(4, 4 + n))), blobs: data.subarray(4 + n) };
}

function update(inst, message) {
  const { header: data, blobs } = unpack(message);
  inst.palette = data.palette || inst.palette;
  for (const asset of Object.values(data.assets || {})) {
    try {
      register(asset, blobs);
      if (asset.codes) LP.padCodes.set(asset.key, { codes: asset.codes, labels: asset.labels || null });
    } catch (err) {
      inst.status.textContent = `This decoder could not be loaded in the browser: ${err.message}. Use "Server".`;
      throw err;
    }
  }
  const layout = JSON.stringify(data.models.map((m) => [m.label, m.key, m.dims, m.pad_dims, m.lo, m.hi, m.dim_labels]));
  const rebuilt = layout !== inst.layout;
  if (rebuilt) {
    inst.grid.replaceChildren();
    inst.views = data.models.map((m) => buildView(inst, m));
    inst.layout = layout;
    inst.dragging = null;
  }
  const missing = data.models.map((m) => m.key).filter((k) => !LP.models.has(k));
  for (const k of inst.requested) if (LP.models.has(k)) inst.requested.delete(k); // may be asked for again later
  for (const view of inst.views) {
    view.model = data.models.find((m) => m.label === view.model.label) || view.model;
    if (view.pad && LP.models.has(view.model.key)) drawPadBackground(view, inst.palette);
    // Adopt Python's z only when Python changed it (a new rev), never in the middle of a drag.
    if (rebuilt || (data.rev !== inst.rev && !inst.dragging)) view.z = Float64Array.from(view.model.z);
    view.caption.textContent = data.sample ? "a sample x ~ p(x|z)" : "decoder mean E[x|z]";
    inst.schedule(view);
  }
  inst.rev = data.rev;
  inst.sample = !!data.sample;
  inst.seed = data.seed | 0;
  inst.status.textContent = missing.length ? "Loading the decoder weights\u2026" : "";
  const ask = missing.filter((k) => !inst.requested.has(k));
  if (ask.length) {
    ask.forEach((k) => inst.requested.add(k));
    inst.setTrigger("missing", ask);
  }
}

export default function (component) {
  if (component.data) LP.stats.firstDataAt ??= performance.now();
  return mountOnce(component, ".lp-root", INSTANCES, createInstance, update);
}
