// The latent map component: the VAE's and the autoencoder's maps side by side. Hovering decodes in the browser on
// every animation frame, for the map under the pointer and for the other model at the same test image or place;
// the only message to Python is a pin (a click, or Enter). Runs after live_pad_decoder.js (the decoder),
// map_inverse.js, map_draw.js, map_layer.js, map_view.js and map_worker.js in one ES module (see ui/map_component.py).

const LM = (globalThis.__vaeLatentMap ??= {});
LM.assets ??= new Map(); // asset key -> Float32Array | Uint8Array | {atlas}: what Python sent this tab, once
LM.weights ??= new Map(); // model key -> {manifest, bytes}: what the worker needs to build its copy of a decoder
LM.live ??= new Set(); // the instances on the page (a page may mount several maps): for the test hooks below
// hoverMs: from an input event's timeStamp to both maps' images painted; workMs: from handling it to painted.
LM.stats ??= { hoverMs: [], workMs: [], frames: 0, firstDataAt: null, firstMapAt: null };
const MAX_ASSETS = 64; // oldest dropped first (then asked for again through the "missing" trigger)
const MAP_MAX_PX = 340; // a map's side, CSS px: two maps and their images fit a 1280x720 projector
const INSTANCES = new WeakMap(); // component root element -> instance (survives reruns)

function unpackMessage(data) {
  // uint32 little-endian N, N bytes of JSON header, then the blobs the header's assets point into.
  const n = new DataView(data.buffer, data.byteOffset, data.byteLength).getUint32(0, true);
  return { header: JSON.parse(new TextDecoder().decode(data.subarray(4, 4 + n))), blobs: data.subarray(4 + n) };
}

function readArray(asset, bytes) {
  const copy = bytes.slice().buffer; // aligned
  if (asset.kind === "u8") return new Uint8Array(copy);
  if (LITTLE_ENDIAN) return new Float32Array(copy);
  const view = new DataView(copy), out = new Float32Array(copy.byteLength / 4);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(4 * i, true);
  return out;
}

function registerAsset(key, asset, blobs) {
  const bytes = blobs.subarray(asset.offset, asset.offset + asset.length);
  if (bytes.byteLength !== asset.length) throw new Error(`the message ends inside ${key}`);
  if (asset.kind === "decoder") {
    LM.weights.set(key, { manifest: asset.manifest, bytes: bytes.slice() }); // for the worker (map_worker.js)
    while (LM.weights.size > MAX_MODELS) LM.weights.delete(LM.weights.keys().next().value);
    return register(asset, blobs);
  }
  if (LM.assets.has(key)) return key;
  if (asset.kind === "text") LM.assets.set(key, new TextDecoder().decode(bytes));
  else if (asset.kind === "atlas") {
    const atlas = { cols: asset.cols, n: asset.n, tile: asset.tile, index: asset.index || null, bitmap: null };
    atlas.ready = createImageBitmap(new Blob([bytes.slice()], { type: "image/png" })).then((b) => (atlas.bitmap = b));
    LM.assets.set(key, atlas);
  } else LM.assets.set(key, readArray(asset, bytes));
  while (LM.assets.size > MAX_ASSETS) LM.assets.delete(LM.assets.keys().next().value);
  return key;
}

