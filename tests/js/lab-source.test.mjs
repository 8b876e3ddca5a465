import { test } from "node:test";
import assert from "node:assert/strict";
import { labSources, findSource, sourceMap, inputRange, colourWords, channelName } from "../../static/js/lab/source.js";
import { fitSettings, labSettings, fromSettings } from "../../static/js/lab/settings.js";
import { STAGES } from "./reference_stages.mjs";

// Models as GET /api/model describes them: the shipped LeNet (32×32, pad 2), the imported
// LeNet-5 (28×28) and Tiny VGG (3×64×64, ImageNet's mean/std) of tests/import_nets.py.
const MNIST = { mean: [0], std: [1], subject: "digit", channels: 1 };
const SHIPPED = { layers: STAGES, input: { ...MNIST, shape: [1, 32, 32] } };
const LENET5 = {
  layers: [{ name: "input", kind: "input", shape: [1, 28, 28] }, { name: "conv1", kind: "conv", filters: 6, kernel: 5, stride: 1, padding: 2, in_channels: 1, shape: [6, 28, 28] }],
  input: { ...MNIST, shape: [1, 28, 28] },
};
const TINY = {
  layers: [{ name: "input", kind: "input", shape: [3, 64, 64] }, { name: "conv1", kind: "conv", filters: 10, kernel: 3, stride: 1, padding: 0, in_channels: 3, shape: [10, 62, 62] }],
  input: { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], subject: "image", channels: 3, shape: [3, 64, 64] },
};

function trace([C, H, W], centred = null) {
  const input = { name: "input", kind: "input", shape: [C, H, W], values: Float32Array.from({ length: C * H * W }, (_, i) => i) };
  const steps = centred ? [{ name: "fitted", shape: [20, 20], values: new Float32Array(400) }, { name: "centred", shape: centred, values: new Float32Array(centred[0] * centred[1]).fill(0.5) }] : null;
  return { layers: [input], byName: new Map([["input", input]]), preprocessing: steps ? { steps } : undefined };
}

test("the Map choices are the model's own: its input's size and the centred step it made", () => {
  assert.deepEqual(labSources(SHIPPED, trace([1, 32, 32], [28, 28])).map((s) => [s.value, s.label]),
    [["input", "network input (32×32)"], ["centred", "centred digit (28×28)"]]);
  assert.deepEqual(labSources(LENET5, trace([1, 28, 28], [28, 28])).map((s) => s.label),
    ["network input (28×28)", "centred digit (28×28)"], "LeNet-5 reads 28×28: no 32 anywhere");
  assert.deepEqual(labSources(LENET5, trace([1, 28, 28])).map((s) => s.value), ["input"], "no centred step, no centred choice");
  assert.deepEqual(labSources(TINY, trace([3, 64, 64])).map((s) => [s.value, s.label]), [
    ["input:0", "input channel 0 · red (64×64)"], ["input:1", "input channel 1 · green (64×64)"], ["input:2", "input channel 2 · blue (64×64)"]]);
  assert.deepEqual(labSources(TINY, null).map((s) => s.value), ["input:0", "input:1", "input:2"], "from the model record before any trace");
  const four = { layers: [{ name: "input", kind: "input", shape: [4, 16, 16] }] };
  assert.deepEqual(labSources(four, null).map((s) => s.label)[3], "input channel 3 (16×16)");
  assert.equal(channelName(3, 4), "channel 3");
  assert.deepEqual(labSources(null, null), []);
});

test("a channel's map is its own H×W slice of the input, never all of it", () => {
  const t = trace([3, 64, 64]);
  const [, , blue] = labSources(TINY, t);
  const m = sourceMap(t, blue);
  assert.deepEqual(m.shape, [64, 64]);
  assert.equal(m.values.length, 4096, "H × W = 4096 numbers, what /api/convolve takes");
  assert.equal(m.values[0], 2 * 4096);
  assert.equal(m.values[4095], 3 * 4096 - 1);
  assert.equal(sourceMap(trace([1, 32, 32]), blue), null, "another model's trace (mid-switch) gives no map");
  const s = trace([1, 32, 32], [28, 28]);
  const [input, centred] = labSources(SHIPPED, s);
  assert.equal(sourceMap(s, input).values.length, 1024);
  assert.deepEqual(sourceMap(s, centred).shape, [28, 28]);
  assert.equal(sourceMap(s, centred).values[0], 0.5);
});

