// Step mode: which output cell the window is on, what it reads and what it writes. Pure.
//
// Nothing is computed here: the window values are a slice of the server's padded map, the
// products a slice of the server's per-position products, the sum the server's output cell.
// `result` is a /api/convolve answer with Float32Array values (api.js): padded, output,
// products ([H', W', k, k]) and kernel.

export const count = (outShape) => outShape[0] * outShape[1];

// Position index (row-major over the output, Figure 5's order) -> [y, x].
export function cellOf(index, outShape) {
  const n = count(outShape);
  const i = Math.min(Math.max(0, Math.floor(index)), n - 1);
  return [Math.floor(i / outShape[1]), i % outShape[1]];
}

// Half-open rows/cols of the window in padded-map coordinates, and of the original map.
export function windowOf([y, x], stride, k, padding = 0) {
  const y0 = y * stride, x0 = x * stride;
  return { y0, y1: y0 + k, x0, x1: x0 + k, image: { y0: y0 - padding, y1: y0 + k - padding, x0: x0 - padding, x1: x0 + k - padding } };
}

// Where a student starts on a drawing: the first position (row-major) whose window reads any
// ink (a value of the map other than its `background`, the value of blank paper: 0, or
// (0 − mean) / std for a normalised channel; padding never counts), instead of the rows of
// blank windows above a digit (900 positions at 5/s is three minutes). 0 when the map is blank.
export function firstInk(result, background = 0) {
  const [oh, ow] = result.output.shape;
  const [ph, pw] = result.padded.shape;
  const k = result.kernel.shape[0], s = result.stride, p = result.padding ?? 0, v = result.padded.values;
  const inside = (y, x) => y >= p && y < ph - p && x >= p && x < pw - p;
  for (let y = 0; y < oh; y++) {
    for (let x = 0; x < ow; x++) {
      for (let i = 0; i < k; i++) {
        const py = y * s + i;
        for (let j = 0; j < k; j++) {
          const px = x * s + j;
          if (inside(py, px) && Math.abs(v[py * pw + px] - background) > 1e-6) return y * ow + x;
        }
      }
    }
  }
  return 0;
}

// The start and the words for it. A photo has no blank paper (every window reads something):
// it starts at the first position, top left, and the hint says so; a drawing where the ink is.
export function startOf(result, { picture = false, background = 0 } = {}) {
  if (picture) return { index: 0, words: "It starts at the first position, top left (every window of a photo reads something)" };
  return { index: firstInk(result, background), words: "It starts at the first window that reads ink" };
}

// A click on output cell [y, x]: that position.
export function positionOfOutput([y, x], outShape) {
  const cy = Math.min(Math.max(0, y), outShape[0] - 1), cx = Math.min(Math.max(0, x), outShape[1] - 1);
  return cy * outShape[1] + cx;
}

// A click on cell [py, px] of the padded map: the position whose window is centred nearest to
// it (so the window covers the cell whenever some window does: stride ≤ kernel size).
export function positionOfPadded([py, px], result) {
  const k = result.kernel.shape[0], s = result.stride;
  const near = (p) => Math.round((p - (k - 1) / 2) / s);
  return positionOfOutput([near(py), near(px)], result.output.shape);
}

// Everything step mode shows for position `index`.
export function frame(result, index) {
  const out = result.output.shape;
  const [y, x] = cellOf(index, out);
  const k = result.kernel.shape[0];
  const [ph, pw] = result.padded.shape;
  const p = result.padding;
  const w = windowOf([y, x], result.stride, k, p);
  const window = new Float32Array(k * k);
  const border = new Array(k * k);
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < k; j++) {
      const py = w.y0 + i, px = w.x0 + j;
      window[i * k + j] = result.padded.values[py * pw + px];
      border[i * k + j] = py < p || py >= ph - p || px < p || px >= pw - p;   // a padding zero
    }
  }
  const at = (y * out[1] + x) * k * k;
  const products = result.products ? result.products.values.subarray(at, at + k * k) : null;
  return {
    index: y * out[1] + x, y, x, k, window, border, products,
    kernel: result.kernel.values, bias: result.kernel.bias,
    value: result.output.values[y * out[1] + x], rect: w,
  };
}

// The play clock: advances `rate` positions per second of wall time, wrapping at the end.
// player: {index, playing, rate, last}; returns the next player (unchanged when paused).
export function tick(player, now, n) {
  if (!player.playing) return { ...player, last: now };
  if (player.last == null) return { ...player, last: now };
  const steps = Math.floor(((now - player.last) * player.rate) / 1000);
  if (steps < 1) return player;
  return { ...player, index: (player.index + steps) % n, last: player.last + (steps * 1000) / player.rate };
}

export const step = (player, delta, n) => ({ ...player, playing: false, index: (((player.index + delta) % n) + n) % n });
export const seek = (player, index, n) => ({ ...player, index: Math.min(Math.max(0, index), n - 1) });
