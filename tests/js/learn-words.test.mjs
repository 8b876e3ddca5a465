import { test } from "node:test";
import assert from "node:assert/strict";
import { learnWords, noHistory, kernelTitle, NO_SEEDS } from "../../static/js/learn/words.js";

const digit = { input: { channels: 1, subject: "digit", prompt: "Draw a digit here" }, history: true, imported: null };
const photo = { input: { channels: 3, subject: "image", prompt: "Pick, drop or paste an image" }, history: false, imported: { source: "onnx", file: "tinyvgg.onnx" } };

test("the words are the model's own: its prompt, and an image for a colour model", () => {
  assert.deepEqual(learnWords(digit), { noun: "drawing", title: "One step of backpropagation on your drawing", prompt: "Draw a digit on the pad", caption: "your drawing", inputLabel: "Your drawing as the network sees it" });
  const w = learnWords(photo);
  assert.equal(w.caption, "your image");
  assert.equal(w.prompt, "Pick, drop or paste an image on the pad");
  assert.equal(learnWords({ input: { channels: 1, prompt: "Draw a piece of clothing" } }).prompt, "Draw a piece of clothing on the pad");
});

test("no history: why, in one sentence, only when the server says there is none", () => {
  assert.equal(noHistory(digit), null);
  assert.equal(noHistory({}), null, "a server that does not say: ask it");
  assert.match(noHistory(photo), /^This model was imported/);
  assert.match(noHistory({ ...digit, history: false }), /^No training run was recorded .*convscope train/);
  assert.match(NO_SEEDS, /^Only one training run/);
});

test("kernel titles name filters (columns) and channels (rows) from the record", () => {
  assert.equal(kernelTitle("conv1", 6, 1), "conv1's 6 filters");
  assert.equal(kernelTitle("conv1", 10, 3, ["R", "G", "B"]), "conv1's 10 filters (columns) × 3 colour channels R, G, B (rows)");
  assert.equal(kernelTitle("c2", 16, 6), "c2's 16 filters (columns) × 6 input maps (rows)");
});