function createInstance(root) {
  const inst = {
    root, legend: root.querySelector(".mc-legend"), grid: root.querySelector(".mc-grid"),
    status: root.querySelector(".mc-status"), views: [], layout: "", legendKey: "", k: 5, palette: [], classes: [],
    labels: null, hidden: new Set(), showImages: true, showPrior: true, showLayer: true, atlas: null, tinted: null,
    tile: new Map(), dpr: 1, colours: {}, active: null, linked: -1, pending: null, flushed: false, raf: 0, altTimer: 0,
    requested: new Set(), setTrigger: () => {}, pins: true,
  };
  LM.live = new Set([...LM.live].filter((i) => i.root.isConnected)).add(inst);
  inst.dataOf = (m) => ({ points: LM.assets.get(m.points), codes: LM.assets.get(m.codes), n: m.n, dim: m.dim });
  inst.visible = (i) => !inst.hidden.has(inst.labels[i] % inst.palette.length);
  inst.className = (i) => inst.classes[inst.labels[i]] ?? String(inst.labels[i]);
  inst.say = (text) => { inst.status.textContent = text; };
  inst.redraw = (view) => {
    drawBackground(view, inst);
    drawOverlay(view, inst);
    LM.stats.firstMapAt ??= performance.now();
  };
  inst.redrawAll = () => inst.views.forEach(inst.redraw);
  inst.overlays = () => inst.views.forEach((v) => drawOverlay(v, inst));
  inst.schedule = () => { if (!inst.raf) inst.raf = requestAnimationFrame(inst.frame); };
  inst.frame = () => {
    inst.raf = 0;
    inst.flushed = false;
    if (inst.pending) inst.flush();
  };
  // A pointer event decodes at once unless this frame already decoded: then the next frame takes the latest.
  inst.hover = (view, px, py, t) => {
    inst.pending = { view, xy: toMap(view, px, py), t };
    if (!inst.flushed) inst.flush();
    else inst.schedule();
  };
  inst.flush = () => {
    const { view, xy, t } = inst.pending;
    inst.pending = null;
    inst.flushed = true;
    inst.schedule();
    probe(inst, view, xy, paintRecord(t, inst.views.length));
    LM.stats.frames += 1;
    inst.altTimer ||= setTimeout(() => {
      inst.altTimer = 0;
      for (const v of inst.views) if (v.altDirty) v.image.setAttribute("aria-label", altText(v)), (v.altDirty = false);
    }, 200);
  };
  inst.rest = () => rest(inst);
  inst.pinAt = (view, px, py) => pinAt(inst, view, px, py);
  inst.resize = () => resize(inst);
  new ResizeObserver(() => inst.resize()).observe(inst.grid);
  return inst;
}

/** Counts a hover's images as they are painted; when the last one is, records the times (LM.stats). */
function paintRecord(t, images) {
  const t0 = performance.now(), record = { left: images };
  record.done = () => {
    if (--record.left > 0) return;
    const now = performance.now(), s = LM.stats;
    s.hoverMs.push(now - t);
    s.workMs.push(now - t0);
    if (s.hoverMs.length > 5000) s.hoverMs.splice(0, 2500), s.workMs.splice(0, 2500);
  };
  return record;
}

/** Decode the place `xy` of `view` (under the pointer) and the same test image or place on the other map: the
 * other map's image in the worker (map_worker.js) while this one is decoded here. */
function probe(inst, view, xy, record) {
  const n = view.data.n;
  const mark = markUnder(view.model.marks, xy[0], xy[1], view.cam.s); // drawn over the dots: it comes first
  const hit = mark ? -1 : pointUnder(view.data.points, n, xy[0], xy[1], HIT_PX / view.cam.s, inst.visible);
  inst.active = view;
  inst.linked = hit;
  view.probe = xy;
  const on = hit >= 0 ? `, on test image #${hit} (${inst.className(hit)})` : mark ? `, on ${mark.label}` : "";
  const others = inst.views.filter((v) => v !== view), remote = [];
  for (const other of others) { // first hand the other map's image to the worker, then decode this one here
    const twin = mark && twinOf(mark, view.model.marks, other.model.marks); // the other model's same mark
    const place = hit >= 0
      ? [other.data.points[2 * hit], other.data.points[2 * hit + 1]]
      : twin ? [twin.x, twin.y] : samePlace(view.data.points, other.data.points, n, xy[0], xy[1], inst.k, view.scratch);
    other.probe = place;
    const caption = (hit >= 0 ? `where test image #${hit} (${inst.className(hit)}) lies`
      : twin ? `on ${twin.label}` : "at the same place") + layerNote(other.model, place);
    const code = markCode(twin) || codeAt(other.model.inverse, other.data, place[0], place[1], other.scratch);
    if (!showCodeRemote(inst, other, code, caption, record)) remote.push([other, code, caption]);
  }
  const code = markCode(mark) || codeAt(view.model.inverse, view.data, xy[0], xy[1], view.scratch);
  showCode(inst, view, code, `under the cursor${on}${layerNote(view.model, xy)}`);
  record.done();
  for (const [other, code, caption] of remote) showCode(inst, other, code, caption), record.done();
  inst.overlays();
}

