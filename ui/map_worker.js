// The other map's decoder in a Web Worker: while the main thread decodes the image under the pointer, a worker
// decodes the other model's image at the same time, so both are painted after one decoder's time, not two.
// The worker runs the same file as the main thread (live_pad_decoder.js, whose text ui/map_component.py sends once
// per tab): one decoder, two threads. Without workers (or before a model's weights reach the worker) the main
// thread decodes both. At most one request per map is in flight; a newer one waits and replaces an older.
// Part of the latent map's ES module: after map_view.js, before map_component.js.

const WORKER_SHIM = `
onmessage = (e) => {
  const m = e.data;
  if (m.type === "register") {
    register({ key: m.key, manifest: m.manifest, offset: 0, length: m.bytes.byteLength }, new Uint8Array(m.bytes));
    return;
  }
  const entry = LP.models.get(m.key);
  if (!entry) return postMessage({ id: m.id, image: null });
  const image = Float64Array.from(decodeMean(entry.decoder, m.z));
  postMessage({ id: m.id, image }, [image.buffer]);
};`;

function startWorker() {
  if (LM.worker !== undefined || !LM.workerSource) return LM.worker ?? null;
  LM.worker = null;
  try {
    const url = URL.createObjectURL(new Blob([LM.workerSource, WORKER_SHIM], { type: "text/javascript" }));
    const worker = new Worker(url);
    worker.sent = new Set(); // model keys whose weights the worker has
    worker.waiting = new Map(); // request id -> {view, caption, record}
    worker.nextId = 1;
    worker.onmessage = (e) => {
      const job = worker.waiting.get(e.data.id);
      worker.waiting.delete(e.data.id);
      if (job) finishRemote(job, e.data.image);
    };
    worker.onerror = () => { LM.worker = null; }; // from now on the main thread decodes both maps
    LM.worker = worker;
  } catch {} // no workers here (or blob: URLs refused): the main thread decodes both
  return LM.worker;
}

/** Hand a model's weights to the worker (once), so that it has built its decoder before the first hover. */
function prepareRemote(key) {
  const worker = startWorker();
  if (!worker || !LM.weights.has(key)) return null;
  if (!worker.sent.has(key)) {
    const { manifest, bytes } = LM.weights.get(key);
    worker.postMessage({ type: "register", key, manifest, bytes: bytes.slice().buffer });
    worker.sent.add(key);
  }
  return worker;
}

/** Decode `code` for `view` in the worker when it can; returns false when the main thread must do it. */
function showCodeRemote(inst, view, code, caption, record) {
  if (!prepareRemote(view.model.decoder)) return false;
  view.code = code;
  const request = { view, inst, caption, record, z: Float64Array.from(code) };
  if (view.inFlight) view.queued = request; // the newest waits; older queued ones are dropped
  else sendRemote(LM.worker, request);
  return true;
}

function sendRemote(worker, request) {
  const id = worker.nextId++;
  request.view.inFlight = true;
  worker.waiting.set(id, request);
  worker.postMessage({ type: "decode", id, key: request.view.model.decoder, z: request.z });
}

function finishRemote(job, image) {
  const { view, inst, caption, record } = job;
  view.inFlight = false;
  if (view.queued && LM.worker) sendRemote(LM.worker, view.queued);
  view.queued = null;
  if (!image) showCode(inst, view, job.z, caption); // the worker lacked this decoder: the main thread draws it
  else {
    paintDigit(view.imageCtx, view.imageData, image);
    if (caption !== view.caption) view.captionEl.textContent = view.caption = caption;
    view.altDirty = true;
  }
  if (record) record.done();
}
