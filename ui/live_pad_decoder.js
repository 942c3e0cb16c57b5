// The browser's one decoder (the live latent pad's and the latent map's): parses a vae_core/export.py payload and
// runs its layers.
//
// Written for the Decoder of vae_core/networks.py (linear, relu, reshape, conv_transpose2d, sigmoid) and driven
// by the payload's layer list. Parsed decoders live in a window-level Map keyed by model key ("NAME@HASH"), so
// Python sends each model's weights once per browser tab. tests/test_export.py re-does this math in numpy;
// tests/e2e/test_live_pad.py checks it against torch. ui/live_pad.py puts this file and live_pad.js into one
// ES module (this file first); ui/map_component.py does the same with the latent map's files.

const LP = (globalThis.__vaeLivePad ??= {});
LP.models ??= new Map(); // model key -> {decoder, codes, labels}
// Times are performance.now() values: ms since this tab navigated (read by tests/e2e and bench/).
LP.stats ??= { decodes: 0, decodeMs: [], paints: 0, firstDataAt: null, firstPaintAt: null, parseMs: [] };
LP.stats.moduleAt ??= performance.now();
const MAX_MODELS = 12; // parsed decoders kept per tab (~1.3 MB each); older ones are dropped, then re-requested

// ------------------------------------------------------------------------------------------ payload parsing