/** Back to rest: each map shows its pin (a test image's own code, or a pinned place), or what it last showed. */
function rest(inst) {
  inst.active = null;
  inst.linked = -1;
  inst.pending = null;
  for (const view of inst.views) {
    const pin = view.model.pin, d = view.data;
    if (pin && pin.index !== undefined) {
      view.probe = view.pinXY();
      const code = d.codes.subarray(pin.index * d.dim, (pin.index + 1) * d.dim);
      showCode(inst, view, code, `pinned: test image #${pin.index} (${inst.className(pin.index)}), its own code`);
    } else if (pin) {
      view.probe = pin.xy;
      showCode(inst, view, codeAt(view.model.inverse, d, pin.xy[0], pin.xy[1], view.scratch), "at the pinned place");
    } else if (!view.code) { // the first marked code (an uploaded image's), else the map's centre
      const star = view.model.marks.find((m) => m.kind === "code");
      view.probe = star ? [star.x, star.y] : [view.cam.cx, view.cam.cy];
      const code = markCode(star) || codeAt(view.model.inverse, d, view.probe[0], view.probe[1], view.scratch);
      showCode(inst, view, code, star ? `on ${star.label}` : "at the map's centre");
    }
    view.image.setAttribute("aria-label", altText(view));
  }
  inst.overlays();
}

/** A click: on a test image it pins that image in every map, elsewhere this map's place. Python hears only this. */
function pinAt(inst, view, px, py) {
  const xy = toMap(view, px, py), mark = markUnder(view.model.marks, xy[0], xy[1], view.cam.s); // a mark: a place
  const hit = mark ? -1 : pointUnder(view.data.points, view.data.n, xy[0], xy[1], HIT_PX / view.cam.s, inst.visible);
  if (hit >= 0) for (const v of inst.views) v.model.pin = { index: hit };
  else view.model.pin = { xy };
  LM.stats.pinnedAt = performance.now();
  const what = hit >= 0 ? `test image #${hit} in every map` : `${fmtXY(xy)} on the ${view.model.label} map`;
  if (!inst.pins) return inst.say(`Holding ${what}.`), inst.overlays(); // this page has nothing to follow a pin
  inst.setTrigger("pin", hit >= 0 ? { role: view.model.role, index: hit } : { role: view.model.role, xy });
  inst.say(`Pinned ${what}.`);
  inst.overlays();
}

function resize(inst) {
  inst.dpr = window.devicePixelRatio || 1;
  for (const view of inst.views) {
    const size = Math.max(120, Math.min(MAP_MAX_PX, Math.floor(view.box.clientWidth)));
    if (view.cam && view.size) view.cam.s *= size / view.size; // keep what is shown when the map changes size
    view.size = size;
    sizeCanvas(view.canvas, size, inst.dpr);
    if (!view.cam) fitView(inst, view);
    else inst.redraw(view);
  }
}

function useAtlas(inst, key) {
  const atlas = LM.assets.get(key);
  if (!atlas || inst.atlas === atlas) return;
  inst.atlas = atlas;
  inst.tinted = null;
  inst.tile = new Map(Array.from({ length: atlas.n }, (_, t) => [atlas.index ? atlas.index[t] : t, t]));
  atlas.ready.then(() => {
    if (inst.atlas !== atlas) return;
    inst.tinted = tintAtlas(atlas, inst.labels, inst.palette);
    inst.redrawAll();
  });
}

