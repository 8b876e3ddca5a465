import { test } from "node:test";
import assert from "node:assert/strict";
import { fixed, parseShown, shownSum, rounding, convTerms, denseTerms, softmaxTerms, checkSum, argmaxAbs, MINUS } from "../../static/js/numbers.js";

test("fixed uses a real minus and never shows -0.000", () => {
  assert.equal(fixed(-1.25, 2), `${MINUS}1.25`);
  assert.equal(fixed(-0.0001, 3), "0.000");
  assert.equal(fixed(2, 3), "2.000");
  assert.equal(parseShown(fixed(-3.5, 1)), -3.5);
});

test("shown sums are exact in decimal and rounding says when the shown terms miss the total", () => {
  assert.equal(shownSum([0.1234, 0.2226], 3), 0.346);
  assert.equal(shownSum([0.1, 0.2], 1), 0.3, "no binary noise: 0.1 + 0.2 shown as 0.3");
  assert.equal(rounding([0.1234, 0.2226], 0.346, 3), null);
  // Three terms of 0.0004 each show as 0.000 but add to 0.0012, shown 0.001: say so.
  assert.deepEqual(rounding([0.0004, 0.0004, 0.0004], 0.0012, 3), { shown: 0, exact: 0.0012 });
});

const conv = {
  layer: "conv2", unit: [0, 0, 0], value: 5.5, bias: 0.5, sum: 5.5,
  source: { layer: "pool1", window: [[0, 2], [0, 2], [0, 2]], shape: [2, 2, 2], values: Float32Array.from([1, 2, 3, 4, 1, 1, 1, 1]) },
  weight: [1, 0, 0, 1, 0.25, 0.25, 0.25, 0.25],
};

test("conv terms regroup the engine's sum per input channel", () => {
  const t = convTerms(conv);
  assert.equal(t.channels.length, 2);
  assert.deepEqual(t.channels[0].products, [1, 0, 0, 4]);
  assert.equal(t.channels[0].subtotal, 5);
  assert.equal(t.channels[1].subtotal, 1);
  assert.equal(t.sum, 6.5);
  assert.ok(!checkSum(t.sum, conv.sum), "a wrong engine sum is caught");
  assert.ok(checkSum(t.total + t.bias, 6.5));
  assert.equal(argmaxAbs(t.channels.map((c) => c.subtotal)), 0);
});

test("conv terms follow a connection table: unread maps are not terms", () => {
  const t = convTerms({ ...conv, channels: [1] });
  assert.deepEqual(t.channels.map((c) => c.c), [1]);
  assert.equal(t.of, 2);
  assert.equal(t.total, 1);
});

test("dense: the strongest terms plus one honest rest make the engine's sum", () => {
  const e = { value: 3, bias: 0.5, sum: 3, source: { values: new Float32Array(5) },
    top: [{ index: 2, input: 2, weight: 1, product: 2 }, { index: 0, input: 1, weight: 0.25, product: 0.25 }] };
  const t = denseTerms(e);
  assert.equal(t.restCount, 3);
  assert.equal(t.rest, 0.25);
  assert.equal(t.top.reduce((a, x) => a + x.product, 0) + t.rest + t.bias, e.sum);
});

test("softmax terms reproduce the probability from the logits", () => {
  const logits = [1, 2, 3];
  const p = Math.exp(0) / (Math.exp(-2) + Math.exp(-1) + 1);
  const t = softmaxTerms({ unit: [2], logits, value: p });
  assert.equal(t.max, 3);
  assert.ok(Math.abs(t.p - p) < 1e-12);
  assert.ok(Math.abs(t.total - (Math.exp(-2) + Math.exp(-1) + 1)) < 1e-12);
});
