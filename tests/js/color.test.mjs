import { test } from "node:test";
import assert from "node:assert/strict";
import { diverging, sequential, lut, lutIndex, fillRGBA, niceCeil, scaleForStage, legendTicks, NEGATIVE, ZERO, POSITIVE, LUT_SIZE } from "../../static/js/color.js";

test("diverging scale: blue at -max, near-white at 0, orange at +max, clamped beyond", () => {
  const s = diverging(2);
  assert.deepEqual(s.domain, [-2, 2]);
  assert.deepEqual(s.color(-2), NEGATIVE);
  assert.deepEqual(s.color(0), ZERO);
  assert.deepEqual(s.color(2), POSITIVE);
  assert.deepEqual(s.color(-50), NEGATIVE);
  assert.deepEqual(s.color(50), POSITIVE);
});

test("diverging: sign by hue (blue < 0 < orange), size by lightness, readable without hue", () => {
  const s = diverging(1);
  const luminance = ([r, g, b]) => 0.2126 * r + 0.7152 * g + 0.0722 * b;
  let last = luminance(s.color(0));
  for (let k = 1; k <= 20; k++) {
    const neg = s.color(-k / 20);
    const pos = s.color(k / 20);
    assert.ok(neg[2] > neg[0], `-${k / 20} is bluish`);
    assert.ok(pos[0] > pos[2], `${k / 20} is orange`);
    assert.ok(luminance(neg) < last + 1e-9 && luminance(pos) < last + 1e-9 || k === 1, "darker as |v| grows");
    last = Math.max(luminance(neg), luminance(pos));
  }
});

test("sequential grey maps [0,1] to black..white", () => {
  const s = sequential();
  assert.deepEqual(s.color(0), [0, 0, 0]);
  assert.deepEqual(s.color(1), [255, 255, 255]);
  assert.deepEqual(s.color(0.5), [128, 128, 128]);
});

test("lookup table ends equal the scale ends; lutIndex picks the nearest entry", () => {
  const s = diverging(3);
  const t = lut(s);
  assert.equal(t.length, LUT_SIZE * 4);
  assert.deepEqual([...t.slice(0, 4)], [...NEGATIVE, 255]);
  assert.deepEqual([...t.slice(-4)], [...POSITIVE, 255]);
  assert.equal(lutIndex(s, -3), 0);
  assert.equal(lutIndex(s, 3), LUT_SIZE - 1);
  assert.equal(lutIndex(s, 0), 128);
});

test("stage scales are symmetric, nice and shared; input and softmax stay [0,1]", () => {
  assert.equal(niceCeil(0.73), 1);
  assert.equal(niceCeil(1.2), 2);
  assert.equal(niceCeil(2), 2);
  assert.equal(niceCeil(3.1), 5);
  assert.equal(niceCeil(0.031), 0.05);
  assert.equal(niceCeil(0), 1);
  assert.deepEqual(scaleForStage("conv", -0.4, 1.7).domain, [-2, 2]);
  assert.deepEqual(scaleForStage("activation", 0, 12).domain, [-20, 20]);
  assert.deepEqual(scaleForStage("input", 0, 0.2).domain, [0, 1]);
  assert.deepEqual(legendTicks(diverging(5)), [-5, 0, 5]);
  assert.deepEqual(legendTicks(sequential()), [0, 0.5, 1]);
});

test("fillRGBA paints every value with its nearest LUT entry, clamping outside the domain", () => {
  for (const scale of [diverging(2.5), sequential(0, 1)]) {
    const table = lut(scale);
    const [lo, hi] = scale.domain;
    const values = Float32Array.from([lo - 3, lo, -0.7, 0, 0.3, 0.999, hi, hi + 10, 1e-7, (lo + hi) / 2]);
    const data = new Uint8ClampedArray(values.length * 4).fill(7);
    fillRGBA(data, values, scale, table);
    values.forEach((v, i) => {
      const j = lutIndex(scale, Math.min(hi, Math.max(lo, v)));
      assert.deepEqual([...data.subarray(i * 4, i * 4 + 4)], [...table.subarray(j * 4, j * 4 + 3), 255], `${scale.kind} ${v}`);
    });
  }
});
