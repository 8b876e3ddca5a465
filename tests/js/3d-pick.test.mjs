// Picking and connection lines, checked against brute force and the layer geometry.
import test from "node:test";
import assert from "node:assert/strict";
import { layout3D, unitCenter, unitIndex } from "../../static/js/3d/layout3d.js";
import { pickUnit, rayFromCamera, windowLines } from "../../static/js/3d/pick.js";
import { sourceWindow as tensorWindow, unravel, windowUnits } from "../../static/js/tensor.js";
import { eyeOf, presets, viewProjection } from "../../static/js/3d/camera.js";
import { invert, normalize, project, sub, transform4 } from "../../static/js/3d/math.js";
import { STAGES } from "./reference_stages.mjs";

// The reference net's record (shapes as /api/model reports them), shared by the JS tests.
const LAYERS = STAGES;
const W = 800;
const H = 500;

// Independent reference: test the ray against every square of every unit, keep the nearest.
function bruteForce(layout, { origin, dir }) {
  let best = null;
  const p = layout.positions;
  for (let i = 0; i < layout.count; i++) {
    const t = (p[i * 4 + 2] - origin[2]) / dir[2];
    if (!(t > 0)) continue;
    const half = p[i * 4 + 3] / 2;
    const x = origin[0] + t * dir[0];
    const y = origin[1] + t * dir[1];
    if (Math.abs(x - p[i * 4]) <= half && Math.abs(y - p[i * 4 + 1]) <= half && (!best || t < best.t)) best = { index: i, t };
  }
  return best;
}

