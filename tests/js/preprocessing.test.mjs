import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { centreOfMass, inputToDrawing } from "../../static/js/preprocessing.js";

test("centre of mass of a block is its middle; blank has none", () => {
  const v = new Float32Array(16);
  v[5] = v[6] = v[9] = v[10] = 1;   // rows 1-2, cols 1-2 of 4×4
  assert.deepEqual(centreOfMass(v, [4, 4]), [1.5, 1.5]);
  assert.equal(centreOfMass(new Float32Array(4), [2, 2]), null);
});

test("an input rectangle maps back onto the drawing through crop, fit and centring", () => {
  // A 40×200 stroke at x 100..140, y 40..240 of the drawing: scaled by 0.1 to 4×20, centred in
  // the 20×20 box at columns 8..12, then shifted so its centre of mass lands on (14, 14).
  const fitted = new Float32Array(400);
  for (let y = 0; y < 20; y++) for (let x = 8; x < 12; x++) fitted[y * 20 + x] = 1;
  const pre = {
    crop_box: [100, 40, 140, 240], centre_of_mass: [14, 14],
    steps: [{ name: "fitted", shape: [20, 20], values: fitted },
      { name: "centred", shape: [28, 28], values: new Float32Array(784) },
      { name: "input", shape: [32, 32], values: new Float32Array(1024) }],
  };
  const toDrawing = inputToDrawing(pre);
  // In the 28×28 field the stroke spans rows 4.5..24.5 and columns 12.5..16.5; +2 on the input.
  const r = toDrawing([[6.5, 26.5], [14.5, 18.5]]);
  for (const [k, want] of Object.entries({ x: 100, y: 40, w: 40, h: 200 })) assert.ok(Math.abs(r[k] - want) < 1e-9, `${k} ${r[k]}`);
  assert.equal(inputToDrawing({ ...pre, crop_box: null }), null, "a blank drawing has no mapping");
});

test("the engine's own preprocessing: the input's centre of mass maps onto the drawing's", () => {
  const fixture = JSON.parse(readFileSync(new URL("./fixtures/provenance.json", import.meta.url), "utf8")).preprocessing;
  const toDrawing = inputToDrawing(fixture);
  const [iy, ix] = fixture.input_com;
  // Pixel index coordinates: the centre of pixel i is at i + 0.5 in edge coordinates.
  const r = toDrawing([[iy + 0.5, iy + 0.5], [ix + 0.5, ix + 0.5]]);
  const [dy, dx] = fixture.drawing_com;
  // One input pixel is ~9 drawing pixels here; the 8-bit rounding of the steps moves it < 0.5.
  assert.ok(Math.abs(r.y - (dy + 0.5)) < 1.5, `y ${r.y} vs ${dy + 0.5}`);
  assert.ok(Math.abs(r.x - (dx + 0.5)) < 1.5, `x ${r.x} vs ${dx + 0.5}`);
});
