// Colour scales for unit values. Pure: no DOM.
//
// Two scales, both safe for the common colour-vision deficiencies (no red–green contrast):
//  - `diverging` for signed values (conv, activation, pool, dense outputs): blue for negative,
//    near-white for zero, orange for positive, symmetric around 0. Endpoints are ColorBrewer's
//    RdBu blue (#0571b0) and PuOr orange (#e66101).
//  - `sequential` for values in [0, 1] (the input image, probabilities): black to white, like
//    MNIST's own bytes (white ink on black).
// A scale maps value -> [r, g, b]. Views fill ImageData through a 256-entry lookup table (`lut`)
// so painting every unit of the network is one table read per unit.

import { channelRanges } from "./channels.js";

export const NEGATIVE = [5, 113, 176];
export const ZERO = [247, 247, 247];
export const POSITIVE = [230, 97, 1];
export const LUT_SIZE = 256;

const mix = (a, b, t) => a.map((v, i) => Math.round(v + (b[i] - v) * t));
const clamp01 = (t) => (t < 0 ? 0 : t > 1 ? 1 : Number.isNaN(t) ? 0.5 : t);

// A scale is {kind, domain: [lo, hi], color(v) -> [r,g,b], position(v) -> t in [0,1]}.
export function diverging(max) {
  const m = max > 0 ? max : 1;
  const position = (v) => clamp01((v / m + 1) / 2);
  return {
    kind: "diverging",
    domain: [-m, m],
    position,
    color(v) {
      const t = position(v);
      return t < 0.5 ? mix(NEGATIVE, ZERO, t * 2) : mix(ZERO, POSITIVE, (t - 0.5) * 2);
    },
  };
}

export function sequential(lo = 0, hi = 1) {
  const span = hi > lo ? hi - lo : 1;
  const position = (v) => clamp01((v - lo) / span);
  return {
    kind: "sequential",
    domain: [lo, hi],
    position,
    color(v) {
      const g = Math.round(position(v) * 255);
      return [g, g, g];
    },
  };
}

// RGBA lookup table: entry j is the colour at position j / (LUT_SIZE - 1).
export function lut(scale) {
  const [lo, hi] = scale.domain;
  const table = new Uint8ClampedArray(LUT_SIZE * 4);
  for (let j = 0; j < LUT_SIZE; j++) {
    const [r, g, b] = scale.color(lo + ((hi - lo) * j) / (LUT_SIZE - 1));
    table.set([r, g, b, 255], j * 4);
  }
  return table;
}

// The LUT entry for a value (nearest of the 256 steps).
export const lutIndex = (scale, v) => Math.round(scale.position(v) * (LUT_SIZE - 1));

// Paint `values` into RGBA bytes `data` (an ImageData's) through the scale's lookup table: the
// one hot loop every map painter shares (2D network sheets, Learn tiles). Linear in the value
// with the index clamped, which is lutIndex for both scale kinds without a call per value.
export function fillRGBA(data, values, scale, table = lut(scale)) {
  const [lo, hi] = scale.domain;
  const k = (LUT_SIZE - 1) / (hi - lo || 1);
  for (let i = 0; i < values.length; i++) {
    let j = Math.round((values[i] - lo) * k);
    j = j < 0 ? 0 : j > LUT_SIZE - 1 ? LUT_SIZE - 1 : j;
    data[i * 4] = table[j * 4];
    data[i * 4 + 1] = table[j * 4 + 1];
    data[i * 4 + 2] = table[j * 4 + 2];
    data[i * 4 + 3] = 255;
  }
}

// Round a positive magnitude up to 1, 2 or 5 × 10^k, so a stage's scale moves in visible steps
// rather than jittering with every stroke while drawing.
export function niceCeil(x) {
  if (!(x > 0) || !Number.isFinite(x)) return 1;
  const p = 10 ** Math.floor(Math.log10(x));
  for (const m of [1, 2, 5, 10]) if (x <= m * p * (1 + 1e-9)) return m * p;
  return 10 * p;
}

