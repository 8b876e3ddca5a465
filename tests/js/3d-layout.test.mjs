// The 3D layout: every unit of the record has one place, and the place names the unit back.
import test from "node:test";
import assert from "node:assert/strict";
import {
  layout3D, planeUnitAt, planeUnitCenter, unitAtIndex, unitCenter, unitIndex, resolve,
} from "../../static/js/3d/layout3d.js";
import { unravel } from "../../static/js/tensor.js";

// The reference net's record (shapes as /api/model reports them).
const LAYERS = [
  { name: "input", kind: "input", shape: [1, 32, 32] },
  { name: "conv1", kind: "conv", shape: [6, 28, 28] },
  { name: "relu1", kind: "activation", shape: [6, 28, 28] },
  { name: "pool1", kind: "pool", shape: [6, 14, 14] },
  { name: "conv2", kind: "conv", shape: [16, 10, 10] },
  { name: "relu2", kind: "activation", shape: [16, 10, 10] },
  { name: "pool2", kind: "pool", shape: [16, 5, 5] },
  { name: "flatten", kind: "flatten", shape: [400] },
  { name: "fc1", kind: "dense", shape: [120] },
  { name: "relu3", kind: "activation", shape: [120] },
  { name: "fc2", kind: "dense", shape: [84] },
  { name: "relu4", kind: "activation", shape: [84] },
  { name: "fc3", kind: "dense", shape: [10] },
  { name: "softmax", kind: "softmax", shape: [10] },
];
const size = (shape) => shape.reduce((a, b) => a * b, 1);
const CLASSES = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];

test("every drawn unit round-trips: unit -> index -> unit and unit -> centre -> unit", () => {
  const layout = layout3D(LAYERS, { classes: CLASSES, foldActivations: false });
  const drawn = LAYERS.filter((l) => l.kind !== "flatten");
  assert.equal(layout.count, drawn.reduce((s, l) => s + size(l.shape), 0));
  assert.equal(layout.count, 15636, "every unit but flatten's is drawn (the ~15,000 of the issue)");
  const seen = new Set();
  for (const layer of drawn) {
    const plane = layout.byName.get(layer.name);
    for (let k = 0; k < size(layer.shape); k++) {
      const unit = unravel(layer.shape, k);
      const index = unitIndex(layout, layer.name, unit);
      assert.ok(!seen.has(index), `${layer.name} ${unit} shares index ${index}`);
      seen.add(index);
      assert.deepEqual(unitAtIndex(layout, index), { name: layer.name, unit });
      const c = unitCenter(layout, layer.name, unit);
      assert.deepEqual(Array.from(layout.positions.subarray(index * 4, index * 4 + 3)), c.map(Math.fround));
      assert.deepEqual(planeUnitAt(plane, c[0], c[1]), unit, `${layer.name} ${unit} centre names it back`);
      // the square's corners (just inside) name the same unit too
      const h = plane.size / 2 - 1e-9;
      for (const [dx, dy] of [[-h, -h], [h, h], [-h, h], [h, -h]]) {
        assert.deepEqual(planeUnitAt(plane, c[0] + dx, c[1] + dy), unit);
      }
    }
  }
  assert.equal(seen.size, layout.count);
});

test("planes stack front (input, z = 0) to back (softmax) in record order", () => {
  const layout = layout3D(LAYERS, { foldActivations: false });
  const names = layout.planes.map((p) => p.name);
  assert.deepEqual(names, LAYERS.filter((l) => l.kind !== "flatten").map((l) => l.name));
  assert.equal(layout.planes[0].z, 0);
  for (let i = 1; i < layout.planes.length; i++) assert.ok(layout.planes[i].z < layout.planes[i - 1].z);
  const conv1 = layout.byName.get("conv1");
  assert.deepEqual([conv1.cols, conv1.rows], [3, 2], "conv1's 6 maps sit side by side in two rows");
  const conv2 = layout.byName.get("conv2");
  assert.deepEqual([conv2.cols, conv2.rows], [4, 4], "conv2's 16 maps form a 4×4 grid");
  assert.equal(layout.byName.get("softmax").labels, null, "no classes given, no labels");
  assert.deepEqual(layout3D(LAYERS, { classes: CLASSES }).byName.get("softmax").labels, CLASSES);
  assert.equal(layout3D(LAYERS, { classes: CLASSES }).byName.get("fc1").labels, null);
});

