// The arithmetic behind the numbers panel. Pure: no DOM.
//
// The panel must add up: a student with a calculator who adds the numbers ON SCREEN must get
// the total on screen. Rounded terms do not always add to the rounded total, so the panel
// shows the exact total and, whenever the shown terms add to something else at the shown
// precision, says so with both numbers (`rounding`). Sums of shown terms are done in integer
// units of the last shown digit, so no binary floating-point noise creeps into them.
//
// The terms are regrouped from the explain answer (the engine's window values, weights, bias
// and sum), never from a second implementation of a layer: products and per-channel subtotals
// are exactly the terms of the engine's own sum, which `checkSum` confirms.

export const MINUS = "\u2212";

// A number with `d` decimals and a real minus sign; "-0.000" becomes "0.000".
export function fixed(v, d = 3) {
  const s = Math.abs(v).toFixed(d);
  return v < 0 && Number(s) !== 0 ? MINUS + s : s;
}

export const parseShown = (s) => Number(String(s).replace(MINUS, "-").replace(/[^0-9.eE+-]/g, ""));

const units = (v, d) => Math.round(v * 10 ** d);

// The sum of the terms AS SHOWN (each rounded to d decimals), as a number with d decimals.
export function shownSum(terms, d = 3) {
  return terms.reduce((t, v) => t + units(v, d), 0) / 10 ** d;
}

// null when the shown terms add up to the shown total; else {shown, exact} to tell the student.
export function rounding(terms, total, d = 3) {
  const shown = shownSum(terms, d);
  return units(shown, d) === units(total, d) ? null : { shown, exact: total };
}

// Conv unit: per input channel, the window values, kernel, element-wise products and their
// subtotal. source.values and weight are the same [C, k, k] window (row-major, flat).
export function convTerms(e) {
  const [C, kh, kw] = e.source.shape.length === 3 ? e.source.shape : [1, ...e.source.shape];
  const n = kh * kw;
  const channels = [];
  let total = 0;
  // A connection table (Harley's conv2) lists the maps the filter reads in `channels`; the
  // others have no weights (exactly 0), add nothing and are not terms of the sum.
  const reads = e.channels ?? null;
  for (let c = 0; c < C; c++) {
    if (reads && !reads.includes(e.source.window[0][0] + c)) continue;
    const window = Array.from(e.source.values.slice(c * n, (c + 1) * n));
    const weight = e.weight.slice(c * n, (c + 1) * n);
    const products = window.map((v, i) => v * weight[i]);
    const subtotal = products.reduce((a, b) => a + b, 0);
    total += subtotal;
    channels.push({ c: e.source.window[0][0] + c, window, weight, products, subtotal, shape: [kh, kw] });
  }
  return { channels, of: C, total, bias: e.bias, sum: total + e.bias, value: e.value };
}

// Dense unit: the strongest terms, then everything else folded into one honest "rest".
export function denseTerms(e) {
  const inputs = e.source.values.length;
  const top = e.top.slice();
  const topSum = top.reduce((t, x) => t + x.product, 0);
  const rest = e.sum - e.bias - topSum;   // the other inputs' products, from the engine's own sum
  return { top, restCount: inputs - top.length, rest, bias: e.bias, sum: e.sum, value: e.value };
}

// Softmax output i: exp(z_i − max z) / Σ_j exp(z_j − max z), with every number of the formula.
export function softmaxTerms(e) {
  const z = Array.from(e.logits);
  const m = Math.max(...z);
  const exps = z.map((v) => Math.exp(v - m));
  const total = exps.reduce((a, b) => a + b, 0);
  const i = e.unit[0];
  return { logits: z, max: m, exps, total, i, p: exps[i] / total, value: e.value };
}

// Does the regrouped sum reproduce the engine's? (float32 engine vs float64 here.)
export const checkSum = (mine, engine, tol = 1e-4) => Math.abs(mine - engine) <= tol * Math.max(1, Math.abs(engine));

// Index of the largest |x|: which channel to open first.
export const argmaxAbs = (xs) => xs.reduce((best, v, i) => (Math.abs(v) > Math.abs(xs[best]) ? i : best), 0);