test("a link's map: the old values keep working, an RGB model's channels are input:c", () => {
  const tiny = labSources(TINY, trace([3, 64, 64])), shipped = labSources(SHIPPED, trace([1, 32, 32], [28, 28]));
  assert.equal(findSource(tiny, "input:2").channel, 2);
  assert.equal(findSource(tiny, "input").value, "input:0", "a link made on LeNet opens on channel 0");
  assert.equal(findSource(shipped, "input:0").value, "input");
  assert.equal(findSource(shipped, "centred").value, "centred");
  assert.equal(findSource(shipped, "input:2"), null);
  assert.equal(findSource(tiny, "centred"), null);
  assert.equal(findSource(tiny, "input:3"), null);
});

test("a normalised channel spans its own range and the hint says what its colours mean", () => {
  const [red] = labSources(TINY, null), [plain] = labSources(SHIPPED, null);
  const r = inputRange(TINY, red);
  assert.ok(r.normalised);
  assert.ok(Math.abs(r.lo - -0.485 / 0.229) < 1e-12 && Math.abs(r.hi - 0.515 / 0.229) < 1e-12);
  assert.equal(inputRange(SHIPPED, plain).normalised, false);
  assert.deepEqual([inputRange(SHIPPED, plain).lo, inputRange(SHIPPED, plain).hi], [0, 1]);
  assert.equal(colourWords(SHIPPED, plain), "Colours: the input runs black (0) to white (1); the other maps are blue below 0, white at 0, orange above 0.");
  const words = colourWords(TINY, red);
  assert.ok(!words.includes("black (0)"), words);
  assert.ok(words.includes("(x − 0.485) / 0.229"), words);
  assert.ok(words.includes("from −2.12 (black: no red) to 2.25 (white: full red)"), words);
  assert.ok(words.includes("and 0, which padding adds, is the mean red 0.485, a grey; the other maps"), words);
});

const LAB = { kernel: "classic:edge_all", stride: 1, padding: 0, activation: "relu", pool: "max", window: 2 };

test("a link's Lab is fitted to the model on screen, or dropped with a note", () => {
  const tiny = trace([3, 64, 64]), shipped = trace([1, 32, 32], [28, 28]);
  assert.deepEqual(fitSettings({ ...LAB, source: "input:2" }, TINY, tiny), { lab: { ...LAB, source: "input:2" } });
  assert.deepEqual(fitSettings({ ...LAB, source: "input" }, TINY, tiny).lab.source, "input:0");
  assert.deepEqual(fitSettings({ ...LAB, kernel: "learned:conv1:4", source: "input:1" }, TINY, tiny).lab.kernel, "learned:conv1:4:1",
    "a learned filter is the slice of the map's channel");
  assert.deepEqual(fitSettings({ ...LAB, kernel: "learned:conv1:4:0", source: "input:2" }, TINY, tiny).lab.kernel, "learned:conv1:4:2");
  assert.deepEqual(fitSettings({ ...LAB, kernel: "learned:conv1:5:0", source: "input" }, SHIPPED, shipped).lab.kernel, "learned:conv1:5");
  assert.match(fitSettings({ ...LAB, source: "input:2" }, SHIPPED, shipped).note, /no Lab map input:2 in this model \(it has input, centred\)/);
  assert.match(fitSettings({ ...LAB, source: "centred" }, TINY, tiny).note, /no Lab map centred .*input:0, input:1, input:2/);
  assert.match(fitSettings({ ...LAB, kernel: "learned:conv1:9", source: "input" }, SHIPPED, shipped).note, /no conv1 filter 9 in this model \(it has 0..5\)/);
  assert.match(fitSettings({ ...LAB, kernel: "learned:conv2:0", source: "input" }, SHIPPED, shipped).note, /no learned conv2 filters .*it has conv1/);
});

test("the Lab's own settings carry the channel both ways", () => {
  const choice = { type: "learned", layer: "conv1", filter: 4, channel: 2 };
  const controls = { stride: 1, padding: 0, activation: "relu", pool: { op: "max", window: 2 } };
  const s = labSettings(choice, null, controls, "input:2");
  assert.equal(s.kernel, "learned:conv1:4:2");
  assert.deepEqual(fromSettings(s).choice, choice);
  assert.equal(fromSettings(s).source, "input:2");
});
