import { test } from "node:test";
import assert from "node:assert/strict";
import { layoutStage, stageHit, TARGET } from "../../static/js/stagelayout.js";
import { displayColumns, hitTest, unitRect } from "../../static/js/layout.js";

// The reference LeNet's record, shapes only (as /api/model gives them).
const STAGES = [
  { name: "input", kind: "input", shape: [1, 32, 32] },
  { name: "conv1", kind: "conv", shape: [6, 28, 28] }, { name: "relu1", kind: "activation", function: "relu", shape: [6, 28, 28] },
  { name: "pool1", kind: "pool", shape: [6, 14, 14] },
  { name: "conv2", kind: "conv", shape: [16, 10, 10] }, { name: "relu2", kind: "activation", function: "relu", shape: [16, 10, 10] },
  { name: "pool2", kind: "pool", shape: [16, 5, 5] }, { name: "flatten", kind: "flatten", shape: [400] },
  { name: "fc1", kind: "dense", shape: [120] }, { name: "relu3", kind: "activation", function: "relu", shape: [120] },
  { name: "fc2", kind: "dense", shape: [84] }, { name: "relu4", kind: "activation", function: "relu", shape: [84] },
  { name: "fc3", kind: "dense", shape: [10] }, { name: "softmax", kind: "softmax", shape: [10] },
];
const columns = displayColumns(STAGES);
const BOX = { width: 374, height: 300 };   // the phone's stage box at 390×844

// Every unit of a column: its centre and size, and what a tap there finds.
function* units(col) {
  if (col.shape.length === 3) {
    const [C, H, W] = col.shape;
    for (let c = 0; c < C; c++) for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) yield [c, y, x];
  } else {
    for (let i = 0; i < col.shape[0]; i++) yield [i];
  }
}

test("phone: every unit of every stage is a ≥ 24 px target, directly or in its zoomed map, and a tap at its centre finds it", () => {
  for (let ci = 0; ci < columns.length; ci++) {
    const over = layoutStage(columns, { ...BOX, current: ci });
    const maps = columns[ci].shape.length === 3 ? columns[ci].shape[0] : 1;
    for (let z = 0; z < maps; z++) {
      const layout = over.zoomable ? layoutStage(columns, { ...BOX, current: ci, zoom: z }) : over;
      const col = layout.columns[ci];
      for (const u of units(columns[ci])) {
        if (over.zoomable && u[0] !== z) continue;
        const r = unitRect(col, u);
        assert.ok(r.w >= TARGET && r.h >= TARGET, `${col.key} ${u}: ${r.w.toFixed(1)}×${r.h.toFixed(1)} px`);
        assert.ok(r.x >= 0 && r.y >= 0 && r.x + r.w <= layout.width + 1e-6 && r.y + r.h <= layout.height + 1e-6, `${col.key} ${u} inside the content`);
        const hit = stageHit(layout, r.x + r.w / 2, r.y + r.h / 2, hitTest);
        assert.deepEqual(hit && hit.unit, u, `${col.key} ${u}: the tap finds it`);
      }
      if (!over.zoomable) break;
    }
  }
});

test("phone: the overview of a map stage fits the box, the zoomed map only scrolls where 24 px needs it", () => {
  const conv1 = columns.findIndex((c) => c.key === "conv1");
  const over = layoutStage(columns, { ...BOX, current: conv1 });
  assert.equal(over.width, BOX.width);
  assert.equal(over.height, BOX.height);
  assert.ok(over.zoomable, "28×28 maps six to a box are too small to tap: a tap zooms");
  const z = layoutStage(columns, { ...BOX, current: conv1, zoom: 4 });
  assert.equal(z.zoom, 4);
  assert.ok(z.columns[conv1].cell >= TARGET);
  assert.ok(z.width >= 28 * TARGET && z.height >= 28 * TARGET);
  // The other maps of the stack are outside the visible one: a tap there finds nothing.
  const clip = z.columns[conv1].clip;
  assert.equal(stageHit(z, clip.x + 5, clip.y - 2, hitTest), null);
  const fc1 = columns.findIndex((c) => c.key === "fc1");
  const f = layoutStage(columns, { ...BOX, current: fc1 });
  assert.ok(!f.zoomable && f.width === BOX.width && f.height === BOX.height, "120 nodes fit at ≥ 24 px without scrolling");
  assert.ok(f.columns.every((c, i) => i === fc1 || c.offscreen), "one stage on screen at a time");
});
