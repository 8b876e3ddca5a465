import { test } from "node:test";
import assert from "node:assert/strict";
import { barLabelLayout, SLANT } from "../../static/js/learn/paint.js";

const FASHION = [62, 44, 46, 33, 27, 41, 29, 48, 21, 60];   // "T-shirt/top", "Trouser", ... in px

test("bar labels stay level when they fit their slot", () => {
  const digits = barLabelLayout(Array(10).fill(7), 340);
  assert.deepEqual(digits, { angle: 0, foot: 16, left: 0, slot: 34 });
});

test("too-wide labels slant, with a foot tall enough and a left margin so none is cut", () => {
  for (const width of [340, 240]) {                 // the step chart and the history chart
    const l = barLabelLayout(FASHION, width);
    assert.equal(l.angle, SLANT);
    assert.ok(l.foot >= 62 * Math.sin(-SLANT) + 12 * Math.cos(SLANT), `foot ${l.foot}`);
    assert.ok(Math.abs(l.left + 10 * l.slot - width) < 1e-9, "the bars share the rest");
    FASHION.forEach((w, k) => {
      const end = l.left + (k + 0.5) * l.slot + 4;   // where paintBars ends the name
      assert.ok(end - w * Math.cos(SLANT) >= 0, `label ${k} starts inside the canvas (width ${width})`);
    });
  }
  assert.ok(barLabelLayout([500], 340).foot <= 60, "capped so the bars keep most of the height");
});
