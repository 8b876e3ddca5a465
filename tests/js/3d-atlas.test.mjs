// The atlas: every unit owns one texel, sheets sit where the layout draws their units, and a
// colour lands on its unit's texel. The shader's arithmetic is re-done here in plain JS.
import test from "node:test";
import assert from "node:assert/strict";
import { buildAtlas, scatterColors, sheetVertices } from "../../static/js/3d/atlas3d.js";
import { layout3D, planeUnitCenter } from "../../static/js/3d/layout3d.js";
import { unravel } from "../../static/js/tensor.js";

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
  { name: "fc2", kind: "dense", shape: [84] },
  { name: "fc3", kind: "dense", shape: [10] },
];

// What SHEET_FS does for a world point (x, y) on a sheet: the cell, or null (gap / no unit).
function shade(atlas, texels, s, x, y) {
  const [l, t] = s.corners;
  const u = (x - l) / s.pitch;
  const v = (t - y) / s.pitch;
  const cx = Math.min(Math.max(Math.floor(u), 0), s.cols - 1);
  const cy = Math.min(Math.max(Math.floor(v), 0), s.rows - 1);
  if (Math.max(Math.abs(u - cx - 0.5), Math.abs(v - cy - 0.5)) > s.fill / 2) return null;
  const o = ((s.y0 + cy) * atlas.width + s.x0 + cx) * 4;
  return texels[o + 3] < 128 ? null : texels[o];
}

test("each unit has its own texel, and the sheet shades the unit's centre with its colour", () => {
  for (const foldActivations of [true, false]) {
    const layout = layout3D(LAYERS, { foldActivations });
    const atlas = buildAtlas(layout, 512);
    assert.equal(new Set(atlas.texelOf).size, layout.count, "no two units share a texel");
    assert.ok(Math.max(...atlas.texelOf) < atlas.width * atlas.height);
    // colour every unit by (index mod 251) + 1 in red; alpha 255
    const rgba = new Uint8Array(layout.count * 4);
    for (let i = 0; i < layout.count; i++) rgba.set([(i % 251) + 1, 0, 0, 255], i * 4);
    const texels = scatterColors(atlas, rgba);
    for (const plane of layout.planes) {
      const sheets = atlas.sheets.filter((s) => s.plane === plane);
      for (let k = 0; k < plane.count; k += 7) {
        const unit = unravel(plane.shape, k);
        const [x, y, z] = planeUnitCenter(plane, unit);
        const s = plane.type === "grid" ? sheets[unit[0]] : sheets[0];
        assert.equal(s.z, z);
        assert.equal(shade(atlas, texels, s, x, y), ((plane.start + k) % 251) + 1, `${plane.name} ${unit}`);
      }
    }
  }
});

test("the gaps between 1-D nodes and the cells past the last node are not drawn", () => {
  const layout = layout3D(LAYERS);
  const atlas = buildAtlas(layout, 512);
  const texels = scatterColors(atlas, new Uint8Array(layout.count * 4).fill(255));
  const fc2 = layout.byName.get("fc2"); // 84 nodes in 3 rows of 28: full rows
  const fc1 = layout.byName.get("fc1"); // 120 in 3 rows of 40
  const s = atlas.sheets.find((q) => q.plane === fc2);
  const [x, y] = planeUnitCenter(fc2, [0]);
  assert.notEqual(shade(atlas, texels, s, x, y), null);
  assert.equal(shade(atlas, texels, s, x + fc2.pitch / 2 - 0.05, y), null, "between nodes 0 and 1");
  const odd = layout3D([{ name: "d", kind: "dense", shape: [7] }, { name: "e", kind: "dense", shape: [41] }]);
  const oa = buildAtlas(odd, 64);
  const ot = scatterColors(oa, new Uint8Array(odd.count * 4).fill(255));
  const e = odd.byName.get("e"); // 41 nodes: 2 rows of 21, the last cell is empty
  const se = oa.sheets.find((q) => q.plane === e);
  const [lx, ly] = planeUnitCenter(e, [40]);
  assert.notEqual(shade(oa, ot, se, lx, ly), null);
  assert.equal(shade(oa, ot, se, lx + e.pitch, ly), null, "the 42nd cell has no unit");
  assert.ok(fc1 && atlas.height <= 256, `atlas ${atlas.width}×${atlas.height}`);
});

test("sheet vertices: two triangles per sheet with its atlas rectangle and cell size", () => {
  const layout = layout3D(LAYERS);
  const atlas = buildAtlas(layout);
  const v = sheetVertices(atlas);
  assert.equal(v.count, atlas.sheets.length * 6);
  assert.equal(atlas.sheets.length, 1 + 6 + 6 + 16 + 16 + 3, "one sheet per map, one per node block");
  const s = atlas.sheets[1]; // conv1 map 0
  assert.deepEqual(Array.from(v.sheet.subarray(6 * 4, 6 * 4 + 4)), [s.x0, s.y0, 28, 28]);
  assert.deepEqual(Array.from(v.uv.subarray(6 * 2 + 4, 6 * 2 + 6)), [28, 28], "bottom-right uv is (cols, rows)");
  assert.throws(() => buildAtlas(layout3D([{ name: "w", kind: "input", shape: [1, 4, 600] }]), 512), /does not fit/);
});
