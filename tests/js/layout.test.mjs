import { test } from "node:test";
import assert from "node:assert/strict";
import { displayColumns, foldLabel, stageIndex, layoutNetwork, unitRect, windowRects, hitTest, neighbour, nearestUnit } from "../../static/js/layout.js";
import { STAGES } from "./reference_stages.mjs";

const BOX = { width: 940, height: 420 };

test("columns fold flatten always and activations on request", () => {
  const folded = displayColumns(STAGES, { foldActivations: true });
  assert.deepEqual(folded.map((c) => c.key), ["input", "conv1", "pool1", "conv2", "pool2", "fc1", "fc2", "fc3", "softmax"]);
  assert.equal(folded[1].shown, "relu1");
  assert.equal(folded[1].primary, "conv1");
  const open = displayColumns(STAGES, { foldActivations: false });
  assert.deepEqual(open.map((c) => c.key), ["input", "conv1", "relu1", "pool1", "conv2", "relu2", "pool2", "fc1", "relu3", "fc2", "relu4", "fc3", "softmax"]);
  const index = stageIndex(folded, STAGES);
  assert.equal(index.get("relu1").column, 1);
  assert.deepEqual(index.get("flatten").toUnit([26]), [1, 0, 1], "flatten 26 is pool2 (1,0,1)");
});

for (const fold of [true, false]) {
  test(`every unit fits the box and hit-tests back to itself (fold=${fold})`, () => {
    const layout = layoutNetwork(displayColumns(STAGES, { foldActivations: fold }), BOX);
    for (const [c, col] of layout.columns.entries()) {
      assert.ok(col.x >= 0 && col.x + col.w <= BOX.width + 1e-6, `${col.key} fits horizontally`);
      assert.ok(col.y >= 0 && col.y + col.h <= BOX.height, `${col.key} fits vertically`);
      const units = col.shape.length === 3
        ? [[0, 0, 0], [col.shape[0] - 1, col.shape[1] - 1, col.shape[2] - 1], [Math.floor(col.shape[0] / 2), 3, 1]]
        : [[0], [col.shape[0] - 1]];
      for (const u of units) {
        const r = unitRect(col, u);
        assert.ok(r.w >= 1.5, `${col.key} units are at least 1.5 px`);
        const hit = hitTest(layout, r.x + r.w / 2, r.y + r.h / 2);
        assert.deepEqual(hit, { column: c, unit: u }, `${col.key} ${u}`);
      }
    }
    for (let i = 1; i < layout.columns.length; i++) {
      const a = layout.columns[i - 1];
      assert.ok(layout.columns[i].x >= a.x + a.w + 20, "columns leave room for lines");
    }
  });
}

test("window rectangles: one per channel for maps, one per sub-column for nodes", () => {
  const layout = layoutNetwork(displayColumns(STAGES), BOX);
  const pool1 = layout.columns[2];
  const rects = windowRects(pool1, [[0, 6], [2, 7], [3, 8]]);
  assert.equal(rects.length, 6);
  assert.ok(Math.abs(rects[0].w - 5 * pool1.cell) < 1e-9);
  const fc1 = layout.columns[5];
  const all = windowRects(fc1, [[0, 120]]);
  assert.equal(all.length, fc1.g);
  assert.ok(Math.abs(all.reduce((t, r) => t + r.h, 0) - 120 * fc1.cell) < 1e-6);
});

test("neighbour moves one unit on screen and stops at the edges; Tab lands nearby", () => {
  const layout = layoutNetwork(displayColumns(STAGES), BOX);
  assert.deepEqual(neighbour(layout, 1, [0, 5, 5], 1, 0), [0, 5, 6]);
  assert.deepEqual(neighbour(layout, 1, [0, 5, 5], 0, 1), [0, 6, 5]);
  assert.deepEqual(neighbour(layout, 1, [0, 0, 0], 0, -1), [0, 0, 0]);
  const col = layout.columns[1];
  const last = [0, 5, col.shape[2] - 1];
  const right = neighbour(layout, 1, last, 1, 0);
  assert.ok(col.g === 1 ? right === last || right[0] === 0 : right[0] === 1, "crosses to the map on the right");
  const u = nearestUnit(layout, 5, unitRect(layout.columns[1], [0, 5, 5]).y);
  assert.equal(u.length, 1);
});

test("maps of every stage share one cell size, so they compare at a glance; the width is used", () => {
  for (const box of [BOX, { width: 1240, height: 460 }, { width: 700, height: 330 }]) {
    const layout = layoutNetwork(displayColumns(STAGES), box);
    const cells = layout.columns.filter((c) => c.type === "maps").map((c) => c.cell);
    for (const c of cells) assert.ok(Math.abs(c - cells[0]) < 1e-9, `cells ${cells}`);
    const right = Math.max(...layout.columns.map((c) => c.x + c.w));
    assert.ok(right <= box.width + 1e-6, "fits");
    const used = layout.columns.reduce((t, c) => t + c.w, 0) + 22 * (layout.columns.length - 1);
    assert.ok(used > 0.7 * box.width, `uses the width: ${used} of ${box.width}`);
  }
});

test("the fold label names the model's own activation", () => {
  assert.equal(foldLabel(STAGES), "Fold ReLU");
  const tanh = STAGES.map((s) => (s.kind === "activation" ? { ...s, function: "tanh" } : s));
  assert.equal(foldLabel(tanh), "Fold tanh");
  const mixed = STAGES.map((s) => (s.name === "relu1" ? { ...s, function: "sigmoid" } : s));
  assert.equal(foldLabel(mixed), "Fold activations");
  assert.equal(foldLabel(STAGES.filter((s) => s.kind !== "activation")), "Fold activations");
  assert.equal(foldLabel(null), "Fold activations");
});
