// The Learn tab's bookkeeping: pure functions over /api/gradient and /api/history answers.
// No DOM, no fetch: views call these to slice, regroup and place what the server computed.

// The server's bounds (engine.gradient) come in GET /api/model as `limits.learn`
// ({max_steps, max_learning_rate}): the views pass them in, nothing here copies them.

// The learning-rate slider's stops: a 1-2-5 ladder, cut at the server's largest rate.
export const RATE_LADDER = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5];
export const learningRates = (limits) => RATE_LADDER.filter((r) => r <= (limits?.max_learning_rate ?? 0));
// The default stop: 0.01, or the largest allowed below it.
export const defaultRate = (rates) => rates.filter((r) => r <= 0.01).at(-1) ?? rates[0] ?? null;

// The target a fresh drawing starts with: what the network says it is (the student can pick
// another; a wrong target is the interesting case).
export const defaultTarget = (trace) => (trace ? trace.prediction : 0);

// How many steps the next request asks for: n + add, capped at the server's bound. The server
// keeps no state, so "one more step" is "n + 1 steps from the served model".
// max: limits.learn.max_steps.
export const nextSteps = (n, add, max) => Math.max(0, Math.min(max, n + add));

// A loss figure readable at any size: 4 decimals, or 3 significant digits in e-notation below
// 0.001 (a confident digit's total error is ~1e-6, which 4 decimals would show as 0.0000).
export function figure(v) {
  if (v === 0 || Math.abs(v) >= 1e-3) return v.toFixed(4);
  return v.toExponential(2).replace("-", "\u2212");
}

// Largest magnitude, for a symmetric (diverging) colour scale; 0 for all-zero input.
export function maxAbs(values) {
  let m = 0;
  for (let i = 0; i < values.length; i++) {
    const a = Math.abs(values[i]);
    if (a > m) m = a;
  }
  return m;
}

// Stage gradients as layer records the page's layout understands: the model's stage entries
// (kind, params) with the gradient as `values`. Names must match one to one.
export function gradientLayers(stageGradients, stages) {
  const byName = new Map(stages.map((s) => [s.name, s]));
  return stageGradients.map((g) => {
    const s = byName.get(g.name);
    if (!s) throw new Error(`gradient for unknown stage ${g.name}`);
    return { ...s, shape: g.shape, values: g.values };
  });
}

// d loss / d W of a dense layer from its two factors (the `outer` form): W[i, j] = rows[i]·cols[j].
export function expandOuter(rows, cols) {
  const out = new Float32Array(rows.length * cols.length);
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    const base = i * cols.length;
    for (let j = 0; j < cols.length; j++) out[base + j] = r * cols[j];
  }
  return out;
}

// A dense gradient's values whichever form the server sent.
export const denseGradient = (p) => (p.weight ? p.weight : expandOuter(p.outer.rows, p.outer.cols));

export function difference(after, before) {
  const out = new Float32Array(after.length);
  for (let i = 0; i < after.length; i++) out[i] = after[i] - before[i];
  return out;
}

// Conv weights [F, C, k, k] as F×C small k×k images: {f, c, values} in row-major (f, c) order.
export function kernelTiles(values, shape) {
  const [F, C, kh, kw] = shape;
  const n = kh * kw;
  const tiles = [];
  for (let f = 0; f < F; f++) {
    for (let c = 0; c < C; c++) {
      const start = (f * C + c) * n;
      tiles.push({ f, c, values: values.subarray(start, start + n) });
    }
  }
  return tiles;
}

// Snapshot k of a stacked [K, ...] array (a view, no copy).
export function snapshotSlice(values, shape, k) {
  const per = shape.slice(1).reduce((a, b) => a * b, 1);
  return values.subarray(k * per, (k + 1) * per);
}

// Curves: screen points of ys over xs in a box {x, y, w, h}; y grows downwards on screen.
export function curvePoints(xs, ys, box, { xlo = Math.min(...xs), xhi = Math.max(...xs), ylo = Math.min(...ys), yhi = Math.max(...ys) } = {}) {
  const xspan = xhi > xlo ? xhi - xlo : 1;
  const yspan = yhi > ylo ? yhi - ylo : 1;
  return xs.map((x, i) => [box.x + ((x - xlo) / xspan) * box.w, box.y + box.h - ((ys[i] - ylo) / yspan) * box.h]);
}

// Where a snapshot sits on an epoch axis from xlo to xhi, in the box (the curves' cursor).
export function cursorX(epoch, box, xlo, xhi) {
  const t = xhi > xlo ? (epoch - xlo) / (xhi - xlo) : 0;
  return box.x + Math.max(0, Math.min(1, t)) * box.w;
}

// Epoch axis on a cube-root scale, the spacing of the snapshots themselves (engine/history.py):
// most learning happens in the first epoch, which a linear axis squeezes into a few pixels.
export const epochAxis = (epoch) => Math.cbrt(Math.max(0, epoch));
export function epochTicks(last) {
  const ticks = [0, 0.1, 1, 10, 100].filter((t) => t < last * 0.8);
  return [...ticks, last].map((t) => ({ at: epochAxis(t), label: String(t) }));
}

// The snapshot index a play/pause animation shows next (wraps to the start at the end).
export const nextSnapshot = (k, count) => (count ? (k + 1) % count : 0);

// One-line summary of a step history for the page and its tests:
// {first, last, rising (target probability went up at every step), falling (error went down)}.
export function trend(history) {
  const p = history.map((h) => h.probability);
  const e = history.map((h) => h.total_error);
  const up = p.every((v, i) => i === 0 || v > p[i - 1]);
  const down = e.every((v, i) => i === 0 || v < e[i - 1]);
  return { first: history[0], last: history[history.length - 1], rising: up, falling: down };
}

// What each input channel of a conv stage is called on screen: R, G, B for the first conv of a
// colour model (it reads the picture's channels), else null (the maps' numbers will do).
export function channelNames(stages, conv) {
  const input = stages?.find((s) => s.kind === "input");
  const first = stages?.find((s) => s.kind === "conv");
  return first && first.name === conv && input?.shape[0] === 3 && first.in_channels === 3 ? ["R", "G", "B"] : null;
}

// Conv weights [F, C, k, k] as a labelled grid: one column per filter, one row per input
// channel (a one-channel conv is one row of filters), so a filter's R, G and B kernels stand
// in one column under its number. Tiles carry {f, c, row, col, values}.
export function filterGrid(values, shape, names = null) {
  const [F, C] = shape;
  const tiles = kernelTiles(values, shape).map((t) => ({ ...t, row: t.c, col: t.f }));
  return {
    tiles, rows: C, cols: F,
    rowLabels: C > 1 ? Array.from({ length: C }, (_, c) => names?.[c] ?? String(c)) : null,
    colLabels: Array.from({ length: F }, (_, f) => String(f)),
  };
}
