// Unit colours in 3D are the 2D view's: the stage's scale from color.js, painted from the
// stage shown on each plane (the activation when folded).
import test from "node:test";
import assert from "node:assert/strict";
import { diverging, niceCeil, sequential } from "../../static/js/color.js";
import { layout3D } from "../../static/js/3d/layout3d.js";
import { backings, paintUnits } from "../../static/js/3d/paint3d.js";

function record(name, kind, shape, f) {
  const n = shape.reduce((a, b) => a * b, 1);
  return { name, kind, shape, values: Float32Array.from({ length: n }, (_, i) => f(i)) };
}
const layers = [
  record("input", "input", [1, 4, 4], (i) => i / 15),
  record("conv1", "conv", [2, 3, 3], (i) => i - 9),            // -9 … 8
  record("relu1", "activation", [2, 3, 3], (i) => Math.max(0, i - 9)),
  record("flatten", "flatten", [18], (i) => Math.max(0, i - 9)),
  record("fc", "dense", [5], (i) => (i - 2) * 0.3),
  record("softmax", "softmax", [5], (i) => [0.1, 0.2, 0.4, 0.2, 0.1][i]),
];
const trace = { layers, byName: new Map(layers.map((l) => [l.name, l])) };
const near = (a, b, msg) => a.forEach((v, i) => assert.ok(Math.abs(v - b[i]) <= 3, `${msg}: ${a} vs ${b}`));

test("each unit gets its stage's colour on color.js's scale (within one LUT step)", () => {
  for (const foldActivations of [true, false]) {
    const layout = layout3D(layers, { foldActivations });
    const { colors, scales } = paintUnits(layout, trace);
    for (const plane of layout.planes) {
      const rec = trace.byName.get(plane.shown);
      const max = Math.max(...Array.from(rec.values, Math.abs));
      const scale = rec.kind === "input" || rec.kind === "softmax" ? sequential(0, 1) : diverging(niceCeil(max));
      assert.deepEqual(scales.get(plane.name).scale.domain, scale.domain, plane.name);
      rec.values.forEach((v, k) => {
        const o = (plane.start + k) * 4;
        near(Array.from(colors.subarray(o, o + 3)), scale.color(v), `${plane.name}[${k}] = ${v}`);
        assert.equal(colors[o + 3], 255);
      });
    }
  }
  // folded: conv1's plane paints relu1 (zeros where conv1 was negative); unfolded: conv1's own
  const folded = paintUnits(layout3D(layers), trace);
  const unfolded = paintUnits(layout3D(layers, { foldActivations: false }), trace);
  assert.notDeepEqual(folded.colors.subarray(16 * 4, 17 * 4), unfolded.colors.subarray(16 * 4, 17 * 4));
});

test("a plane whose stage is missing from the trace is grey; backings cover every map", () => {
  const layout = layout3D(layers);
  const { colors } = paintUnits(layout, null);
  assert.ok(colors.every((c) => c === 96));
  const b = backings(layout);
  const maps = 1 + 2 + 1 + 1; // input, conv1's 2 maps, fc row, softmax row
  assert.equal(b.positions.length, maps * 6 * 3);
  assert.equal(b.colors.length, maps * 6 * 4);
});
