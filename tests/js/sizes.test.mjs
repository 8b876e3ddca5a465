import { test } from "node:test";
import assert from "node:assert/strict";
import { sizeFormula, stageArithmetic, DESIGN_NOTES } from "../../static/js/sizes.js";
import { STAGES } from "./reference_stages.mjs";

test("the formula with the numbers in, floored when the window does not tile", () => {
  assert.deepEqual(sizeFormula(32, 5, 1, 0), { output: 28, exact: true, uncovered: 0, text: "(32 \u2212 5 + 2·0) / 1 + 1 = 28" });
  assert.deepEqual(sizeFormula(28, 2, 2, 0).output, 14);
  const f = sizeFormula(32, 5, 2, 1);
  assert.equal(f.output, 15);
  assert.equal(f.exact, false);
  assert.equal(f.text, "(32 \u2212 5 + 2·1) / 2 + 1 = 15.5 → 15");
  assert.equal(sizeFormula(32, 3, 3, 0).text, "(32 \u2212 3 + 2·0) / 3 + 1 = 10.6667 → 10");
  // Brute force: count the window positions that fit, for every lab setting.
  for (const k of [1, 3, 5, 7]) for (const s of [1, 2, 3]) for (const p of [0, 1, 2, 3]) {
    let n = 0;
    for (let start = 0; start + k <= 28 + 2 * p; start += s) n++;
    assert.equal(sizeFormula(28, k, s, p).output, n, `k=${k} s=${s} p=${p}`);
  }
});

test("LeNet: 32 → 28 → 14 → 10 → 5, then 16 maps × 5 × 5 = 400 inputs", () => {
  const a = stageArithmetic(STAGES);
  assert.deepEqual(a.chain, [32, 28, 14, 10, 5]);
  assert.equal(a.chainText, "32 → 28 → 14 → 10 → 5");
  assert.equal(a.flatten, "16 maps × 5 × 5 = 400 inputs");
  const by = Object.fromEntries(a.rows.map((r) => [r.name, r]));
  assert.ok(a.rows.every((r) => r.agrees), "every recorded shape follows from the params");
  assert.equal(by.conv1.text, "(32 \u2212 5 + 2·0) / 1 + 1 = 28 · 6 filters");
  assert.equal(by.pool2.text, "(10 \u2212 2 + 2·0) / 2 + 1 = 5 · max pool");
  assert.equal(by.fc1.text, "400 → 120 units");
  assert.equal(by.fc1.note, DESIGN_NOTES.first);
  assert.equal(by.fc2.text, "120 → 100 units");
  assert.equal(by.fc2.note, DESIGN_NOTES.hidden);
  assert.equal(by.fc3.note, DESIGN_NOTES.last);
});

test("numbers come from the record, not from LeNet: a padded, strided variant", () => {
  const stages = [
    { name: "input", kind: "input", shape: [1, 28, 28] },
    { name: "c", kind: "conv", filters: 8, kernel: 3, stride: 2, padding: 1, in_channels: 1, shape: [8, 14, 14] },
    { name: "p", kind: "pool", op: "avg", window: 2, stride: 2, shape: [8, 7, 7] },
    { name: "flatten", kind: "flatten", shape: [392] },
    { name: "d", kind: "dense", units: 10, shape: [10] },
  ];
  const a = stageArithmetic(stages);
  assert.equal(a.chainText, "28 → 14 → 7");
  assert.equal(a.flatten, "8 maps × 7 × 7 = 392 inputs");
  // Floored, and what the floor leaves out: here only the padding's last row and column.
  assert.equal(a.rows[1].text, "(28 \u2212 3 + 2·1) / 2 + 1 = 14.5 → 14 · 8 filters · the windows skip the last row and column of padding only");
  assert.equal(a.rows[1].uncovered, 1);
  assert.equal(a.inputs, 392);
  assert.equal(a.firstUnits, 10);
  assert.equal(a.rows[4].note, DESIGN_NOTES.last);
  // A record that disagrees with its own params is flagged, not silently "fixed".
  const wrong = stages.map((s) => (s.name === "p" ? { ...s, shape: [8, 6, 6] } : s));
  const row = stageArithmetic(wrong).rows[2];
  assert.equal(row.agrees, false);
  assert.match(row.text, /recorded 6/);
});

test("convnetjs' pool 3 on 14 maps floors to 4 and leaves two rows and columns unread", () => {
  const stages = [
    { name: "input", kind: "input", shape: [1, 28, 28] },
    { name: "c1", kind: "conv", filters: 8, kernel: 5, stride: 1, padding: 2, in_channels: 1, shape: [8, 28, 28] },
    { name: "p1", kind: "pool", op: "max", window: 2, stride: 2, shape: [8, 14, 14] },
    { name: "p2", kind: "pool", op: "max", window: 3, stride: 3, shape: [8, 4, 4] },
    { name: "flatten", kind: "flatten", shape: [128] },
    { name: "d", kind: "dense", units: 10, shape: [10] },
  ];
  const a = stageArithmetic(stages);
  // Brute force: windows of 3 every 3 over 14 start at 0, 3, 6, 9 and end at 12: rows 12, 13 unread.
  const starts = []; for (let s = 0; s + 3 <= 14; s += 3) starts.push(s);
  assert.equal(14 - (starts.at(-1) + 3), 2);
  assert.equal(a.rows[3].text, "(14 \u2212 3 + 2·0) / 3 + 1 = 4.6667 → 4 · max pool · the last 2 rows and columns of the map never read");
  assert.equal(a.rows[2].uncovered, 0);
  assert.equal(a.firstUnits, 10);
});
