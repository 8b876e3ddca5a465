import { test } from "node:test";
import assert from "node:assert/strict";
import { labelRooms, placeLine } from "../../static/js/labels.js";

// The boxes actually drawn for a line: [left, right] per label, at its row.
const boxes = (items, placed) => items.map((it, i) => ({ row: placed[i].row, l: it.cx - (it.width * placed[i].scale) / 2, r: it.cx + (it.width * placed[i].scale) / 2 }));

test("labelRooms: a label may spill into half of each gap beside its column, never further", () => {
  const cols = [{ x: 0, w: 100 }, { x: 122, w: 14 }, { x: 158, w: 14 }, { x: 194, w: 120 }];
  const rooms = labelRooms(cols);
  assert.equal(rooms[1].cx, 129);
  // fc-like column 122..136 between gaps of 22: mid-gaps at 111 and 147, less the margin.
  assert.equal(rooms[1].room, 2 * Math.min(129 - 113, 145 - 129));
  for (let i = 0; i + 1 < cols.length; i++) {
    assert.ok(rooms[i].cx + rooms[i].room / 2 <= rooms[i + 1].cx - rooms[i + 1].room / 2 || rooms[i].room === cols[i].w,
      `rooms ${i} and ${i + 1} do not overlap`);
  }
});

test("placeLine: the fc2/fc3 scale labels that collided at 14 px go on two rows, none overlapping", () => {
  // Narrow dense columns 22 px apart (the tightest the layout allows), labels "±10" and "±20"
  // ~26 px wide at a projector's 14 px: the old code drew them centred, overlapping by 4 px.
  const items = [{ cx: 40, width: 20 }, { cx: 100, width: 26 }, { cx: 122, width: 26 }, { cx: 144, width: 26 }, { cx: 260, width: 30 }];
  const placed = placeLine(items);
  const b = boxes(items, placed);
  for (let i = 0; i < b.length; i++) {
    for (let j = i + 1; j < b.length; j++) {
      if (b[i].row === b[j].row) assert.ok(b[i].r <= b[j].l, `labels ${i} and ${j} on row ${b[i].row} overlap: ${JSON.stringify([b[i], b[j]])}`);
    }
  }
  assert.deepEqual(placed.map((p) => p.row), [0, 0, 1, 0, 0], "every other crowded label drops a row");
  assert.ok(items[1].cx + items[1].width / 2 > items[2].cx - items[2].width / 2, "on one row they would overlap");
  assert.ok(placed.every((p) => p.scale === 1), "nothing needed shrinking");
});

test("placeLine: labels with room stay on one row at full size", () => {
  const placed = placeLine([{ cx: 50, width: 30 }, { cx: 150, width: 30 }, { cx: 250, width: 30 }]);
  assert.deepEqual(placed, [{ row: 0, scale: 1 }, { row: 0, scale: 1 }, { row: 0, scale: 1 }]);
});

test("placeLine: three labels crammed into one gap still never overlap on a row", () => {
  const items = [{ cx: 10, width: 30 }, { cx: 20, width: 30 }, { cx: 30, width: 30 }, { cx: 40, width: 30 }];
  const b = boxes(items, placeLine(items));
  for (let i = 0; i < b.length; i++) {
    for (let j = i + 1; j < b.length; j++) {
      if (b[i].row === b[j].row && b[i].r > b[i].l && b[j].r > b[j].l) assert.ok(b[i].r <= b[j].l + 1e-9, `labels ${i} and ${j} overlap`);
    }
  }
});

test("labelRooms: the end columns' labels stop at the canvas edges when the width is given", () => {
  // A 56 px input column flush with the left edge, a 14 px fc2 column near the right edge.
  const cols = [{ x: 0, w: 56 }, { x: 90, w: 200 }, { x: 320, w: 14 }];
  const free = labelRooms(cols);
  assert.ok(free[0].cx - free[0].room / 2 < 0, "without a width the first label may spill left");
  const rooms = labelRooms(cols, 350);
  assert.equal(rooms[0].room, 56);
  assert.ok(rooms[0].cx - rooms[0].room / 2 >= 0);
  assert.ok(rooms[2].cx + rooms[2].room / 2 <= 350);
});
