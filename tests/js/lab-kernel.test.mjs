import { test } from "node:test";
import assert from "node:assert/strict";
import { encodeInput, short, resize, rows, parseCell, kernelFields, convolveBody, choiceKey, parseChoiceKey, learnedChoices, learnedLayers, fitLearned, labChoices } from "../../static/js/lab/kernel.js";
import { STAGES } from "./reference_stages.mjs";

// limits.lab as GET /api/model serves it (tests/api/test_model.py checks it is engine.lab's).
const LAB = { kernel_sizes: [1, 3, 5, 7], strides: [1, 2, 3], paddings: [0, 1, 2, 3], pool_ops: ["max", "avg", "sum"],
  pool_windows: [1, 2, 3, 4], activations: ["relu", "tanh", "sigmoid", "none"], max_abs_weight: 1000 };

test("resizing a grid keeps it centred: 3×3 -> 5×5 adds a zero rim, and back", () => {
  const k3 = [1, 2, 3, 4, 5, 6, 7, 8, 9];
  const k5 = resize(k3, 3, 5);
  assert.equal(k5.length, 25);
  assert.deepEqual(rows(k5, 5)[2], [0, 4, 5, 6, 0]);
  assert.deepEqual(rows(k5, 5)[0], [0, 0, 0, 0, 0]);
  assert.deepEqual(resize(k5, 5, 3), k3);
  assert.deepEqual(resize(k3, 3, 1), [5]);
  assert.deepEqual(resize([7], 1, 3), [0, 0, 0, 0, 7, 0, 0, 0, 0]);
});

test("the controls' choices are the served limits, labelled", () => {
  const c = labChoices(LAB);
  assert.deepEqual(c.size.map((o) => o.value), ["1", "3", "5", "7"]);
  assert.equal(c.size[1].label, "3×3");
  assert.deepEqual(c.stride.map((o) => o.value), ["1", "2", "3"]);
  assert.deepEqual(c.padding.map((o) => o.value), ["0", "1", "2", "3"]);
  assert.deepEqual(c.activation.map((o) => [o.value, o.label]), [["relu", "ReLU"], ["tanh", "tanh"], ["sigmoid", "sigmoid"], ["none", "none"]]);
  assert.deepEqual(c.poolOp.map((o) => o.value), ["max", "avg", "sum"]);
  assert.deepEqual(c.poolWindow.map((o) => o.label), ["1×1", "2×2", "3×3", "4×4"]);
  const changed = labChoices({ ...LAB, kernel_sizes: [3, 5, 9], strides: [1], activations: ["relu", "elu"] });
  assert.deepEqual(changed.size.map((o) => o.value), ["3", "5", "9"], "a changed limit changes the choices");
  assert.deepEqual(changed.stride.map((o) => o.value), ["1"]);
  assert.deepEqual(changed.activation.map((o) => o.label), ["ReLU", "elu"], "an unknown activation keeps its own name");
  assert.deepEqual(labChoices(undefined).size, [], "no choices before the model arrives");
});

test("typed cells: decimals, a real minus, fractions; nonsense is refused with a hint", () => {
  assert.deepEqual(parseCell("0.5"), { ok: true, value: 0.5 });
  assert.deepEqual(parseCell("\u22121"), { ok: true, value: -1 });
  assert.deepEqual(parseCell(" 1/9 "), { ok: true, value: 1 / 9 });
  assert.deepEqual(parseCell(""), { ok: true, value: 0 });
  assert.equal(parseCell("-.25").value, -0.25);
  assert.equal(parseCell("1e2").value, 100);
  for (const bad of ["abc", "1/0", "2e5", "1..2", "NaN", "Infinity"]) assert.equal(parseCell(bad, LAB.max_abs_weight).ok, false, bad);
  assert.equal(parseCell("1000", LAB.max_abs_weight).ok, true);
  assert.match(parseCell("1001", LAB.max_abs_weight).error, /outside −1000\.\.1000/);
  assert.equal(parseCell("1001", 5000).ok, true, "the bound is the served one");
  assert.match(parseCell("abc").error, /not a number/);
});

test("each kind of kernel choice becomes its body fields and round-trips through the select value", () => {
  assert.deepEqual(kernelFields({ type: "classic", name: "edge_all" }), { kernel_name: "edge_all" });
  assert.deepEqual(kernelFields({ type: "learned", layer: "conv1", filter: 3 }), { learned: { layer: "conv1", filter: 3 } });
  assert.deepEqual(kernelFields({ type: "custom", k: 3, values: [0, 1, 0, 1, -4, 1, 0, 1, 0] }), { kernel: [[0, 1, 0], [1, -4, 1], [0, 1, 0]] });
  assert.deepEqual(kernelFields({ type: "learned", layer: "conv1", filter: 4, channel: 2 }), { learned: { layer: "conv1", filter: 4, channel: 2 } });
  assert.deepEqual(kernelFields({ type: "learned", layer: "conv1", filter: 4, channel: 0 }), { learned: { layer: "conv1", filter: 4, channel: 0 } }, "channel 0 is sent, not dropped");
  for (const c of [{ type: "classic", name: "sharpen" }, { type: "learned", layer: "conv1", filter: 5 }, { type: "learned", layer: "conv1", filter: 4, channel: 2 }]) {
    assert.deepEqual(parseChoiceKey(choiceKey(c)), c);
  }
  assert.equal(choiceKey({ type: "learned", layer: "conv1", filter: 4, channel: 2 }), "learned:conv1:4:2");
  assert.equal(choiceKey({ type: "learned", layer: "conv1", filter: 5 }), "learned:conv1:5", "a one-map filter's key is as before");
  const custom = { k: 3, values: [1, 1, 1, 1, 1, 1, 1, 1, 1] };
  assert.deepEqual(parseChoiceKey("custom", custom), { type: "custom", ...custom });
});

