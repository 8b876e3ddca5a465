// The renderer's pure helpers: expanding each unit into its own vertices and colours.
import test from "node:test";
import assert from "node:assert/strict";
import { expandColors, expandMesh } from "../../static/js/3d/renderer.js";

test("expandMesh places every unit's mesh at its centre, scaled by its size", () => {
  const mesh = new Float32Array([-0.5, -0.5, 0.5, 0.5]); // two corners
  const inst = new Float32Array([10, 20, -24, 1, 0, 0, 0, 2]); // (x, y, z, size) × 2
  const { positions, cells } = expandMesh(mesh, inst);
  assert.deepEqual(Array.from(positions), [9.5, 19.5, -24, 10.5, 20.5, -24, -1, -1, 0, 1, 1, 0]);
  assert.deepEqual(Array.from(cells), [-0.5, -0.5, 1, 0.5, 0.5, 1, -0.5, -0.5, 2, 0.5, 0.5, 2]);
});

test("expandColors repeats each unit's RGBA for each of its vertices, in order", () => {
  const rgba = new Uint8Array([1, 2, 3, 255, 9, 8, 7, 128]);
  assert.deepEqual(Array.from(expandColors(rgba, 3)),
    [1, 2, 3, 255, 1, 2, 3, 255, 1, 2, 3, 255, 9, 8, 7, 128, 9, 8, 7, 128, 9, 8, 7, 128]);
  const out = new Uint8Array(16).fill(0);
  assert.equal(expandColors(rgba.subarray(4), 4, out), out, "writes into the buffer it is given");
  assert.deepEqual(Array.from(out.subarray(12)), [9, 8, 7, 128]);
});