// The scale a stage is drawn with. One scale per stage (every map of a stage shares it, so maps
// compare); the input and probabilities keep the fixed [0, 1] domain.
// `floor`: the smallest half-range the scale may shrink to. Without one, a blank pad's conv1
// (nothing but its biases, ±0.002) would stretch to full orange and look like strong features;
// with the floor from a real image's activations (stageFloors) it stays near-white, as it is.
export function scaleForStage(kind, lo, hi, floor = 0) {
  // An input normalised by its model ((x − mean) / std) leaves [0, 1]: its own range then.
  if (kind === "input" && (lo < 0 || hi > 1)) return sequential(lo < 0 ? -niceCeil(-lo) : 0, niceCeil(Math.max(hi, 1)));
  if (kind === "input" || kind === "softmax") return sequential(0, 1);
  return diverging(niceCeil(Math.max(Math.abs(lo), Math.abs(hi), floor > 0 ? floor : 0)));
}

// The input stage's scale. A normalised input ((x − mean) / std per channel, channels.js) is
// drawn channel by channel on its own declared range, black (none of it) to white (full), as the
// picture was before normalising: one stretch over all channels would wash a photo out (red
// runs −2.1 … 2.2, blue −1.8 … 2.6). The returned scale spans every channel (for the legend and
// the labels) and carries `channels`, one scale per channel, for the painters.
export function scaleForInput(input, C, lo, hi) {
  const ranges = channelRanges(input, C);
  if (!ranges) return scaleForStage("input", lo, hi);
  const scale = sequential(Math.min(...ranges.map((r) => r[0])), Math.max(...ranges.map((r) => r[1])));
  return { ...scale, channels: ranges.map(([a, b]) => sequential(a, b)) };
}

// Paint a stage's values into RGBA bytes, channel by channel when its scale has `channels`.
export function fillStage(data, values, scale) {
  if (!scale.channels) { fillRGBA(data, values, scale); return; }
  const n = values.length / scale.channels.length;
  scale.channels.forEach((s, c) => fillRGBA(data.subarray(c * n * 4, (c + 1) * n * 4), values.subarray(c * n, (c + 1) * n), s));
}

// A stage's value is "bias-level" below this fraction of what a real image makes there.
export const FLOOR_FRACTION = 0.1;

// Per-stage scale floors from one real image's trace (a shipped test image through this
// model): FLOOR_FRACTION × the stage's largest |value|. Map name -> floor; stages in [0, 1]
// (input, softmax) need none.
export function stageFloors(layers, fraction = FLOOR_FRACTION) {
  const floors = new Map();
  for (const l of layers ?? []) {
    if (l.kind === "input" || l.kind === "softmax") continue;
    let m = 0;
    for (let i = 0; i < l.values.length; i++) { const a = Math.abs(l.values[i]); if (a > m) m = a; }
    if (m > 0 && Number.isFinite(m)) floors.set(l.name, fraction * m);
  }
  return floors;
}

// Tick values for a legend: the two ends and the middle (0 for a diverging scale).
export function legendTicks(scale) {
  const [lo, hi] = scale.domain;
  return [lo, (lo + hi) / 2, hi].map((v) => (Math.abs(v) < 1e-12 ? 0 : v));
}

// Decimals for a legend whose end is `hi`: 0 from 10 up, 1 from 1, else enough for one
// significant digit of the end (0.5 -> 1, 0.02 -> 2, 0.002 -> 3), capped at 6.
export function legendDecimals(hi) {
  const a = Math.abs(hi);
  if (!(a > 0) || !Number.isFinite(a)) return 0;
  if (a >= 10) return 0;
  if (a >= 1) return 1;
  return Math.min(6, Math.ceil(-Math.log10(a) - 1e-9));
}

export const cssColor = ([r, g, b]) => `rgb(${r},${g},${b})`;
