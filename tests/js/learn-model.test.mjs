import { test } from "node:test";
import assert from "node:assert/strict";
import { nextSteps, maxAbs, gradientLayers, expandOuter, denseGradient, difference, kernelTiles, snapshotSlice, curvePoints, cursorX, nextSnapshot, trend, defaultTarget, learningRates, defaultRate } from "../../static/js/learn/model.js";

// limits.learn as GET /api/model serves it (tests/api/test_model.py checks it is engine.gradient's).
const LEARN = { max_steps: 20, max_learning_rate: 1 };

test("steps chain from the served model and stop at the server's bound", () => {
  assert.equal(nextSteps(0, 1, LEARN.max_steps), 1);
  assert.equal(nextSteps(3, 5, LEARN.max_steps), 8);
  assert.equal(nextSteps(18, 5, LEARN.max_steps), 20);
  assert.equal(nextSteps(8, 5, 10), 10, "a smaller served bound caps the steps there");
  assert.equal(defaultTarget({ prediction: 7 }), 7);
  assert.equal(defaultTarget(null), 0);
});

test("the learning-rate stops end at the served largest rate", () => {
  const rates = learningRates(LEARN);
  assert.deepEqual(rates, [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1]);
  assert.equal(defaultRate(rates), 0.01);
  const low = learningRates({ ...LEARN, max_learning_rate: 0.005 });
  assert.deepEqual(low, [0.001, 0.002, 0.005], "a lower bound removes the larger stops");
  assert.equal(defaultRate(low), 0.005);
  assert.deepEqual(learningRates({ ...LEARN, max_learning_rate: 5 }).slice(-2), [2, 5], "a higher one adds stops");
  assert.deepEqual(learningRates(undefined), [], "no stops before the model arrives");
  assert.equal(defaultRate([]), null);
});

test("maxAbs is the largest magnitude, either sign", () => {
  assert.equal(maxAbs(Float32Array.from([0.5, -2, 1])), 2);
  assert.equal(maxAbs(new Float32Array(4)), 0);
});

test("gradient layers carry the model's kind and params with the gradient as values", () => {
  const stages = [{ name: "input", kind: "input", shape: [1, 2, 2] }, { name: "fc", kind: "dense", shape: [3], units: 3 }];
  const grads = [{ name: "input", shape: [1, 2, 2], values: new Float32Array(4) }, { name: "fc", shape: [3], values: Float32Array.from([1, 2, 3]) }];
  const layers = gradientLayers(grads, stages);
  assert.deepEqual(layers.map((l) => [l.name, l.kind]), [["input", "input"], ["fc", "dense"]]);
  assert.equal(layers[1].units, 3);
  assert.deepEqual(Array.from(layers[1].values), [1, 2, 3]);
  assert.throws(() => gradientLayers([{ name: "nope", shape: [1], values: [] }], stages), /unknown stage nope/);
});

test("outer factors expand to the row-major weight gradient, as a naive double loop", () => {
  const rows = Float32Array.from([1, -2, 0.5]);
  const cols = Float32Array.from([3, 0, -1, 2]);
  const w = expandOuter(rows, cols);
  assert.equal(w.length, 12);
  for (let i = 0; i < 3; i++) for (let j = 0; j < 4; j++) assert.equal(w[i * 4 + j], Math.fround(rows[i] * cols[j]));
  assert.deepEqual(denseGradient({ outer: { rows, cols } }), w);
  const full = Float32Array.from([9]);
  assert.equal(denseGradient({ weight: full }), full);
});

test("kernel tiles slice [F, C, k, k] in (f, c) order without copying", () => {
  const shape = [2, 3, 2, 2];
  const values = Float32Array.from({ length: 24 }, (_, i) => i);
  const tiles = kernelTiles(values, shape);
  assert.equal(tiles.length, 6);
  assert.deepEqual([tiles[4].f, tiles[4].c], [1, 1]);
  assert.deepEqual(Array.from(tiles[4].values), [16, 17, 18, 19]);
  assert.equal(tiles[4].values.buffer, values.buffer);
});

