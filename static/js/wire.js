// The binary forward answer (POST /api/forward with Accept: application/octet-stream, written
// by app/wire.py; format in docs/architecture.md) -> the same object the JSON answer parses to,
// with every value array a Float32Array: {preprocessing, prediction, layers, probabilities}.
// Pure: no fetch, no DOM. api.js turns the result into the page's trace exactly as it does the
// JSON answer, so views cannot tell the two wires apart (tests/js/wire.test.mjs and
// tests/browser/test_wire.py check every stage bit for bit against the JSON answer).
//
// Stages the server left out are rebuilt here from an earlier layer, only in the ways the
// server has checked give its very bits (it runs these same rules before omitting a stage):
//   relu      v > 0 ? v : +0
//   max_pool  the max of each window×window patch at `stride` (the pool entry's own fields)
//   copy      the same values (flatten; probabilities = softmax; the input step = input)
// and "u8/255" arrays are bytes k read as the float32 k × float32(1/255), the preprocessed
// images' exact values (the product of two float32 in a double is exact, fround rounds once).

export const MAGIC = "CSW1";
export const MEDIA_TYPE = "application/octet-stream";

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const U8_TABLE = Float32Array.from({ length: 256 }, (_, k) => Math.fround(k * Math.fround(1 / 255)));

export class WireError extends Error {}

export function relu(src) {
  const out = new Float32Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = src[i] > 0 ? src[i] : 0;
  return out;
}

// src: C×H×W flat. Output (C, (H - window) / stride + 1, (W - window) / stride + 1), floored.
export function maxPool(src, [C, H, W], window, stride) {
  const oh = Math.floor((H - window) / stride) + 1, ow = Math.floor((W - window) / stride) + 1;
  const out = new Float32Array(C * oh * ow);
  let o = 0;
  for (let c = 0; c < C; c++) {
    for (let y = 0; y < oh; y++) {
      for (let x = 0; x < ow; x++) {
        const base = c * H * W + y * stride * W + x * stride;
        let m = src[base];
        for (let i = 0; i < window; i++) {
          for (let j = 0; j < window; j++) {
            const v = src[base + i * W + j];
            if (v > m) m = v;
          }
        }
        out[o++] = m;
      }
    }
  }
  return out;
}

function floats(buffer, at, length) {
  if (LITTLE_ENDIAN && at % 4 === 0) return new Float32Array(buffer, at, length);
  const view = new DataView(buffer, at, length * 4);   // big-endian host (or misaligned)
  return Float32Array.from({ length }, (_, i) => view.getFloat32(i * 4, true));
}

// buffer: the response's ArrayBuffer.
export function decodeForward(buffer) {
  const bytes = new Uint8Array(buffer);
  if (bytes.length < 8 || String.fromCharCode(...bytes.subarray(0, 4)) !== MAGIC) {
    throw new WireError(`not a ConvScope wire answer (${bytes.length} bytes)`);
  }
  const headerLength = new DataView(buffer).getUint32(4, true);
  const start = 8 + headerLength;
  if (start > bytes.length) throw new WireError(`header of ${headerLength} bytes overruns the answer`);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, start)));
  const layers = new Map();

  function read(d, entry, where) {
    if (d.encoding === "f32" || d.encoding === "u8/255") {
      const size = d.encoding === "f32" ? 4 : 1;
      if (!(d.offset >= 0 && d.length >= 0 && start + d.offset + d.length * size <= bytes.length)) {
        throw new WireError(`${where}: ${d.length} values at ${d.offset} overrun the data`);
      }
      if (size === 4) return floats(buffer, start + d.offset, d.length);
      const k = bytes.subarray(start + d.offset, start + d.offset + d.length);
      const out = new Float32Array(d.length);
      for (let i = 0; i < k.length; i++) out[i] = U8_TABLE[k[i]];
      return out;
    }
    const src = layers.get(d.of);
    if (!src) throw new WireError(`${where}: ${d.encoding} of ${d.of}, which is not an earlier layer`);
    if (d.encoding === "copy") return Float32Array.from(src.values);
    if (d.encoding === "relu") return relu(src.values);
    if (d.encoding === "max_pool") return maxPool(src.values, src.shape, entry.window, entry.stride);
    throw new WireError(`${where}: unknown encoding ${d.encoding}`);
  }

  for (const entry of header.layers) {
    entry.values = read(entry.values, entry, entry.name);
    layers.set(entry.name, entry);
  }
  header.probabilities = read(header.probabilities, null, "probabilities");
  for (const step of header.preprocessing?.steps ?? []) step.values = read(step.values, null, `step ${step.name}`);
  return header;
}
