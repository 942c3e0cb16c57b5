// What every component of ours shares in the browser: painting a decoded digit, and mounting one instance per
// root element. ui/live_pad.py, ui/replay.py and ui/map_component.py put this file into their ES module, after the
// decoder (ui/live_pad_decoder.js) and before their own files.

/** A decoded image (784 values in [0, 1]) onto a 28x28 canvas context, through an ImageData of that size. */
function paintDigit(ctx, imageData, img) {
  const data = imageData.data;
  for (let j = 0; j < 784; j++) {
    const g = Math.round(Math.min(1, Math.max(0, img[j])) * 255);
    data[4 * j] = data[4 * j + 1] = data[4 * j + 2] = g;
    data[4 * j + 3] = 255;
  }
  ctx.putImageData(imageData, 0, 0);
}

/** Streamlit calls a component's default export on every rerun: find its root element, create the instance once
 * (kept in ``instances``, so it survives reruns), hand it the new data, and stop its animation frame on unmount. */
function mountOnce(component, selector, instances, createInstance, update) {
  const { data, parentElement, setTriggerValue } = component;
  const root = parentElement.querySelector(selector);
  if (!root || !data) return undefined;
  let inst = instances.get(root);
  if (!inst) {
    inst = createInstance(root);
    instances.set(root, inst);
  }
  inst.setTrigger = setTriggerValue;
  update(inst, data);
  return () => {
    if (inst.raf) cancelAnimationFrame(inst.raf);
    inst.raf = 0;
  };
}
