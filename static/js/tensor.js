// Shapes, offsets and provenance geometry. Pure: no DOM, no fetch.
//
// The record is a list of stages `{name, kind, shape, ...params}` (the contract's layer entries).
// Every shape and window here is derived from those params, never hard-coded, so a different
// spec draws and explains without code changes.
//
// Units are `[c, y, x]` for 3-D stages and `[i]` for 1-D stages. Windows are half-open ranges,
// one per axis of the SOURCE stage: `[[c0, c1], [y0, y1], [x0, x1]]` or `[[i0, i1]]`, exactly
// the `source.window` the engine's explain returns, so the page can light a window up the moment
// the pointer lands, before the numbers arrive.

export const size = (shape) => shape.reduce((a, b) => a * b, 1);

// Row-major offset of `unit` in `shape` (the flat index into a record's `values`).
export function offset(shape, unit) {
  let o = 0;
  for (let a = 0; a < shape.length; a++) o = o * shape[a] + unit[a];
  return o;
}

// Inverse of `offset`.
export function unravel(shape, index) {
  const unit = new Array(shape.length);
  for (let a = shape.length - 1; a >= 0; a--) {
    unit[a] = index % shape[a];
    index = Math.floor(index / shape[a]);
  }
  return unit;
}

export function inRange(shape, unit) {
  return unit.length === shape.length && unit.every((u, a) => Number.isInteger(u) && u >= 0 && u < shape[a]);
}

export function indexOfStage(stages, name) {
  const i = stages.findIndex((s) => s.name === name);
  if (i < 0) throw new Error(`unknown stage ${name}; known: ${stages.map((s) => s.name).join(", ")}`);
  return i;
}

const clamp = (v, lo, hi) => Math.min(Math.max(v, lo), hi);

// The half-open span of source positions that output positions [o0, o1) read along one spatial
// axis of a sliding window (conv kernel or pool window), clipped to the source's extent because
// zero padding contributes no source unit.
function span(o0, o1, { window, stride, padding = 0 }, extent) {
  return [clamp(o0 * stride - padding, 0, extent), clamp((o1 - 1) * stride - padding + window, 0, extent)];
}

// Which stage feeds stage `i` and which of its units: the engine's provenance rules.
// `ranges` are half-open per-axis ranges of stage i's units (a single unit is [[u, u+1], ...]).
// Returns {layer: source name, window}; the input stage is its own source.
export function sourceOfRanges(stages, i, ranges) {
  const stage = stages[i];
  // The image is its own source (as the engine's explain says): the window is the unit itself.
  if (stage.kind === "input" || i === 0) return { layer: stage.name, window: ranges.map((r) => [...r]) };
  const src = stages[i - 1];
  const s = src.shape;
  switch (stage.kind) {
    case "conv": {
      // Every output map reads every input channel (full connection, as in Harley's view) through
      // a k×k window; stride and padding move the window.
      const g = { window: stage.kernel, stride: stage.stride ?? 1, padding: stage.padding ?? 0 };
      return { layer: src.name, window: [[0, s[0]], span(...ranges[1], g, s[1]), span(...ranges[2], g, s[2])] };
    }
    case "pool": {
      // A pool unit reads its own channel only.
      const g = { window: stage.window, stride: stage.stride ?? stage.window, padding: 0 };
      return { layer: src.name, window: [ranges[0], span(...ranges[1], g, s[1]), span(...ranges[2], g, s[2])] };
    }
    case "activation":
      return { layer: src.name, window: ranges.map((r) => [...r]) };   // element-wise
    case "flatten": {
      // A reshape: one index is one source unit; a range is its bounding box in the source.
      const [i0, i1] = ranges[0];
      if (i1 - i0 === 1) return { layer: src.name, window: unravel(s, i0).map((u) => [u, u + 1]) };
      return { layer: src.name, window: boundingBox(s, i0, i1) };
    }
    case "dense":
    case "softmax":
      return { layer: src.name, window: s.map((n) => [0, n]) };   // every input
    default:
      throw new Error(`unknown stage kind ${stage.kind}`);
  }
}

// Bounding box (half-open per axis) of the row-major flat range [i0, i1) in `shape`.
function boundingBox(shape, i0, i1) {
  const lo = shape.map(() => Infinity);
  const hi = shape.map(() => -Infinity);
  for (let i = i0; i < i1; i++) {
    unravel(shape, i).forEach((u, a) => { lo[a] = Math.min(lo[a], u); hi[a] = Math.max(hi[a], u + 1); });
  }
  return shape.map((_, a) => [lo[a], hi[a]]);
}

export const unitRanges = (unit) => unit.map((u) => [u, u + 1]);

// The source window of one unit of stage `name`: what explain's `source` will say.
export function sourceWindow(stages, name, unit) {
  return sourceOfRanges(stages, indexOfStage(stages, name), unitRanges(unit));
}

// The unit's receptive field on the first stage (the 32×32 input): its window walked back
// stage by stage. Same form as the engine's receptive_field: [[c0,c1],[y0,y1],[x0,x1]].
export function receptiveField(stages, name, unit) {
  let i = indexOfStage(stages, name);
  let ranges = unitRanges(unit);
  while (i > 0) {
    ranges = sourceOfRanges(stages, i, ranges).window;
    i -= 1;
  }
  return ranges;
}

// Every unit inside a window, row-major (for highlighting and for reading values).
export function windowUnits(window) {
  const out = [];
  const rec = (axis, prefix) => {
    if (axis === window.length) { out.push(prefix); return; }
    for (let u = window[axis][0]; u < window[axis][1]; u++) rec(axis + 1, [...prefix, u]);
  };
  rec(0, []);
  return out;
}

// The shape of a window (what explain's `source.shape` is).
export const windowShape = (window) => window.map(([a, b]) => b - a);

// Values of `record` (a {shape, values} layer) at every unit of `window`, row-major.
export function windowValues(record, window) {
  return windowUnits(window).map((u) => record.values[offset(record.shape, u)]);
}

// Smallest and largest value of a record (NaN-free float arrays).
export function extent(values) {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return values.length ? [lo, hi] : [0, 0];
}
