import { test } from "node:test";
import assert from "node:assert/strict";
import { count, cellOf, windowOf, frame, tick, step, seek, firstInk, startOf, positionOfOutput, positionOfPadded } from "../../static/js/lab/step.js";

// A made-up answer with distinct values everywhere, so any wrong slice shows: a 4×5 map padded
// by 1 (6×7), 3×3 kernel, stride 2 -> output 2×3; products[y, x] numbered 1000·(y·3+x) + cell.
function answer() {
  const [ph, pw] = [6, 7];
  const padded = new Float32Array(ph * pw).map((_, i) => {
    const y = Math.floor(i / pw), x = i % pw;
    return y === 0 || x === 0 || y === ph - 1 || x === pw - 1 ? 0 : 10 * y + x;
  });
  const products = new Float32Array(2 * 3 * 9).map((_, i) => 1000 * Math.floor(i / 9) + (i % 9));
  return {
    stride: 2, padding: 1,
    padded: { shape: [ph, pw], values: padded },
    output: { shape: [2, 3], values: Float32Array.from([1, 2, 3, 4, 5, 6]) },
    kernel: { shape: [3, 3], values: Float32Array.from([1, 0, -1, 2, 0, -2, 1, 0, -1]), bias: 0.5 },
    products: { shape: [2, 3, 3, 3], values: products },
  };
}

test("positions run row-major over the output, clamped to it", () => {
  assert.equal(count([2, 3]), 6);
  assert.deepEqual(cellOf(0, [2, 3]), [0, 0]);
  assert.deepEqual(cellOf(4, [2, 3]), [1, 1]);
  assert.deepEqual(cellOf(99, [2, 3]), [1, 2]);
  assert.deepEqual(cellOf(-3, [2, 3]), [0, 0]);
});

test("the window moves by the stride over the padded map", () => {
  const w = windowOf([1, 2], 2, 3, 1);
  assert.deepEqual([w.y0, w.y1, w.x0, w.x1], [2, 5, 4, 7]);
  assert.deepEqual(w.image, { y0: 1, y1: 4, x0: 3, x1: 6 });
});

test("a frame is slices of the server's arrays: window, its padding zeros, products, output", () => {
  const r = answer();
  const f = frame(r, 5);                    // output cell (1, 2): padded rows 2..4, cols 4..6
  assert.deepEqual([f.y, f.x, f.k], [1, 2, 3]);
  assert.deepEqual(Array.from(f.window), [24, 25, 0, 34, 35, 0, 44, 45, 0]);
  assert.deepEqual(f.border, [false, false, true, false, false, true, false, false, true]);
  assert.deepEqual(Array.from(f.products), [5000, 5001, 5002, 5003, 5004, 5005, 5006, 5007, 5008]);
  assert.equal(f.value, 6);
  assert.equal(f.bias, 0.5);
  const first = frame(r, 0);
  assert.deepEqual(first.border, [true, true, true, true, false, false, true, false, false]);
  assert.equal(frame({ ...r, products: null }, 0).products, null);
});

test("the clock advances rate positions per second, wraps, and stands still when paused", () => {
  let p = { index: 0, playing: true, rate: 30, last: null };
  p = tick(p, 1000, 6);
  assert.equal(p.index, 0);
  p = tick(p, 1010, 6);                       // 10 ms at 30/s: not yet
  assert.equal(p.index, 0);
  p = tick(p, 1100, 6);                       // 100 ms: 3 positions
  assert.equal(p.index, 3);
  p = tick(p, 1200, 6);                       // 3 more: wraps to 0
  assert.equal(p.index, 0);
  const paused = tick({ ...p, playing: false }, 5000, 6);
  assert.equal(paused.index, 0);
  assert.equal(step({ index: 0, playing: true }, -1, 6).index, 5);
  assert.equal(step({ index: 5, playing: true }, 1, 6).playing, false);
  assert.equal(seek({ index: 0 }, 42, 6).index, 5);
});

