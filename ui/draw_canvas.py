"""A drawing canvas (st.components.v2, inline HTML/CSS/JS): draw a digit with the mouse or a finger, Clear, and the
drawing comes back to Python as a PNG data URL when a stroke ends.

The canvas is 280 x 280 (ten times MNIST) with white strokes on black, like MNIST itself. Python treats the PNG
like any upload (``vae_core.preprocess``), so a forged message from the browser gets the same checks as a file.
"""

from __future__ import annotations

import base64
import binascii

import streamlit as st

MAX_DATA_URL_CHARS = 2_000_000  # a 280x280 PNG drawing is ~10-30 kB; anything near this is not from our canvas
_PREFIX = "data:image/png;base64,"

_HTML = """
<div class="dc-root">
  <canvas class="dc-canvas" width="280" height="280" role="img"
          aria-label="Drawing canvas: draw one digit with the mouse or a finger"></canvas>
  <div class="dc-bar">
    <button type="button" class="dc-clear">Clear</button>
    <span class="dc-hint">Draw one digit, large, in the middle.</span>
  </div>
</div>
"""

_CSS = """
.dc-root { display: inline-flex; flex-direction: column; gap: 0.5rem; }
.dc-canvas {
  width: 280px; height: 280px; background: #000; border-radius: 0.5rem; cursor: crosshair;
  touch-action: none; border: 1px solid var(--st-border-color, rgba(49, 51, 63, 0.2));
}
.dc-bar { display: flex; align-items: center; gap: 0.75rem; }
.dc-clear {
  font: inherit; padding: 0.25rem 0.9rem; border-radius: 0.5rem; cursor: pointer;
  border: 1px solid var(--st-border-color, rgba(49, 51, 63, 0.2));
  background: var(--st-background-color, #fff); color: var(--st-text-color, #31333f);
}
.dc-clear:hover { border-color: var(--st-primary-color, #ff4b4b); color: var(--st-primary-color, #ff4b4b); }
.dc-hint { font-size: 0.875rem; opacity: 0.7; font-family: var(--st-font, sans-serif); }
"""

# Instances live in a WeakMap keyed by the root element, so a rerun (which calls the default export again) keeps
# the drawing and its listeners. A fresh mount (e.g. coming back to the page) repaints the last reported drawing.
_JS = """
const INSTANCES = new WeakMap();
const STROKE = 22;  // px on the 280 px canvas: MNIST strokes are 2-3 px of 28

function createInstance(root) {
  const canvas = root.querySelector(".dc-canvas");
  const ctx = canvas.getContext("2d");
  const inst = { canvas, ctx, drawing: false, last: null, setState: null, dirty: false };
  const blank = () => { ctx.fillStyle = "#000"; ctx.fillRect(0, 0, canvas.width, canvas.height); };
  blank();
  Object.assign(ctx, { strokeStyle: "#fff", lineWidth: STROKE, lineCap: "round", lineJoin: "round" });
  const at = (e) => {
    const r = canvas.getBoundingClientRect();
    return [(e.clientX - r.left) * canvas.width / r.width, (e.clientY - r.top) * canvas.height / r.height];
  };
  const dot = ([x, y]) => {
    ctx.fillStyle = "#fff";
    ctx.beginPath();
    ctx.arc(x, y, STROKE / 2, 0, 2 * Math.PI);
    ctx.fill();
  };
  canvas.addEventListener("pointerdown", (e) => {
    e.preventDefault();
    canvas.setPointerCapture(e.pointerId);
    inst.drawing = true;
    inst.last = at(e);
    dot(inst.last);
  });
  canvas.addEventListener("pointermove", (e) => {
    if (!inst.drawing) return;
    const p = at(e);
    ctx.beginPath(); ctx.moveTo(...inst.last); ctx.lineTo(...p); ctx.stroke();
    inst.last = p;
  });
  const end = () => {
    if (!inst.drawing) return;
    inst.drawing = false;
    inst.dirty = true;
    if (inst.setState) inst.setState("png", canvas.toDataURL("image/png"));
  };
  canvas.addEventListener("pointerup", end);
  canvas.addEventListener("pointercancel", end);
  canvas.addEventListener("lostpointercapture", end);
  root.querySelector(".dc-clear").addEventListener("click", () => {
    blank();
    inst.dirty = false;
    if (inst.setState) inst.setState("png", null);
  });
  inst.repaint = (url) => {
    const img = new Image();
    img.onload = () => { if (!inst.dirty) ctx.drawImage(img, 0, 0, canvas.width, canvas.height); };
    img.src = url;
  };
  return inst;
}

export default function (component) {
  const { data, parentElement, setStateValue } = component;
  const root = parentElement.querySelector(".dc-root");
  if (!root) return undefined;
  let inst = INSTANCES.get(root);
  if (!inst) {
    inst = createInstance(root);
    INSTANCES.set(root, inst);
    if (data && typeof data.png === "string" && data.png.startsWith("data:image/png;base64,")) inst.repaint(data.png);
  }
  inst.setState = setStateValue;
  return undefined;
}
"""

_component = st.components.v2.component("vae_explorer_draw_canvas", html=_HTML, css=_CSS, js=_JS)


def draw_canvas(key: str = "draw_canvas") -> str | None:
    """Mount the canvas; the current drawing as a PNG data URL, or None while it is blank."""
    current = st.session_state.get(f"_{key}_png")
    result = _component(
        key=key, data={"png": current}, default={"png": None}, on_png_change=lambda: None, width="content"
    )
    png = result.png if isinstance(result.png, str) else None
    st.session_state[f"_{key}_png"] = png
    return png


def png_from_data_url(url: str) -> bytes:
    """The PNG bytes of ``data:image/png;base64,...``; ValueError for anything else (the message is for users)."""
    if not isinstance(url, str) or not url.startswith(_PREFIX) or len(url) > MAX_DATA_URL_CHARS:
        raise ValueError("The drawing could not be read (it is not a PNG from the canvas). Please draw again.")
    try:
        return base64.b64decode(url[len(_PREFIX) :], validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(
            "The drawing could not be read (damaged data). Please clear the canvas and draw again."
        ) from None