function update(inst, message) {
  const { header: h, blobs } = unpackMessage(message);
  for (const [key, asset] of Object.entries(h.assets)) registerAsset(key, asset, blobs);
  const needed = [h.labels, h.atlas, h.worker, ...h.maps.flatMap((m) => [m.decoder, m.codes, m.points])];
  needed.push(...h.maps.filter((m) => m.background).map((m) => m.background.grid));
  const missing = needed.filter((k) => !(LM.assets.has(k) || LP.models.has(k)));
  for (const k of inst.requested) if (!missing.includes(k)) inst.requested.delete(k);
  const ask = missing.filter((k) => !inst.requested.has(k));
  if (ask.length) {
    ask.forEach((k) => inst.requested.add(k));
    inst.setTrigger("missing", ask);
  }
  if (missing.length) return inst.say("Loading the maps\u2026");
  const root = inst.root;
  inst.colours = {
    background: cssVar(root, "--st-secondary-background-color", "#f0f2f6"),
    text: cssVar(root, "--st-text-color", "#31333f"),
    accent: cssVar(root, "--st-primary-color", "#ff4b4b"),
  };
  inst.k = h.k;
  inst.palette = h.palette;
  inst.classes = h.classes;
  inst.labels = LM.assets.get(h.labels);
  const layer = h.maps.find((m) => m.background)?.background; // one legend entry: the maps share their layer's kind
  const legendKey = JSON.stringify([h.classes, h.palette, h.labels, h.maps.some((m) => m.prior), layer?.legend]);
  if (legendKey !== inst.legendKey) {
    inst.legendKey = legendKey;
    buildLegend(inst, h.maps.some((m) => m.prior), layer);
  }
  const layout = JSON.stringify(h.maps.map((m) => [m.role, m.decoder, m.codes, m.points, m.method, m.title]));
  inst.pins = h.pins !== false;
  if (layout !== inst.layout) {
    const old = new Map(inst.views.map((v) => [v.model.role + v.model.points, v]));
    inst.grid.replaceChildren();
    inst.views = h.maps.map((m) => buildView(inst, m));
    for (const v of inst.views) Object.assign(v, pick(old.get(v.model.role + v.model.points), ["cam", "fitted"]));
    inst.layout = layout;
    inst.active = null;
  } else {
    inst.views.forEach((v, i) => {
      const moved = JSON.stringify(v.model.marks) !== JSON.stringify(h.maps[i].marks);
      if (moved && v.fitted) v.cam = null; // new marks: fit them, unless the user has zoomed or panned
      if (moved) v.code = null; // and at rest, show the new marked code
      v.model = h.maps[i];
    });
  }
  for (const v of inst.views) v.canvas.setAttribute("aria-label", mapLabel(inst, v));
  LM.workerSource ??= LM.assets.get(h.worker);
  for (const m of h.maps) prepareRemote(m.decoder);
  if (h.atlas) useAtlas(inst, h.atlas);
  inst.say("");
  inst.resize();
  if (!inst.active) inst.rest();
}

// Test and benchmark hooks (tests/e2e, bench/): what a map shows, and where a map point is on the page. A role is
// looked for in the last map drawn, then in every other map on the page.
const viewOf = (role) => [LM.current, ...LM.live].filter((i) => i && i.root.isConnected)
  .map((i) => i.views.find((w) => w.model.role === role)).find(Boolean);
LM.inspect = (role) => {
  const v = viewOf(role);
  return {
    probe: v.probe, code: Array.from(v.code), caption: v.caption, alt: v.image.getAttribute("aria-label"),
    image: LP.decode(v.model.decoder, Array.from(v.code)), linked: LM.current.linked, pin: v.model.pin,
  };
};
LM.clientPoint = (role, x, y) => {
  const v = viewOf(role), r = v.canvas.getBoundingClientRect();
  const [px, py] = toScreen(v, x, y);
  return { x: r.left + px, y: r.top + py };
};
LM.testImage = (role, i) => {
  const p = viewOf(role).data.points;
  return [p[2 * i], p[2 * i + 1]];
};
LM.resetStats = () => Object.assign(LM.stats, { hoverMs: [], workMs: [], frames: 0 });

export default function (component) {
  const { data, parentElement, setTriggerValue } = component;
  const root = parentElement.querySelector(".mc-root");
  if (!root || !(data instanceof Uint8Array)) return undefined;
  LM.stats.firstDataAt ??= performance.now();
  let inst = INSTANCES.get(root);
  if (!inst) INSTANCES.set(root, (inst = createInstance(root)));
  inst.setTrigger = setTriggerValue;
  LM.current = inst;
  update(inst, data);
  return () => {
    if (inst.raf) cancelAnimationFrame(inst.raf);
    inst.raf = 0;
    inst.flushed = false;
  };
}
