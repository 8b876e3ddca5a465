import { test } from "node:test";
import assert from "node:assert/strict";
import { offset, unravel, sourceWindow, receptiveField, windowUnits, windowShape, windowValues, inRange } from "../../static/js/tensor.js";
import { STAGES } from "./reference_stages.mjs";

test("offset and unravel are row-major inverses", () => {
  const shape = [6, 28, 28];
  assert.equal(offset(shape, [0, 0, 0]), 0);
  assert.equal(offset(shape, [1, 2, 3]), 1 * 784 + 2 * 28 + 3);
  for (const i of [0, 1, 27, 28, 783, 784, 4703]) assert.deepEqual(offset(shape, unravel(shape, i)), i);
  assert.ok(inRange(shape, [5, 27, 27]));
  assert.ok(!inRange(shape, [6, 0, 0]));
});

test("conv window spans every input channel and the k×k patch", () => {
  assert.deepEqual(sourceWindow(STAGES, "conv2", [3, 4, 7]), { layer: "pool1", window: [[0, 6], [4, 9], [7, 12]] });
  assert.deepEqual(sourceWindow(STAGES, "conv1", [5, 27, 0]), { layer: "input", window: [[0, 1], [27, 32], [0, 5]] });
});

test("padded, strided conv windows are clipped to the source", () => {
  const stages = [{ name: "input", kind: "input", shape: [1, 8, 8] },
    { name: "c", kind: "conv", kernel: 3, stride: 2, padding: 1, shape: [2, 4, 4] }];
  assert.deepEqual(sourceWindow(stages, "c", [0, 0, 3]).window, [[0, 1], [0, 2], [5, 8]]);
});

test("pool window is the unit's own channel, window×window at stride", () => {
  assert.deepEqual(sourceWindow(STAGES, "pool1", [2, 13, 0]), { layer: "relu1", window: [[2, 3], [26, 28], [0, 2]] });
});

test("activation is element-wise, flatten unravels, dense and softmax read everything", () => {
  assert.deepEqual(sourceWindow(STAGES, "relu2", [1, 2, 3]).window, [[1, 2], [2, 3], [3, 4]]);
  assert.deepEqual(sourceWindow(STAGES, "flatten", [27]), { layer: "pool2", window: [[1, 2], [0, 1], [2, 3]] });
  assert.deepEqual(sourceWindow(STAGES, "fc1", [7]), { layer: "flatten", window: [[0, 400]] });
  assert.deepEqual(sourceWindow(STAGES, "softmax", [3]).window, [[0, 10]]);
  assert.deepEqual(sourceWindow(STAGES, "input", [0, 3, 4]), { layer: "input", window: [[0, 1], [3, 4], [4, 5]] });
  assert.throws(() => sourceWindow(STAGES, "nope", [0]), /unknown stage nope/);
});

test("receptive fields grow back to the 32×32 input", () => {
  assert.deepEqual(receptiveField(STAGES, "conv1", [0, 0, 0]), [[0, 1], [0, 5], [0, 5]]);
  assert.deepEqual(receptiveField(STAGES, "pool1", [0, 0, 0]), [[0, 1], [0, 6], [0, 6]]);
  // conv2 (0,0) reads pool1 rows 0..4 -> relu1 rows 0..9 -> input rows 0..13
  assert.deepEqual(receptiveField(STAGES, "conv2", [0, 0, 0]), [[0, 1], [0, 14], [0, 14]]);
  assert.deepEqual(receptiveField(STAGES, "pool2", [0, 4, 4]), [[0, 1], [16, 32], [16, 32]]);
  assert.deepEqual(receptiveField(STAGES, "fc2", [0]), [[0, 1], [0, 32], [0, 32]]);
});

test("windows enumerate their units and values row-major", () => {
  const w = [[0, 2], [1, 3], [0, 1]];
  assert.deepEqual(windowShape(w), [2, 2, 1]);
  assert.deepEqual(windowUnits(w), [[0, 1, 0], [0, 2, 0], [1, 1, 0], [1, 2, 0]]);
  const record = { shape: [2, 3, 1], values: Float32Array.from([0, 1, 2, 3, 4, 5]) };
  assert.deepEqual(windowValues(record, w), [1, 2, 4, 5]);
});
