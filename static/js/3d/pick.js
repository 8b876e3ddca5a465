// Screen point -> ray -> exact unit, and a unit's connection lines. Pure: no DOM, no WebGL.
//
// Units are flat squares lying in their stage's plane (z = const), so a ray meets each plane
// at one point and planeUnitAt names the square there exactly; the nearest plane with a square
// under the point wins, which is also what the depth test draws on top. Rays are built in
// float64 from the camera itself (not by unprojecting through a float32 matrix), so picking
// stays exact at grazing angles where the ray meets a plane far from the eye.
import { add, cross, normalize, scale, sub } from "./math.js";
import { eyeOf, FOVY } from "./camera.js";
import { planeUnitAt, resolve, unitCenter } from "./layout3d.js";
import { offset, windowUnits } from "../tensor.js";

// Ray through CSS pixel (px, py) of a width × height viewport: {origin, dir} with |dir| = 1.
export function rayFromCamera(cam, px, py, width, height) {
  const eye = eyeOf(cam);
  const forward = normalize(sub(cam.target, eye));
  const right = normalize(cross(forward, [0, 1, 0]));
  const up = cross(right, forward);
  const h = Math.tan(FOVY / 2);
  const nx = ((2 * px) / width - 1) * h * (width / height);
  const ny = (1 - (2 * py) / height) * h;
  return { origin: eye, dir: normalize(add(forward, add(scale(right, nx), scale(up, ny)))) };
}

// Nearest unit hit by the ray: {name, unit, index, t, point} or null.
export function pickUnit(layout, ray) {
  const { origin, dir } = ray;
  if (dir[2] === 0) return null; // parallel to every plane: the squares have no thickness
  let best = null;
  for (const plane of layout.planes) {
    const t = (plane.z - origin[2]) / dir[2];
    if (!(t > 0) || (best && t >= best.t)) continue;
    const x = origin[0] + t * dir[0];
    const y = origin[1] + t * dir[1];
    const unit = planeUnitAt(plane, x, y);
    if (unit) best = { name: plane.name, unit, index: plane.start + offset(plane.shape, unit), t, point: [x, y, plane.z] };
  }
  return best;
}

// Harley's connection lines: from the unit's centre to the centre of every unit of its
// source window (for conv2, the 5×5 window in each of pool1's 6 maps). The window is tensor.js's
// sourceWindow (or explain's source.window); units of stages sharing a plane (flatten, folded
// activations) land on the plane drawn in their place.
// `maps`: when a connection table limits a conv unit to some input maps (connections.js
// connectedMaps), only lines to those maps. Returns {segments: Float32Array (6 floats per line),
// indices: instance indices of the ends}.
export function windowLines(layout, name, unit, sourceName, window, maps = null) {
  const from = unitCenter(layout, name, unit);
  const units = from ? windowUnits(window) : [];
  const segments = new Float32Array(units.length * 6);
  const indices = [];
  let n = 0;
  for (const u of units) {
    if (maps && !maps.includes(u[0])) continue;
    const r = resolve(layout, sourceName, u);
    if (!r) continue;
    const to = unitCenter(layout, sourceName, u);
    segments.set(from, n * 6);
    segments.set(to, n * 6 + 3);
    indices.push(r.plane.start + offset(r.plane.shape, r.unit));
    n++;
  }
  return { segments: segments.subarray(0, n * 6), indices };
}