test("snapshot k of a stacked array and the after − before difference", () => {
  const stacked = Float32Array.from({ length: 3 * 4 }, (_, i) => i);
  assert.deepEqual(Array.from(snapshotSlice(stacked, [3, 2, 2], 2)), [8, 9, 10, 11]);
  assert.deepEqual(Array.from(difference(Float32Array.from([3, 1]), Float32Array.from([1, 2]))), [2, -1]);
});

test("curve points map the range onto the box, y upwards; the cursor clamps to the box", () => {
  const box = { x: 10, y: 20, w: 100, h: 50 };
  const pts = curvePoints([0, 5, 10], [1, 2, 3], box);
  assert.deepEqual(pts, [[10, 70], [60, 45], [110, 20]]);
  assert.equal(cursorX(5, box, 0, 10), 60);
  assert.equal(cursorX(99, box, 0, 10), 110);
  assert.equal(cursorX(-1, box, 0, 10), 10);
});

test("play wraps at the end; trend reads a step history", () => {
  assert.equal(nextSnapshot(3, 4), 0);
  assert.equal(nextSnapshot(1, 4), 2);
  const h = [{ probability: 0.1, total_error: 0.8 }, { probability: 0.3, total_error: 0.5 }, { probability: 0.6, total_error: 0.2 }];
  assert.deepEqual([trend(h).rising, trend(h).falling], [true, true]);
  h.push({ probability: 0.5, total_error: 0.3 });
  assert.deepEqual([trend(h).rising, trend(h).falling], [false, false]);
});

test("epoch axis is cube-root (the snapshots' spacing), ticks end at the last epoch", async () => {
  const { epochAxis, epochTicks } = await import("../../static/js/learn/model.js");
  assert.equal(epochAxis(8), 2);
  assert.equal(epochAxis(-1), 0);
  assert.deepEqual(epochTicks(60).map((t) => t.label), ["0", "0.1", "1", "10", "60"]);
  assert.deepEqual(epochTicks(3).map((t) => t.label), ["0", "0.1", "1", "3"]);
  assert.ok(Math.abs(epochTicks(60)[4].at - Math.cbrt(60)) < 1e-12);
});

test("loss figures: 4 decimals, e-notation with a real minus below 0.001", async () => {
  const { figure } = await import("../../static/js/learn/model.js");
  assert.equal(figure(0.34471), "0.3447");
  assert.equal(figure(0), "0.0000");
  assert.equal(figure(1.234e-6), "1.23e\u22126");
  assert.equal(Number(figure(1.234e-6).replace("\u2212", "-")), 1.23e-6);
});

test("kernels as a grid: filters in columns, input channels in rows, labelled", async () => {
  const { filterGrid, channelNames } = await import("../../static/js/learn/model.js");
  const shape = [2, 3, 1, 1];                         // 2 filters × 3 channels of 1×1
  const values = Float32Array.from([0, 1, 2, 10, 11, 12]);   // w[f, c] = 10 f + c
  const g = filterGrid(values, shape, ["R", "G", "B"]);
  assert.equal(g.rows, 3);
  assert.equal(g.cols, 2);
  assert.deepEqual(g.rowLabels, ["R", "G", "B"]);
  assert.deepEqual(g.colLabels, ["0", "1"]);
  for (const t of g.tiles) assert.equal(t.values[0], 10 * t.col + t.row, `tile at row ${t.row}, col ${t.col}`);
  assert.deepEqual(filterGrid(values, shape).rowLabels, ["0", "1", "2"], "unnamed maps are numbered");
  const one = filterGrid(Float32Array.from([1, 2, 3]), [3, 1, 1, 1]);
  assert.equal(one.rows, 1);
  assert.equal(one.rowLabels, null, "one channel: a single row of filters, no row labels");
  const rgb = [{ name: "in", kind: "input", shape: [3, 64, 64] }, { name: "c1", kind: "conv", in_channels: 3 }, { name: "c2", kind: "conv", in_channels: 10 }];
  assert.deepEqual(channelNames(rgb, "c1"), ["R", "G", "B"]);
  assert.equal(channelNames(rgb, "c2"), null, "a later conv reads maps, not colours");
  assert.equal(channelNames([{ name: "in", kind: "input", shape: [1, 32, 32] }, { name: "conv1", kind: "conv", in_channels: 1 }], "conv1"), null);
});
