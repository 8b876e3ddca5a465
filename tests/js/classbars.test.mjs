import { test } from "node:test";
import assert from "node:assert/strict";
import { namedRows } from "../../static/js/classbars.js";

test("rows tall enough for a label: every class is named", () => {
  assert.deepEqual(namedRows([0.1, 0.7, 0.2], 1, 30, 16), [0, 1, 2]);
});

test("100 classes in 300 px: the prediction and the likeliest, a label's height apart", () => {
  const values = Array.from({ length: 100 }, (_, i) => (i === 42 ? 0.3 : i === 43 ? 0.2 : i === 90 ? 0.1 : 0.004));
  const named = namedRows(values, 42, 3, 16);
  assert.ok(named.includes(42) && named.includes(90), named);
  assert.ok(!named.includes(43), "43 sits right under 42: its label would overlap");
  for (let k = 1; k < named.length; k++) assert.ok((named[k] - named[k - 1]) * 3 >= 16, named);
  assert.ok(named.length <= Math.floor(300 / 16) + 1);
});

test("the prediction is named even when another class is likelier (a stale trace)", () => {
  assert.ok(namedRows([0.5, 0.49, 0.01], 1, 2, 16).includes(1));
  assert.deepEqual(namedRows([0.5, 0.49, 0.01], 1, 2, 16), [1]);
});