function base64Bytes(text) {
  if (typeof Uint8Array.fromBase64 === "function") return Uint8Array.fromBase64(text);
  const bin = atob(text);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

function halfToFloat(h) {
  // IEEE 754 binary16 -> number, exactly (subnormals included).
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

let HALF_TABLE = null; // all 65,536 float16 bit patterns -> float32, built on first use

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function readTensors(manifest, bytes) {
  const out = {};
  for (const t of manifest.tensors) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    const size = t.dtype === "f16" ? 2 : 4;
    if (t.offset + n * size > bytes.byteLength) throw new Error(`tensor ${t.name} is truncated`);
    // slice() copies into a fresh, aligned buffer, so typed-array views work whatever the offset.
    const raw = bytes.slice(t.offset, t.offset + n * size).buffer;
    if (t.dtype === "f32") {
      if (LITTLE_ENDIAN) out[t.name] = new Float32Array(raw);
      else {
        const view = new DataView(raw), values = new Float32Array(n);
        for (let i = 0; i < n; i++) values[i] = view.getFloat32(4 * i, true);
        out[t.name] = values;
      }
    } else if (t.dtype === "f16") {
      if (!HALF_TABLE) {
        HALF_TABLE = new Float32Array(65536);
        for (let h = 0; h < 65536; h++) HALF_TABLE[h] = halfToFloat(h);
      }
      const view = new DataView(raw), values = new Float32Array(n);
      for (let i = 0; i < n; i++) values[i] = HALF_TABLE[view.getUint16(2 * i, true)];
      out[t.name] = values;
    } else throw new Error(`tensor ${t.name} has unknown dtype ${t.dtype}`);
  }
  return out;
}

// Turn the manifest's layers into ops with weights laid out for the inner loops. Feature maps are stored
// channel-last (HWC): the value of channel c at (y, x) of an n x n map is at index (y * n + x) * C + c.
function compileDecoder(manifest, tensors) {
  const ops = [];
  let width = manifest.latent_dim; // length of the current vector
  for (const L of manifest.layers) {
    const prev = ops[ops.length - 1];
    if (L.op === "linear") {
      if (L.in_features !== width) throw new Error(`linear expects ${L.in_features} inputs, gets ${width}`);
      ops.push({
        kind: "linear", nIn: L.in_features, nOut: L.out_features, relu: false,
        W: tensors[L.weight], b: tensors[L.bias], out: new Float64Array(L.out_features),
      });
      width = L.out_features;
    } else if (L.op === "relu") {
      if (!prev) throw new Error("relu needs a layer before it");
      prev.relu = true;
    } else if (L.op === "reshape") {
      // torch's view(C, H, W) reads the vector as channel-first: element c*H*W + y*W + x. Permute the rows of
      // the preceding linear layer once, here, so that it writes channel-last directly.
      const [C, H, Wd] = L.shape;
      if (!prev || prev.kind !== "linear" || prev.nOut !== C * H * Wd) throw new Error("reshape must follow linear");
      const W2 = new Float32Array(prev.W.length), b2 = new Float32Array(prev.nOut);
      for (let c = 0; c < C; c++)
        for (let y = 0; y < H; y++)
          for (let x = 0; x < Wd; x++) {
            const src = c * H * Wd + y * Wd + x, dst = (y * Wd + x) * C + c;
            W2.set(prev.W.subarray(src * prev.nIn, (src + 1) * prev.nIn), dst * prev.nIn);
            b2[dst] = prev.b[src];
          }
      prev.W = W2;
      prev.b = b2;
    } else if (L.op === "conv_transpose2d") {
      // torch weight (I, O, k, k) -> Wt[((i * k + ky) * k + kx) * O + o], so the loop over o is contiguous.
      // Float64: the inner loops then read doubles directly (measured ~20% faster than Float32 in V8).
      const I = L.in_channels, O = L.out_channels, k = L.kernel_size, W = tensors[L.weight];
      if (width !== I * L.in_size * L.in_size) throw new Error("conv_transpose2d input size mismatch");
      const Wt = new Float64Array(W.length);
      for (let i = 0; i < I; i++)
        for (let o = 0; o < O; o++)
          for (let ky = 0; ky < k; ky++)
            for (let kx = 0; kx < k; kx++) Wt[((i * k + ky) * k + kx) * O + o] = W[((i * O + o) * k + ky) * k + kx];
      ops.push({
        kind: "convT", I, O, k, s: L.stride, p: L.padding, nIn: L.in_size, nOut: L.out_size, relu: false,
        Wt, b: tensors[L.bias], out: new Float64Array(L.out_size * L.out_size * O), nz: new Int32Array(I),
      });
      width = L.out_size * L.out_size * O;
    } else if (L.op === "sigmoid") {
      ops.push({ kind: "sigmoid", out: new Float64Array(width) });
    } else {
      throw new Error(`unknown layer ${L.op}`);
    }
  }
  if (width !== 28 * 28) throw new Error(`the decoder must output 28x28 pixels (got ${width})`);
  for (const op of ops) {
    if (op.kind !== "linear") continue;
    // W (out, in) -> Wt (in, out) as Float64: the forward pass then skips zero inputs (after a ReLU, most are)
    // and runs over contiguous outputs.
    const Wt = new Float64Array(op.nIn * op.nOut);
    for (let o = 0; o < op.nOut; o++) for (let i = 0; i < op.nIn; i++) Wt[i * op.nOut + o] = op.W[o * op.nIn + i];
    op.Wt = Wt;
    delete op.W;
  }
  return {
    latentDim: manifest.latent_dim, likelihood: manifest.likelihood, ops,
    input: new Float64Array(manifest.latent_dim), std: tensors.decoder_std || null, noise: new Map(),
  };
}

// out = b + sum over the non-zero inputs i of x[i] * Wt[i, :]; the loops over outputs are unrolled by 4.
function linear(op, x) {
  const { Wt, b, nIn, nOut, out, relu } = op;
  for (let o = 0; o < nOut; o++) out[o] = b[o];
  for (let i = 0; i < nIn; i++) {
    const v = x[i];
    if (v === 0) continue;
    const base = i * nOut;
    let o = 0;
    for (; o + 3 < nOut; o += 4) {
      out[o] += v * Wt[base + o];
      out[o + 1] += v * Wt[base + o + 1];
      out[o + 2] += v * Wt[base + o + 2];
      out[o + 3] += v * Wt[base + o + 3];
    }
    for (; o < nOut; o++) out[o] += v * Wt[base + o];
  }
  if (relu) for (let o = 0; o < nOut; o++) if (out[o] < 0) out[o] = 0;
  return out;
}

// out[o, y, x] += in[i, iy, ix] * w[i, o, ky, kx] with y = iy*s - p + ky, x = ix*s - p + kx (when inside).
function convTranspose(op, x) {
  const { I, O, k, s, p, nIn, nOut, Wt, b, out, relu, nz } = op;
  for (let q = 0; q < nOut * nOut; q++) for (let o = 0; o < O; o++) out[q * O + o] = b[o];
  for (let iy = 0; iy < nIn; iy++) {
    for (let ix = 0; ix < nIn; ix++) {
      const inBase = (iy * nIn + ix) * I;
      let m = 0; // the input channels that are not zero here (most are zero after the ReLU), listed once
      for (let i = 0; i < I; i++) if (x[inBase + i] !== 0) nz[m++] = i;
      if (m === 0) continue;
      for (let ky = 0; ky < k; ky++) {
        const y = iy * s - p + ky;
        if (y < 0 || y >= nOut) continue;
        for (let kx = 0; kx < k; kx++) {
          const xx = ix * s - p + kx;
          if (xx < 0 || xx >= nOut) continue;
          const outBase = (y * nOut + xx) * O, tap = ky * k + kx;
          for (let j = 0; j < m; j++) {
            const i = nz[j], v = x[inBase + i], wBase = (i * k * k + tap) * O;
            let o = 0;
            for (; o + 3 < O; o += 4) {
              out[outBase + o] += v * Wt[wBase + o];
              out[outBase + o + 1] += v * Wt[wBase + o + 1];
              out[outBase + o + 2] += v * Wt[wBase + o + 2];
              out[outBase + o + 3] += v * Wt[wBase + o + 3];
            }
            for (; o < O; o++) out[outBase + o] += v * Wt[wBase + o];
          }
        }
      }
    }
  }
  if (relu) for (let j = 0; j < out.length; j++) if (out[j] < 0) out[j] = 0;
  return out;
}

/** The decoder's mean E[x|z] (784 numbers, row-major 28x28), computed from z (an array of latent_dim numbers). */
function decodeMean(dec, z) {
  let x = dec.input;
  for (let i = 0; i < dec.latentDim; i++) x[i] = z[i];
  for (const op of dec.ops) {
    if (op.kind === "linear") x = linear(op, x);
    else if (op.kind === "convT") x = convTranspose(op, x);
    else {
      for (let j = 0; j < x.length; j++) op.out[j] = 1 / (1 + Math.exp(-x[j]));
      x = op.out;
    }
  }
  return x;
}

// Fixed noise per model and seed, so a sample x ~ p(x|z) changes smoothly while z moves (no flicker).
function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function noiseFor(dec, seed) {
  if (!dec.noise.has(seed)) {
    const rand = mulberry32(seed * 7919 + 17), u = new Float32Array(784), n = new Float32Array(784);
    for (let j = 0; j < 784; j++) {
      u[j] = rand();
      n[j] = Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand()); // Box-Muller
    }
    dec.noise.set(seed, { u, n });
  }
  return dec.noise.get(seed);
}

