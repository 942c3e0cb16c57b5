// One map of the latent map component: its canvas, its decoded image, and what the pointer, the wheel and the keys
// do on it. Hovering decodes; a drag pans; the wheel zooms around the pointer; a click (or Enter) pins. Then the
// legend above the maps, whose toggles hide classes, thumbnails and the prior's circles.
// Part of the latent map's ES module (see ui/map_component.py): after map_draw.js, before map_worker.js.

const HIT_PX = 5; // a pointer this close (CSS px) to a test image's dot is on that image
const CLICK_SLOP_PX = 4; // a press that moves less than this is a click (a pin), more is a drag (a pan)
const KEY_STEP_PX = 12; // an arrow key moves the probe this far (Shift: 5x)
const ZOOM_STEP = 1.5;

function el(tag, cls, parent, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  if (parent) parent.appendChild(e);
  return e;
}

function fmtXY(xy) {
  return `(${xy[0].toFixed(2)}, ${xy[1].toFixed(2)})`;
}

function buildView(inst, model) {
  const data = inst.dataOf(model);
  const view = {
    model, data, cam: null, size: 0, probe: null, code: null, caption: "", bg: null,
    scratch: inverseScratch(Math.max(inst.k, 1), data.dim),
  };
  const section = (view.el = el("section", "mc-panel", inst.grid));
  section.dataset.role = model.role;
  const head = el("header", "mc-head", section);
  el("span", "mc-label", head, model.label);
  el("span", "mc-title", head, model.title);
  const tools = el("span", "mc-tools", head);
  for (const [text, name, act] of [["+", "Zoom in", () => zoomAt(inst, view, ZOOM_STEP)],
                                   ["\u2212", "Zoom out", () => zoomAt(inst, view, 1 / ZOOM_STEP)],
                                   ["Fit", "Show all test images", () => fitView(inst, view)]]) {
    const b = el("button", "mc-tool", tools, text);
    b.type = "button";
    b.title = b.ariaLabel = `${name} (${model.label} map)`;
    b.addEventListener("click", act);
  }
  const stage = el("div", "mc-stage", section);
  view.box = el("div", "mc-mapbox", stage);
  const canvas = (view.canvas = el("canvas", "mc-map", view.box));
  canvas.tabIndex = 0;
  canvas.setAttribute("role", "application");
  canvas.setAttribute("aria-label", mapLabel(inst, view));
  view.ctx = canvas.getContext("2d");
  const figure = el("figure", "mc-figure", stage);
  const image = (view.image = el("canvas", "mc-image", figure));
  image.width = image.height = 28;
  image.setAttribute("role", "img");
  image.dataset.role = model.role;
  view.imageCtx = image.getContext("2d");
  view.imageData = view.imageCtx.createImageData(28, 28);
  view.captionEl = el("figcaption", "mc-caption", figure);
  view.pinXY = () => {
    const pin = view.model.pin;
    if (!pin) return null;
    if (pin.index !== undefined) return [data.points[2 * pin.index], data.points[2 * pin.index + 1]];
    return pin.xy;
  };
  listen(inst, view);
  return view;
}

/** The map's accessible name: what it shows (its marks too) and what the pointer and the keys do on it. */
function mapLabel(inst, view) {
  const m = view.model, marks = (m.marks || []).filter((k) => k.kind === "code");
  const marked = marks.map((k) => ` A star marks ${k.label} at ${fmtXY([k.x, k.y])}.`).join("") +
    (m.background ? ` Behind the dots: ${m.background.legend}.` : "");
  return `${m.label} latent map (${m.method_name}) of ${view.data.n} test images.${marked} Hover, or use the arrow ` +
    `keys, to decode a place; click or press Enter to ${inst.pins ? "pin" : "hold"} it; drag to pan; the wheel, + ` +
    "and - zoom; 0 fits.";
}

function pick(obj, keys) {
  return obj ? Object.fromEntries(keys.map((k) => [k, obj[k]])) : {};
}

function local(view, ev) {
  const r = view.canvas.getBoundingClientRect();
  return [ev.clientX - r.left, ev.clientY - r.top];
}

function zoomAt(inst, view, factor, px = view.size / 2, py = view.size / 2) {
  const [x, y] = toMap(view, px, py);
  const s = view.cam.s * factor;
  view.cam = { s, cx: x - (px - view.size / 2) / s, cy: y + (py - view.size / 2) / s };
  view.fitted = false;
  inst.redraw(view);
}

/** Show every test code, every mark and the background layer (the first view, "Fit", the 0 key). */
function fitView(inst, view) {
  view.cam = fitCamera(view.data.points, view.data.n, view.size, [...view.model.marks, ...layerCorners(view.model)]);
  view.fitted = true;
  inst.redraw(view);
}

