// Map k keeps its place across a block's stages (conv → activation → pool), for every shipped
// model (tests/js/fixtures/shipped_stages.json, checked against the models by
// test_shipped_stages_fixture.py), folded and unfolded, in boxes from a projector to a phone.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { displayColumns, layoutNetwork, mapRect, mapBlocks, unitRect, hitTest } from "../../static/js/layout.js";
import { STAGES } from "./reference_stages.mjs";

const SHIPPED = JSON.parse(readFileSync(new URL("./fixtures/shipped_stages.json", import.meta.url)));
const BOXES = [{ width: 1860, height: 560 }, { width: 940, height: 420 }, { width: 1240, height: 460 }, { width: 700, height: 330 }, { width: 380, height: 300 }];

// (grid column, grid row) of every map of a column, read from where the maps are drawn: the
// rank of each map's left edge among the column's distinct left edges, and of its top edge.
function gridCells(col) {
  const rects = Array.from({ length: col.shape[0] }, (_, k) => mapRect(col, k));
  const rank = (vals) => { const d = [...new Set(vals.map((v) => v.toFixed(6)))].sort((a, b) => a - b); return vals.map((v) => d.indexOf(v.toFixed(6))); };
  const xs = rank(rects.map((r) => r.x));
  const ys = rank(rects.map((r) => r.y));
  return rects.map((_, k) => [xs[k], ys[k]]);
}

// The blocks, found independently of mapBlocks: runs of neighbouring map columns whose
// channel count stays the same.
function blocksOf(columns) {
  const runs = [];
  columns.forEach((col) => {
    const last = runs[runs.length - 1];
    if (col.type !== "maps") return runs.push(null);
    const prev = last?.[last.length - 1];
    if (prev && prev.shape[0] === col.shape[0] && runs[runs.length - 1] !== null) last.push(col);
    else runs.push([col]);
  });
  return runs.filter((r) => r && r.length > 1);
}

test("the fixture holds every shipped model with its conv blocks", () => {
  assert.ok(Object.keys(SHIPPED).length >= 3, Object.keys(SHIPPED).join(", "));
  for (const [id, stages] of Object.entries(SHIPPED)) {
    assert.ok(stages.some((s) => s.kind === "conv") && stages.some((s) => s.kind === "pool"), id);
  }
});

test("mapBlocks: neighbouring map columns with one channel count form a block", () => {
  const folded = displayColumns(STAGES);
  assert.deepEqual(folded.map((c) => c.key), ["input", "conv1", "pool1", "conv2", "pool2", "fc1", "fc2", "fc3", "softmax"]);
  assert.deepEqual(mapBlocks(folded), [0, 1, 1, 3, 3, null, null, null, null]);
  assert.deepEqual(mapBlocks(displayColumns(STAGES, { foldActivations: false })).slice(0, 7), [0, 1, 1, 1, 4, 4, 4]);
});

for (const [id, stages] of Object.entries(SHIPPED)) {
  for (const fold of [true, false]) {
    test(`${id} (fold=${fold}): map k sits in the same grid cell in every stage of its block`, () => {
      for (const box of BOXES) {
        const layout = layoutNetwork(displayColumns(stages, { foldActivations: fold }), box);
        const blocks = blocksOf(layout.columns);
        assert.equal(blocks.length, 2, `${id} ${box.width}: two conv blocks`);
        for (const block of blocks) {
          const first = gridCells(block[0]);
          for (const col of block.slice(1)) {
            assert.deepEqual(gridCells(col), first, `${id} ${box.width}×${box.height}: ${col.key} vs ${block[0].key}`);
          }
        }
        // Widening a column to its block's grid never pushes anything out of the box, and
        // every map column keeps the common cell size.
        const cells = layout.columns.filter((c) => c.type === "maps").map((c) => c.cell);
        for (const c of cells) assert.ok(Math.abs(c - cells[0]) < 1e-9, `${box.width}: cells ${cells}`);
        for (const [c, col] of layout.columns.entries()) {
          // (13 unfolded columns cannot fit 380 px even at the smallest cell: the phone gets its
          // own layout; the grid must still agree there.)
          if (box.width >= 700) assert.ok(col.x >= 0 && col.x + col.w <= box.width + 1e-6 && col.y + col.h <= box.height, `${col.key} fits ${box.width}×${box.height}`);
          if (col.type !== "maps") continue;
          const last = [col.shape[0] - 1, col.shape[1] - 1, col.shape[2] - 1];
          const r = unitRect(col, last);
          assert.deepEqual(hitTest(layout, r.x + r.w / 2, r.y + r.h / 2), { column: c, unit: last });
        }
      }
    });
  }
}
