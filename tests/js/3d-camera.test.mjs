// Matrices and the orbit camera: checked by what they do to points, not by their entries.
import test from "node:test";
import assert from "node:assert/strict";
import { identity, invert, lookAt, multiply, perspective, project, transform4 } from "../../static/js/3d/math.js";
import { eyeOf, interpolate, orbit, pan, presets, startTransition, transitionAt, viewProjection, zoom } from "../../static/js/3d/camera.js";

const close = (a, b, tol, msg) => a.forEach((v, i) => assert.ok(Math.abs(v - b[i]) < tol, `${msg}: ${[...a]} vs ${[...b]}`));

test("invert undoes a view-projection, multiply composes in order", () => {
  const m = multiply(perspective(0.9, 1.5, 0.5, 900), lookAt([30, 20, 70], [1, -2, -40], [0, 1, 0]));
  close(multiply(invert(m), m), identity(), 2e-3, "inv·m = I (float32 entries)");
  const t = identity(); t[12] = 5; // translate x by 5
  const s = identity(); s[0] = 2; // scale x by 2
  close(transform4(multiply(t, s), [1, 0, 0, 1]), [7, 0, 0, 1], 1e-6, "scale first, then translate");
  assert.equal(invert(new Float32Array(16)), null, "singular");
});

test("lookAt puts the eye at the origin and the target straight ahead on −z", () => {
  const v = lookAt([3, 4, 5], [3, 4, -5], [0, 1, 0]);
  close(transform4(v, [3, 4, 5, 1]), [0, 0, 0, 1], 1e-6, "eye");
  close(transform4(v, [3, 4, -5, 1]), [0, 0, -10, 1], 1e-6, "target");
  close(transform4(v, [4, 4, 5, 1]), [1, 0, 0, 1], 1e-6, "world +x stays to the right");
});

test("the front preset looks at the stack centre with the input facing the viewer", () => {
  const bounds = { min: [-100, -25, -288], max: [100, 25, 0], center: [0, 0, -144] };
  const { front, side, overview } = presets(bounds);
  const vp = viewProjection(front, 1.6);
  const c = project(vp, bounds.center, 800, 500);
  close([c.x, c.y], [400, 250], 1e-3, "centre on screen");
  const right = project(vp, [50, 0, 0], 800, 500);
  assert.ok(right.x > 400, "+x appears on the right");
  assert.ok(eyeOf(front)[2] > 0, "eye in front of the input plane");
  assert.ok(eyeOf(side)[0] > 0 && eyeOf(overview)[1] > 0);
  // every corner of the bounds is on screen in each preset
  for (const cam of [front, side, overview]) {
    const vpc = viewProjection(cam, 1.6);
    for (const x of [-100, 100]) for (const y of [-25, 25]) for (const z of [-288, 0]) {
      const p = project(vpc, [x, y, z], 800, 500);
      assert.ok(p && p.x >= 0 && p.x <= 800 && p.y >= 0 && p.y <= 500, `corner ${[x, y, z]} off screen`);
    }
  }
});

test("orbit, zoom and pan move the camera as a student expects", () => {
  const cam = { target: [0, 0, 0], distance: 100, yaw: 0, pitch: 0, minDistance: 10, maxDistance: 400 };
  const turned = orbit(cam, -100, 0);
  assert.ok(eyeOf(turned)[0] > 0, "dragging left swings the eye to +x");
  assert.ok(orbit(cam, 0, 1e5).pitch < Math.PI / 2, "pitch clamps short of the pole");
  assert.equal(zoom(cam, 0.5).distance, 50);
  assert.equal(zoom(cam, 1e-3).distance, 10, "zoom clamps");
  // after panning by (dx, dy) px the point that was under the screen centre is under
  // centre + (dx, dy): the scene follows the pointer
  const moved = pan(cam, 40, -30, 500);
  const p = project(viewProjection(moved, 1.6), [0, 0, 0], 800, 500);
  close([p.x, p.y], [440, 220], 1e-2, "panned point");
});

test("transitions interpolate smoothly, the short way round, and end exactly on the preset", () => {
  const a = { target: [0, 0, 0], distance: 10, yaw: 3, pitch: 0 };
  const b = { target: [10, 0, 0], distance: 1000, yaw: -3, pitch: 1 };
  const mid = interpolate(a, b, 0.5);
  assert.ok(Math.abs(mid.distance - 100) < 1e-9, "geometric mean of distances");
  assert.ok(Math.abs(mid.yaw - Math.PI) < 1e-9, "yaw passes through π, not 0");
  const tr = startTransition(a, b, 1000, 400);
  assert.deepEqual(transitionAt(tr, 1000).camera.target, [0, 0, 0]);
  assert.equal(transitionAt(tr, 1200).done, false);
  const end = transitionAt(tr, 1400);
  assert.ok(end.done);
  assert.equal(end.camera, b);
});

test("no drag pushes the stack out of view: the orbit target stays in the stack's box", async () => {
  const { clampTarget } = await import("../../static/js/3d/camera.js");
  const { layout3D, planeCorners } = await import("../../static/js/3d/layout3d.js");
  const { STAGES } = await import("./reference_stages.mjs");
  const layout = layout3D(STAGES, { foldActivations: true, classes: null });
  const { bounds } = layout;
  const aspect = 1280 / 335, W = 1280, H = 335;
  const views = presets(bounds, aspect, planeCorners(layout));
  for (const [name, cam] of Object.entries(views)) {
    assert.equal(clampTarget(cam, bounds), cam, `${name}: a preset's own target is kept as is`);
    // One long drag each way (pan), then a half turn (orbit): the stack stays on screen.
    for (const [dx, dy] of [[5000, 0], [-5000, 0], [0, 4000], [0, -4000], [3000, 3000]]) {
      const free = orbit(pan(cam, dx, dy, H), 400, 0);
      const held = orbit(clampTarget(pan(cam, dx, dy, H), bounds), 400, 0);
      const visible = (c) => planeCorners(layout).some((p) => {
        const s = project(viewProjection(c, aspect), p, W, H);
        return s && s.depth < 1 && s.x >= 0 && s.x <= W && s.y >= 0 && s.y <= H;
      });
      assert.ok(!visible(free), `${name} ${dx},${dy}: without the clamp the stack leaves the view (the test can fail)`);
      assert.ok(visible(held), `${name} ${dx},${dy}: with it some of the stack stays in view`);
      held.target.forEach((v, a) => {
        const pad = 0.1 * (bounds.max[a] - bounds.min[a]);
        assert.ok(v >= bounds.min[a] - pad - 1e-9 && v <= bounds.max[a] + pad + 1e-9, `${name} axis ${a}: ${v}`);
      });
    }
  }
});