test("step mode starts at the first window that reads ink, not on the blank rows above it", () => {
  // 8×8 map, no padding, 3×3 kernel, stride 1 -> 6×6 output; one ink pixel at (4, 5).
  const ink = (cells, stride = 1, padding = 0) => {
    const n = 8 + 2 * padding, out = Math.floor((n - 3) / stride) + 1;
    const padded = new Float32Array(n * n);
    for (const [y, x, v] of cells) padded[(y + padding) * n + x + padding] = v;
    return { stride, padding, padded: { shape: [n, n], values: padded }, output: { shape: [out, out], values: new Float32Array(out * out) }, kernel: { shape: [3, 3], values: new Float32Array(9), bias: 0 } };
  };
  // Windows at rows 2..4 and cols 3..5 cover (4, 5); the first in row-major order is (2, 3).
  assert.equal(firstInk(ink([[4, 5, 0.3]])), 2 * 6 + 3);
  assert.equal(firstInk(ink([[4, 5, -0.3]])), 2 * 6 + 3, "negative values are ink too");
  assert.equal(firstInk(ink([[4, 5, 0.3], [7, 0, 1]])), 2 * 6 + 3, "the earliest window wins");
  assert.equal(firstInk(ink([])), 0, "a blank map starts at 0");
  // Padding 1 moves everything one cell: padded (5, 6); stride 2: windows at padded rows 4..6.
  assert.equal(firstInk(ink([[4, 5, 1]], 2, 1)), 2 * 4 + 2);
  assert.equal(firstInk(ink([[0, 0, 1]], 1, 1)), 0, "ink in the corner: the first window reads it");
  // Cross-check against the windows frame() shows: the start reads ink, every earlier one not.
  const r = ink([[3, 6, 0.5], [6, 1, 0.2]]);
  const start = firstInk(r);
  assert.ok(frame(r, start).window.some((v) => v !== 0));
  for (let i = 0; i < start; i++) assert.ok(frame(r, i).window.every((v) => v === 0), `window ${i} is blank`);
});

test("a normalised drawing starts where its ink is; a photo at the first position, and says so", () => {
  // 6×6 map of a normalised digit: blank paper is (0 − 0.1307) / 0.3081, padding 1 adds zeros.
  const bg = (0 - 0.1307) / 0.3081, n = 8;
  const padded = new Float32Array(n * n);
  for (let y = 1; y < 7; y++) for (let x = 1; x < 7; x++) padded[y * n + x] = bg;
  padded[5 * n + 4] = 2.5;   // ink at map (4, 3)
  const r = { stride: 1, padding: 1, padded: { shape: [n, n], values: padded }, output: { shape: [6, 6], values: new Float32Array(36) }, kernel: { shape: [3, 3], values: new Float32Array(9), bias: 0 } };
  // Against 0, every window reads "ink" (the paper is not 0): the old rule started at 0.
  assert.equal(firstInk(r), 0);
  // Against the paper's own value: windows at output rows 3..5, cols 2..4 cover padded (5, 4).
  assert.equal(firstInk(r, bg), 3 * 6 + 2);
  for (let i = 0; i < 3 * 6 + 2; i++) {
    const f = frame(r, i);
    assert.ok(Array.from(f.window).every((v, j) => f.border[j] || Math.abs(v - bg) < 1e-6), `window ${i} reads paper only`);
  }
  assert.deepEqual(startOf(r, { background: bg }), { index: 20, words: "It starts at the first window that reads ink" });
  const photo = startOf(r, { picture: true, background: bg });
  assert.equal(photo.index, 0);
  assert.match(photo.words, /first position, top left/);
  assert.doesNotMatch(photo.words, /ink/);
});

test("a click on an output cell or a padded cell jumps to the position that covers it", () => {
  const r = answer();                            // 6×7 padded, 3×3 kernel, stride 2, output 2×3
  assert.equal(positionOfOutput([1, 2], r.output.shape), 5);
  assert.equal(positionOfOutput([9, -1], r.output.shape), 3, "clamped to the map");
  for (let py = 0; py < 6; py++) {
    for (let px = 0; px < 7; px++) {
      const covers = (f) => py >= f.rect.y0 && py < f.rect.y1 && px >= f.rect.x0 && px < f.rect.x1;
      const some = Array.from({ length: 6 }, (_, i) => frame(r, i)).some(covers);
      const f = frame(r, positionOfPadded([py, px], r));
      // Row 5 lies below the last window (floor((6 − 3) / 2) + 1 = 2 rows of windows): the
      // nearest one, the last row's, is taken.
      if (some) assert.ok(covers(f), `padded (${py}, ${px}) lies in the window it jumps to`);
      else assert.equal(f.y, 1, `padded (${py}, ${px}): the nearest window row`);
    }
  }
  assert.equal(positionOfPadded([1, 1], r), 0, "the centre of window 0");
  assert.equal(positionOfPadded([3, 5], r), 5, "the centre of window (1, 2)");
});