/** E[x|z], or a sample x ~ p(x|z): Bernoulli pixels (u < p), or the Gaussian mean + sigma * noise in [0, 1]. */
function decodeImage(dec, z, sample, seed) {
  const t0 = performance.now();
  const mean = decodeMean(dec, z);
  let img = mean;
  if (sample) {
    const { u, n } = noiseFor(dec, seed);
    img = dec.sampled ??= new Float64Array(784);
    if (dec.likelihood === "gaussian" && dec.std)
      for (let j = 0; j < 784; j++) img[j] = Math.min(1, Math.max(0, mean[j] + dec.std[j] * n[j]));
    else for (let j = 0; j < 784; j++) img[j] = u[j] < mean[j] ? 1 : 0;
  }
  const ms = performance.now() - t0;
  LP.stats.decodes += 1;
  LP.stats.decodeMs.push(ms);
  if (LP.stats.decodeMs.length > 2000) LP.stats.decodeMs.splice(0, 1000);
  return img;
}

/** Parse one model's assets into the tab-wide cache and return its key. An asset is either
 * {key, manifest, offset, length, codes?, labels?} with the weights at blobs[offset:offset+length] (what the
 * component receives), or {decoder: DecoderPayload.to_json()} with the weights in base64 (tests, other hosts). */
function register(asset, blobs = null) {
  const key = asset.decoder ? asset.decoder.key : asset.key;
  if (!LP.models.has(key)) {
    const t0 = performance.now();
    const manifest = asset.decoder ? asset.decoder.manifest : asset.manifest;
    const bytes = asset.decoder
      ? base64Bytes(asset.decoder.data)
      : blobs.subarray(asset.offset, asset.offset + asset.length);
    if (!asset.decoder && bytes.byteLength !== asset.length) throw new Error("the message ends inside the weights");
    const decoder = compileDecoder(manifest, readTensors(manifest, bytes));
    LP.stats.parseMs.push(performance.now() - t0);
    LP.models.set(key, { decoder, codes: asset.codes || null, labels: asset.labels || null });
    while (LP.models.size > MAX_MODELS) LP.models.delete(LP.models.keys().next().value);
  }
  return key;
}

// Test and benchmark hooks: decode a registered model's mean (or sample) for a given z.
LP.register = register;
LP.decode = (key, z, sample = false, seed = 0) => {
  const entry = LP.models.get(key);
  if (!entry) throw new Error(`model ${key} is not loaded in this tab`);
  return Array.from(decodeImage(entry.decoder, z, sample, seed));
};
LP.resetStats = () => Object.assign(LP.stats, { decodes: 0, decodeMs: [], paints: 0 });