test("points in the gaps between squares and maps, or outside a plane, name no unit", () => {
  const layout = layout3D(LAYERS);
  const conv1 = layout.byName.get("conv1");
  const [x0, y0] = planeUnitCenter(conv1, [0, 3, 27]); // last column of map 0
  const [x1] = planeUnitCenter(conv1, [1, 3, 0]); // first column of map 1
  assert.equal(planeUnitAt(conv1, (x0 + x1) / 2, y0), null, "between maps 0 and 1");
  assert.equal(planeUnitAt(conv1, x0 + 0.6, y0), null, "just past the last column of map 0");
  assert.equal(planeUnitAt(conv1, conv1.left - 1, y0), null);
  assert.equal(planeUnitAt(conv1, x0, conv1.top + 1), null);
  const fc2 = layout.byName.get("fc2"); // 84 units in rows of 28: no holes, but outside is null
  assert.equal(planeUnitAt(fc2, fc2.left + fc2.width + 0.5, fc2.top - 0.8), null);
  const conv2 = layout.byName.get("conv2");
  const [cx, cy] = planeUnitCenter(conv2, [5, 9, 9]);
  assert.deepEqual(planeUnitAt(conv2, cx, cy), [5, 9, 9]);
  assert.equal(planeUnitAt(conv2, cx, cy - 1.5), null, "below the last row of a map, in the gap");
});

test("stages sharing a plane (flatten; folded activations) land on its units", () => {
  const folded = layout3D(LAYERS); // folding is the 2D view's default too
  assert.deepEqual(folded.planes.map((p) => p.name),
    ["input", "conv1", "pool1", "conv2", "pool2", "fc1", "fc2", "fc3", "softmax"]);
  assert.deepEqual(unitCenter(folded, "relu1", [2, 5, 7]), unitCenter(folded, "conv1", [2, 5, 7]));
  assert.deepEqual(unitCenter(folded, "relu3", [17]), unitCenter(folded, "fc1", [17]));
  const conv1 = folded.byName.get("conv1");
  assert.equal(conv1.shown, "relu1", "a folded plane paints the activation's values");
  assert.deepEqual(conv1.stages, ["conv1", "relu1"]);
  for (const i of [0, 1, 24, 25, 399]) {
    // flatten is pool2 read row-major: [c, y, x] with i = c·25 + y·5 + x
    const expect = [Math.floor(i / 25), Math.floor((i % 25) / 5), i % 5];
    assert.deepEqual(resolve(folded, "flatten", [i]).unit, expect);
    assert.equal(unitIndex(folded, "flatten", [i]), unitIndex(folded, "pool2", expect));
  }
  assert.equal(unitIndex(folded, "conv1", [6, 0, 0]), -1, "channel out of range");
  assert.equal(unitIndex(folded, "nope", [0]), -1);
});

test("shapes come from the record: another spec lays out without code changes", () => {
  const other = [
    { name: "input", kind: "input", shape: [1, 28, 28] },
    { name: "c", kind: "conv", shape: [12, 24, 24] },
    { name: "p", kind: "pool", shape: [12, 12, 12] },
    { name: "flatten", kind: "flatten", shape: [1728] },
    { name: "d", kind: "dense", shape: [7] },
  ];
  const layout = layout3D(other);
  assert.equal(layout.count, 784 + 12 * 24 * 24 + 12 * 12 * 12 + 7);
  const c = layout.byName.get("c");
  assert.deepEqual([c.cols, c.rows], [4, 3]);
  assert.deepEqual(planeUnitAt(c, ...unitCenter(layout, "c", [11, 23, 23]).slice(0, 2)), [11, 23, 23]);
  assert.deepEqual(unitAtIndex(layout, layout.count - 1), { name: "d", unit: [6] });
  assert.equal(unitIndex(layout, "flatten", [1727]), unitIndex(layout, "p", [11, 11, 11]));
  assert.throws(() => layout3D([{ name: "x", kind: "conv", shape: [2, 2] }]), /\[C, H, W\] or \[N\]/);
});