test("learned choices come from the model record: conv stages that read one map", () => {
  const c = learnedChoices({ layers: STAGES });
  assert.equal(c.length, 6);
  assert.deepEqual(c[5], { type: "learned", layer: "conv1", filter: 5, label: "conv1 filter 5" });
  assert.deepEqual(learnedChoices(null), []);
});

// Tiny VGG as /api/model describes it (tests/import_nets.py): conv1 reads the 3 RGB channels.
const TINY = {
  limits: { lab: LAB },
  layers: [
    { name: "input", kind: "input", shape: [3, 64, 64] },
    { name: "conv1", kind: "conv", filters: 10, kernel: 3, stride: 1, padding: 0, in_channels: 3, shape: [10, 62, 62] },
    { name: "relu1", kind: "activation", function: "relu", shape: [10, 62, 62] },
    { name: "conv2", kind: "conv", filters: 10, kernel: 3, stride: 1, padding: 0, in_channels: 10, shape: [10, 60, 60] },
  ],
};

test("a conv reading several channels offers each filter's slice for the map's channel", () => {
  assert.deepEqual(learnedLayers(TINY).map((l) => l.name), ["conv1"], "conv2 reads conv1's maps, not the input");
  const blue = learnedChoices(TINY, 2);
  assert.equal(blue.length, 10);
  assert.deepEqual(blue[4], { type: "learned", layer: "conv1", filter: 4, channel: 2, label: "conv1 filter 4 · blue channel" });
  assert.equal(learnedChoices(TINY, 0)[4].label, "conv1 filter 4 · red channel");
  const four = { ...TINY, layers: TINY.layers.map((l, i) => (i === 0 ? { ...l, shape: [4, 64, 64] } : i === 1 ? { ...l, in_channels: 4 } : l)) };
  assert.equal(learnedChoices(four, 3)[0].label, "conv1 filter 0 · channel 3", "colours only for exactly 3 channels");
});

test("learned filters of a size the Lab cannot take are not offered", () => {
  const wide = { limits: { lab: LAB }, layers: [STAGES[0], { ...STAGES[1], kernel: 4 }, ...STAGES.slice(2)] };
  assert.deepEqual(learnedChoices(wide), [], "a 4×4 conv1: the Lab's kernels are 1, 3, 5 or 7");
  assert.equal(learnedChoices({ ...wide, limits: { lab: { ...LAB, kernel_sizes: [4] } } }).length, 6, "the bound is the served one");
});

test("a learned choice follows the map's channel, or is gone on a model without it", () => {
  assert.deepEqual(fitLearned({ type: "learned", layer: "conv1", filter: 4, channel: 0 }, TINY, 2), { type: "learned", layer: "conv1", filter: 4, channel: 2 });
  assert.deepEqual(fitLearned({ type: "learned", layer: "conv1", filter: 4 }, TINY, 1), { type: "learned", layer: "conv1", filter: 4, channel: 1 }, "a LeNet link's conv1 filter on an RGB model");
  assert.deepEqual(fitLearned({ type: "learned", layer: "conv1", filter: 4, channel: 2 }, { layers: STAGES }, 0), { type: "learned", layer: "conv1", filter: 4 }, "a one-map filter has no channel");
  assert.equal(fitLearned({ type: "learned", layer: "conv1", filter: 6 }, { layers: STAGES }), null, "LeNet's conv1 has 6 filters");
  assert.equal(fitLearned({ type: "learned", layer: "conv2", filter: 0 }, TINY, 0), null);
  assert.equal(fitLearned({ type: "learned", layer: "conv1", filter: NaN }, TINY, 0), null);
});

test("the body carries the map as the page holds it, and the controls", () => {
  const values = new Float32Array(1024).fill(64 / 255);   // the network input is k/255
  const b = convolveBody({ values, shape: [32, 32] }, { type: "classic", name: "edge_all" }, { stride: 2, padding: 1, pool: { op: "sum", window: 3 }, products: true });
  assert.deepEqual(Object.keys(b).sort(), ["activation", "input", "kernel_name", "padding", "pool", "products", "stride"]);
  assert.equal(b.activation, "relu", "ReLU unless the student picks another");
  assert.equal(b.input.pixels.length, 1024);
  assert.equal(b.input.pixels[0], 64);
  assert.deepEqual(b.pool, { op: "sum", window: 3 });
  assert.equal(b.stride, 2);
  const t = convolveBody({ values, shape: [32, 32] }, { type: "classic", name: "edge_all" }, { activation: "tanh" });
  assert.equal(t.activation, "tanh");
});

test("grid values read like the textbook kernel and parse back", () => {
  assert.deepEqual([-1, 8, 1 / 9, 0.0625, -0.0001, 0].map(short), ["\u22121", "8", "0.111", "0.063", "0", "0"]);
  for (const v of [-1, 8, 0.111, 2.5]) assert.equal(parseCell(short(v)).value, v);
});

test("a quantised map goes as exact bytes, anything else as values", () => {
  const bytes = Float32Array.from([0, 1, 128 / 255, 37 * Math.fround(1 / 255)].map(Math.fround));
  assert.deepEqual(encodeInput(bytes, [2, 2]), { pixels: [0, 255, 128, 37], shape: [2, 2] });
  const odd = Float32Array.from([0, 0.5, 1, 0.25]);
  assert.deepEqual(encodeInput(odd, [2, 2]), { values: [0, 0.5, 1, 0.25], shape: [2, 2] });
});