function listen(inst, view) {
  const canvas = view.canvas;
  let press = null; // {px, py, cam, moved, touch} while a button is down
  canvas.addEventListener("pointerdown", (ev) => {
    if (ev.button !== 0) return;
    const [px, py] = local(view, ev);
    press = { px, py, cam: { ...view.cam }, moved: false, touch: ev.pointerType === "touch" };
    try {
      canvas.setPointerCapture(ev.pointerId);
    } catch {} // (synthetic events have no active pointer to capture)
    if (press.touch) inst.hover(view, px, py, ev.timeStamp);
  });
  canvas.addEventListener("pointermove", (ev) => {
    const [px, py] = local(view, ev);
    if (press && !press.touch) {
      if (!press.moved && Math.hypot(px - press.px, py - press.py) < CLICK_SLOP_PX) return;
      press.moved = true;
      const c = press.cam;
      view.cam = { s: c.s, cx: c.cx - (px - press.px) / c.s, cy: c.cy + (py - press.py) / c.s };
      view.fitted = false;
      inst.redraw(view);
      return;
    }
    if (press) press.moved ||= Math.hypot(px - press.px, py - press.py) >= CLICK_SLOP_PX;
    inst.hover(view, px, py, ev.timeStamp);
  });
  const release = (ev) => {
    if (!press) return;
    const clicked = !press.moved && ev.type === "pointerup";
    press = null;
    if (clicked) inst.pinAt(view, ...local(view, ev));
  };
  canvas.addEventListener("pointerup", release);
  canvas.addEventListener("pointercancel", release);
  canvas.addEventListener("pointerleave", () => { if (!press) inst.rest(); });
  canvas.addEventListener(
    "wheel",
    (ev) => {
      ev.preventDefault();
      const [px, py] = local(view, ev);
      zoomAt(inst, view, Math.exp(-ev.deltaY * (ev.deltaMode === 1 ? 0.05 : 0.0015)), px, py);
      inst.hover(view, px, py, ev.timeStamp);
    },
    { passive: false },
  );
  canvas.addEventListener("keydown", (ev) => keyDown(inst, view, ev));
  canvas.addEventListener("blur", () => inst.rest());
}

function keyDown(inst, view, ev) {
  const step = (ev.shiftKey ? 5 : 1) * KEY_STEP_PX;
  const moves = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] };
  const at = inst.active === view && view.probe ? view.probe : [view.cam.cx, view.cam.cy];
  let [px, py] = toScreen(view, at[0], at[1]);
  if (moves[ev.key]) {
    px = Math.min(view.size, Math.max(0, px + moves[ev.key][0]));
    py = Math.min(view.size, Math.max(0, py + moves[ev.key][1]));
    inst.hover(view, px, py, ev.timeStamp);
    inst.say(`${view.model.label} map: decoding ${fmtXY(view.probe)}. Enter pins it.`);
  } else if (ev.key === "Enter" || ev.key === " ") inst.pinAt(view, px, py);
  else if (ev.key === "+" || ev.key === "=") zoomAt(inst, view, ZOOM_STEP, px, py);
  else if (ev.key === "-" || ev.key === "_") zoomAt(inst, view, 1 / ZOOM_STEP, px, py);
  else if (ev.key === "0") fitView(inst, view);
  else if (ev.key === "Escape") inst.rest();
  else return;
  ev.preventDefault();
}

/** Decode `code` with the view's model, paint it, and remember what it shows (caption and alt text). */
function showCode(inst, view, code, caption) {
  const entry = LP.models.get(view.model.decoder);
  if (!entry) return false;
  view.code = code;
  paintDigit(view.imageCtx, view.imageData, decodeImage(entry.decoder, code, false, 0));
  if (caption !== view.caption) {
    view.caption = caption;
    view.captionEl.textContent = caption;
  }
  view.altDirty = true;
  return true;
}

/** The alt text of the decoded image: what it is and where it was decoded (written at most a few times a second). */
function altText(view) {
  const where = view.probe ? ` at ${fmtXY(view.probe)} on the ${view.model.method_name} map` : "";
  return `${view.model.label}: image decoded ${view.caption}${where}`;
}

/** The legend's toggles: one per class (in its colour), the test images' thumbnails, the prior's circles and the
 * background layer (its colour ramp as the swatch). */
function buildLegend(inst, anyPrior, layer) {
  inst.legend.replaceChildren();
  const toggle = (text, pressed, onChange, swatch) => {
    const b = el("button", "mc-toggle", inst.legend);
    b.type = "button";
    b.setAttribute("aria-pressed", String(pressed));
    if (swatch) el("span", `mc-swatch${swatch.includes("gradient") ? " mc-ramp" : ""}`, b).style.background = swatch;
    b.append(text);
    b.addEventListener("click", () => {
      const on = b.getAttribute("aria-pressed") !== "true";
      b.setAttribute("aria-pressed", String(on));
      onChange(on);
      inst.redrawAll();
    });
  };
  inst.classes.forEach((name, c) => {
    toggle(name, !inst.hidden.has(c), (on) => (on ? inst.hidden.delete(c) : inst.hidden.add(c)), inst.palette[c]);
  });
  toggle("test images", inst.showImages, (on) => (inst.showImages = on));
  if (anyPrior) toggle("prior 1/2/3\u03c3", inst.showPrior, (on) => (inst.showPrior = on));
  if (layer) toggle(layer.legend, inst.showLayer, (on) => (inst.showLayer = on), rampCss(layer.ramp));
}
