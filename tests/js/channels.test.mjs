// The input's channels: named by colour for a photo, drawn on their own declared range, and
// the same in 2D (fillStage) and 3D (paintUnits).
import test from "node:test";
import assert from "node:assert/strict";
import { colourNames, mapName, mapTag, channelRanges, rangeText, pixelWords } from "../../static/js/channels.js";
import { scaleForInput, fillStage, sequential } from "../../static/js/color.js";
import { layout3D } from "../../static/js/3d/layout3d.js";
import { paintUnits } from "../../static/js/3d/paint3d.js";
import { layoutNetwork, displayColumns } from "../../static/js/layout.js";

// Tiny VGG's declaration (/api/model `input`), LeNet-5's and a 3-map input that is not a photo.
const PHOTO = { model: { input: { preprocess: "resize", channels: 3, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], shape: [3, 64, 64] } } };
const DIGIT = { model: { input: { preprocess: "mnist", channels: 1, mean: [0], std: [1], shape: [1, 28, 28] } } };
const MAPS3 = { model: { input: { preprocess: "none", channels: 3, mean: [0, 0, 0], std: [1, 1, 1], shape: [3, 8, 8] } } };

test("a photo's channels are red, green, blue; anything else keeps map c", () => {
  assert.deepEqual(colourNames(PHOTO.model), ["red", "green", "blue"]);
  assert.equal(mapName(PHOTO.model, 0), "red channel (map 0)");
  assert.equal(mapName(PHOTO.model, 2), "blue channel (map 2)");
  assert.equal(mapTag(PHOTO.model, 1), "green");
  assert.equal(colourNames(DIGIT.model), null);
  assert.equal(mapName(DIGIT.model, 0), "map 0");
  assert.equal(mapName(MAPS3.model, 2), "map 2", "three maps but not a photo");
  assert.equal(mapTag(null, 4), "4");
});

test("each channel's range is (0 − mean) / std … (1 − mean) / std; none when not normalised", () => {
  const r = channelRanges(PHOTO.model.input, 3);
  assert.ok(Math.abs(r[0][0] - -0.485 / 0.229) < 1e-12 && Math.abs(r[2][1] - (1 - 0.406) / 0.225) < 1e-12);
  assert.equal(rangeText(r), "-2.1 … 2.6");
  assert.equal(channelRanges(DIGIT.model.input, 1), null);
  assert.equal(channelRanges(MAPS3.model.input, 3), null);
  // A normalised one-channel digit (MNIST's 0.1307 / 0.3081) has a range too.
  assert.equal(channelRanges({ mean: [0.1307], std: [0.3081] }, 1).length, 1);
});

test("an input pixel in words: its channel, the model's size, its value before normalising", () => {
  const v = (0.8 - 0.485) / 0.229;
  const w = pixelWords(PHOTO.model, [3, 64, 64], [0, 5, 6], v);
  assert.equal(w, "A pixel of red channel (map 0) of the 64×64 input, normalised: (x − 0.485) / 0.229 with x = 0.8 of full red.");
  assert.equal(pixelWords(DIGIT.model, [1, 28, 28], [0, 3, 3], 0.5), "A pixel of the preprocessed 28×28 input: 0 is paper, 1 is full ink.");
});

test("a normalised input is painted per channel on its own range (black = none, white = full)", () => {
  const H = 2, W = 2, n = H * W, { mean, std } = PHOTO.model.input;
  // Channel c holds the pixel bytes 0, 85, 170, 255 normalised by its own mean and std.
  const values = Float32Array.from({ length: 3 * n }, (_, i) => ((i % n) / 3 - mean[Math.floor(i / n)]) / std[Math.floor(i / n)]);
  const scale = scaleForInput(PHOTO.model.input, 3, -2.2, 2.7);
  assert.equal(scale.channels.length, 3);
  const data = new Uint8ClampedArray(3 * n * 4);
  fillStage(data, values, scale);
  for (let c = 0; c < 3; c++) {
    for (let i = 0; i < n; i++) {
      const want = Math.round((i / 3) * 255);
      assert.ok(Math.abs(data[(c * n + i) * 4] - want) <= 1, `channel ${c} pixel ${i}: ${data[(c * n + i) * 4]} vs ${want}`);
    }
  }
  // The same bytes in 3D.
  const layers = [{ name: "input", kind: "input", shape: [3, H, W], values }, { name: "fc", kind: "dense", shape: [2], values: new Float32Array(2) }];
  const trace = { layers, byName: new Map(layers.map((l) => [l.name, l])) };
  const layout = layout3D(layers);
  const { colors, scales } = paintUnits(layout, trace, undefined, PHOTO.model.input);
  const plane = layout.planes.find((p) => p.name === "input");
  for (let k = 0; k < 3 * n; k++) assert.ok(Math.abs(colors[(plane.start + k) * 4] - data[k * 4]) <= 1, `3D unit ${k}`);
  assert.ok(scales.get("input").scale.channels, "the 3D label learns the per-channel ranges");
  // Not normalised: one [0, 1] scale, as before.
  const plain = scaleForInput(DIGIT.model.input, 1, 0, 1);
  assert.equal(plain.channels, undefined);
  assert.deepEqual(plain.domain, sequential(0, 1).domain);
});

test("a model ending on a dense stage (no softmax) keeps room for its last column's labels", () => {
  const stages = [
    { name: "input", kind: "input", shape: [1, 28, 28] },
    { name: "c", kind: "conv", shape: [4, 14, 14] },
    { name: "flatten", kind: "flatten", shape: [784] },
    { name: "fc2", kind: "dense", shape: [10] },
  ];
  const font = 11;
  const out = layoutNetwork(displayColumns(stages, true), { width: 600, height: 300, font });
  const last = out.columns.at(-1);
  assert.ok(last.x + last.w / 2 + font <= out.width, `fc2's centre ${last.x + last.w / 2} leaves no room in ${out.width}`);
});