// Deterministic pseudo-random numbers so a failure reproduces.
function rng(seed) {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

test("the ray through a unit's projected centre hits that unit, also at grazing angles", () => {
  const layout = layout3D(LAYERS, { foldActivations: false });
  const rand = rng(7);
  for (let trial = 0; trial < 300; trial++) {
    const plane = layout.planes[Math.floor(rand() * layout.planes.length)];
    const unit = unravel(plane.shape, Math.floor(rand() * plane.count));
    const centre = unitCenter(layout, plane.name, unit);
    // Eye in front of the unit's plane but nearer than the next plane, so nothing occludes;
    // yaw up to 86° from the plane's normal: the ray meets the plane at 4° or more.
    const yaw = (rand() * 2 - 1) * 1.5;
    const pitch = (rand() * 2 - 1) * 0.3;
    const cam = { target: [centre[0] + rand() * 4 - 2, centre[1] + rand() * 4 - 2, centre[2]],
      yaw, pitch, distance: 6 + rand() * 6 };
    if (eyeOf(cam)[2] <= centre[2] || eyeOf(cam)[2] >= centre[2] + 24) continue;
    const s = project(viewProjection(cam, W / H), centre, W, H);
    const hit = pickUnit(layout, rayFromCamera(cam, s.x, s.y, W, H));
    assert.ok(hit, `trial ${trial}: ${plane.name} ${unit} missed (yaw ${yaw.toFixed(3)})`);
    assert.deepEqual([hit.name, hit.unit], [plane.name, unit], `trial ${trial}, yaw ${yaw.toFixed(3)}`);
  }
});

test("picking matches brute force over every unit, from presets and grazing side views", () => {
  const layout = layout3D(LAYERS);
  const views = presets(layout.bounds);
  const rand = rng(11);
  const cams = [views.front, views.side, views.overview,
    { ...views.side, yaw: Math.PI / 2 - 0.01, pitch: 0.005 }, // almost edge-on to every plane
    { ...views.overview, distance: views.overview.distance / 3 }];
  let hits = 0;
  for (const cam of cams) {
    const vp = viewProjection(cam, W / H);
    for (let k = 0; k < 60; k++) {
      // half the rays anywhere on screen, half near a random unit (most of the frame is empty)
      let [px, py] = [rand() * W, rand() * H];
      if (k % 2) {
        const i = Math.floor(rand() * layout.count);
        const s = project(vp, Array.from(layout.positions.subarray(i * 4, i * 4 + 3)), W, H);
        if (s) [px, py] = [s.x + rand() * 2 - 1, s.y + rand() * 2 - 1];
      }
      const ray = rayFromCamera(cam, px, py, W, H);
      const fast = pickUnit(layout, ray);
      const slow = bruteForce(layout, ray);
      assert.equal(fast ? fast.index : null, slow ? slow.index : null);
      if (fast) hits++;
    }
  }
  assert.ok(hits > 100, `only ${hits} rays hit a unit: the comparison would be vacuous`);
});

test("rays built from the camera agree with unprojecting through the inverse matrix", () => {
  const layout = layout3D(LAYERS);
  const cam = presets(layout.bounds).overview;
  const inv = invert(viewProjection(cam, W / H));
  for (const [px, py] of [[0, 0], [400, 250], [799, 13], [123, 456]]) {
    const ndc = [(2 * px) / W - 1, 1 - (2 * py) / H];
    const a = transform4(inv, [...ndc, -1, 1]);
    const b = transform4(inv, [...ndc, 1, 1]);
    const near = a.slice(0, 3).map((v) => v / a[3]);
    const far = b.slice(0, 3).map((v) => v / b[3]);
    const dir = normalize(sub(far, near));
    const ray = rayFromCamera(cam, px, py, W, H);
    for (let d = 0; d < 3; d++) assert.ok(Math.abs(dir[d] - ray.dir[d]) < 1e-4, `${dir} vs ${ray.dir}`);
  }
});

test("misses return null", () => {
  const layout = layout3D(LAYERS);
  const cam = presets(layout.bounds).front;
  assert.equal(pickUnit(layout, { origin: [0, 0, 50], dir: [0, 0, 1] }), null, "pointing away");
  assert.equal(pickUnit(layout, { origin: [0, 0, 50], dir: [1, 0, 0] }), null, "parallel to the planes");
  assert.equal(pickUnit(layout, { origin: [1000, 1000, 50], dir: [0, 0, -1] }), null, "beside the stack");
  assert.equal(pickUnit(layout, rayFromCamera(cam, 0, 0, W, H)), null, "the frame's corner is empty");
  // straight down the axis between conv1's maps 0 and 1 and the other planes' gaps
  const a = unitCenter(layout, "conv1", [0, 0, 27]);
  const b = unitCenter(layout, "conv1", [1, 0, 0]);
  const hit = pickUnit(layout, { origin: [(a[0] + b[0]) / 2, 200, 10], dir: [0, 0, -1] });
  assert.equal(hit, null, "above every plane");
});

// Source window of a unit, written out from the layer definitions (independent of the code).
function sourceWindow(layer, prev, unit) {
  if (layer.kind === "conv") {
    const [, y, x] = unit;
    const o = (v) => v * layer.stride - layer.padding;
    return [[0, prev.shape[0]], [o(y), o(y) + layer.kernel], [o(x), o(x) + layer.kernel]];
  }
  if (layer.kind === "pool") {
    const [c, y, x] = unit;
    return [[c, c + 1], [y * layer.stride, y * layer.stride + layer.window], [x * layer.stride, x * layer.stride + layer.window]];
  }
  if (layer.kind === "dense" || layer.kind === "softmax") return [[0, prev.shape[0]]];
  return unit.map((u) => [u, u + 1]);
}

test("window lines run from the unit to the centre of every unit of its source window", () => {
  for (const foldActivations of [false, true]) {
    const layout = layout3D(LAYERS, { foldActivations });
    const byName = Object.fromEntries(LAYERS.map((l, i) => [l.name, i]));
    const cases = [["conv2", [3, 4, 5]], ["conv1", [0, 27, 0]], ["pool1", [5, 13, 2]], ["relu2", [1, 2, 3]],
      ["fc1", [119]], ["fc2", [0]], ["softmax", [4]], ["pool2", [15, 4, 4]]];
    for (const [name, unit] of cases) {
      const i = byName[name];
      const layer = LAYERS[i];
      const prev = LAYERS[i - 1];
      const window = sourceWindow(layer, prev, unit);
      assert.deepEqual(tensorWindow(LAYERS, name, unit), { layer: prev.name, window }, `${name}: tensor.js agrees`);
      const { segments, indices } = windowLines(layout, name, unit, prev.name, window);
      const expected = windowUnits(window);
      assert.equal(indices.length, expected.length, `${name}: one line per source unit`);
      const from = unitCenter(layout, name, unit).map(Math.fround);
      expected.forEach((u, k) => {
        assert.deepEqual(Array.from(segments.subarray(k * 6, k * 6 + 3)), from);
        const to = unitCenter(layout, prev.name, u).map(Math.fround);
        assert.deepEqual(Array.from(segments.subarray(k * 6 + 3, k * 6 + 6)), to, `${name} -> ${prev.name} ${u}`);
        assert.equal(indices[k], unitIndex(layout, prev.name, u));
      });
    }
    // conv2 reads a 5×5 window in each of pool1's 6 maps: 150 lines, to 6 maps' squares
    const lines = windowLines(layout, "conv2", [3, 4, 5], "pool1", [[0, 6], [4, 9], [5, 10]]);
    assert.equal(lines.indices.length, 150);
    const pool1 = layout.byName.get("pool1");
    const maps = new Set(lines.indices.map((ix) => Math.floor((ix - pool1.start) / 196)));
    assert.deepEqual([...maps].sort(), [0, 1, 2, 3, 4, 5]);
    // with LeCun's connection table a conv2 unit reads only its filter's maps (here 0, 4, 5)
    const c3 = windowLines(layout, "conv2", [3, 4, 5], "pool1", [[0, 6], [4, 9], [5, 10]], [0, 4, 5]);
    assert.equal(c3.indices.length, 75);
    assert.deepEqual([...new Set(c3.indices.map((ix) => Math.floor((ix - pool1.start) / 196)))], [0, 4, 5]);
    // fc1 reads flatten, which is drawn as pool2: its 400 lines end on pool2's squares
    const fc1 = windowLines(layout, "fc1", [7], "flatten", [[0, 400]]);
    const pool2 = layout.byName.get("pool2");
    assert.ok(fc1.indices.every((ix, k) => ix === pool2.start + k));
  }
});
