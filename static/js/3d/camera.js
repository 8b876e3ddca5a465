// Orbit camera: a target point, a distance and two angles. Pure: no DOM, time is passed in.
//
// yaw 0, pitch 0 puts the eye on +z looking down −z at the input plane (the "front" view);
// yaw turns around the world's y axis, pitch lifts the eye above the stack. Angles, not a
// free rotation matrix, so "up" stays up and presets interpolate without flipping.
import { add, cross, lerp, lerp3, lookAt, multiply, normalize, perspective, scale, sub, transform4 } from "./math.js";

export const FOVY = Math.PI / 6; // narrow: less perspective distortion of the near planes
const MAX_PITCH = Math.PI / 2 - 0.02; // just short of straight down, where yaw degenerates
const TRANSITION_MS = 450;

export function eyeOf(cam) {
  const cp = Math.cos(cam.pitch);
  const dir = [cp * Math.sin(cam.yaw), Math.sin(cam.pitch), cp * Math.cos(cam.yaw)];
  return add(cam.target, scale(dir, cam.distance));
}

export function viewMatrix(cam) {
  return lookAt(eyeOf(cam), cam.target, [0, 1, 0]);
}

export function projectionMatrix(cam, aspect) {
  // near/far follow the distance so depth precision stays good when zoomed in or out
  return perspective(FOVY, aspect, Math.max(0.05, cam.distance / 200), cam.distance * 4 + 2000);
}

export function viewProjection(cam, aspect) {
  return multiply(projectionMatrix(cam, aspect), viewMatrix(cam));
}

// Presets framing the whole stack. bounds: {min, max, center} from layout3D; aspect: width/height;
// points: what must be in frame (the planes' corners; the bounding box's corners by default,
// which wastes space when wide and narrow planes alternate).
export function presets(bounds, aspect = 1.6, points = boxCorners(bounds)) {
  const sphere = Math.hypot(...sub(bounds.max, bounds.min)) / 2;
  const base = { target: bounds.center.slice(), minDistance: 2, maxDistance: sphere * 8 };
  const framed = (yaw, pitch) => {
    let cam = { ...base, yaw, pitch, distance: 1 };
    // Fit, then slide the target so the projected points sit centred (perspective makes the
    // near planes loom, so the box centre alone frames them off-centre), then fit again.
    for (let pass = 0; pass < 3; pass++) {
      cam = { ...cam, distance: fitDistance(cam, points, aspect) };
      const [cx, cy] = projectedCentre(cam, points, aspect);
      const half = cam.distance * Math.tan(FOVY / 2);
      const forward = normalize(sub(cam.target, eyeOf(cam)));
      const right = normalize(cross(forward, [0, 1, 0]));
      const up = cross(right, forward);
      cam = { ...cam, target: add(cam.target, add(scale(right, cx * half * aspect), scale(up, cy * half))) };
    }
    return { ...cam, distance: fitDistance(cam, points, aspect) };
  };
  return {
    // the input plane faces the student; later stages recede behind it
    front: framed(0, 0),
    // mostly from +x, slightly above: the stack reads left (input) to right (outputs)
    side: framed(1.05, 0.3),
    // three-quarter view from above, like Harley's 3D demo
    overview: framed(0.9, 0.45),
  };
}

// Centre of the points' projected bounding box, in normalised device coordinates.
function projectedCentre(cam, points, aspect) {
  const vp = viewProjection(cam, aspect);
  const lo = [Infinity, Infinity];
  const hi = [-Infinity, -Infinity];
  for (const p of points) {
    const [x, y, , w] = transform4(vp, [p[0], p[1], p[2], 1]);
    for (const [d, v] of [[0, x / w], [1, y / w]]) { lo[d] = Math.min(lo[d], v); hi[d] = Math.max(hi[d], v); }
  }
  return [(lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2];
}

function boxCorners(bounds) {
  const corners = [];
  for (const x of [bounds.min[0], bounds.max[0]]) for (const y of [bounds.min[1], bounds.max[1]])
    for (const z of [bounds.min[2], bounds.max[2]]) corners.push([x, y, z]);
  return corners;
}

// Smallest distance at which every point projects inside the frame (with a margin), found by
// bisection: "fits" only gets easier as the camera backs away along its view axis.
export function fitDistance(cam, points, aspect, margin = 0.9) {
  const fits = (distance) => {
    const vp = viewProjection({ ...cam, distance }, aspect);
    return points.every((p) => {
      const [x, y, , w] = transform4(vp, [p[0], p[1], p[2], 1]);
      return w > 0 && Math.abs(x / w) <= margin && Math.abs(y / w) <= margin;
    });
  };
  let lo = 0.1;
  let hi = cam.maxDistance ?? 1e4;
  for (let i = 0; i < 40; i++) {
    const mid = Math.sqrt(lo * hi);
    if (fits(mid)) hi = mid; else lo = mid;
  }
  return hi;
}

export function orbit(cam, dxPx, dyPx) {
  const k = 0.008; // radians per CSS pixel: a 400 px drag turns about 180°
  return { ...cam, yaw: cam.yaw - dxPx * k, pitch: clamp(cam.pitch + dyPx * k, -MAX_PITCH, MAX_PITCH) };
}

// factor < 1 moves closer.
export function zoom(cam, factor) {
  const lo = cam.minDistance ?? 1;
  const hi = cam.maxDistance ?? 1e4;
  return { ...cam, distance: clamp(cam.distance * factor, lo, hi) };
}

// Drag the scene by (dx, dy) CSS pixels: the point under the pointer at the target's depth
// follows the pointer, so panning feels the same at any zoom.
export function pan(cam, dxPx, dyPx, viewportHeight) {
  const perPx = (2 * cam.distance * Math.tan(FOVY / 2)) / viewportHeight;
  const forward = normalize(sub(cam.target, eyeOf(cam)));
  const right = normalize(cross(forward, [0, 1, 0]));
  const up = cross(right, forward);
  const move = add(scale(right, -dxPx * perPx), scale(up, dyPx * perPx));
  return { ...cam, target: add(cam.target, move) };
}

// The camera with its target moved into the box `bounds` ({min, max}), grown by `margin` of
// its size on each axis (the presets slide their target a little off-centre to frame the
// planes' projection): panning slides the target, and a target far outside the stack turns
// every orbit into a swing that throws the stack off screen. Inside, the point the camera
// turns about is always on or beside the stack.
export function clampTarget(cam, bounds, margin = 0.1) {
  const target = cam.target.map((v, a) => {
    const pad = margin * (bounds.max[a] - bounds.min[a]);
    return clamp(v, bounds.min[a] - pad, bounds.max[a] + pad);
  });
  return target.every((v, a) => v === cam.target[a]) ? cam : { ...cam, target };
}

// Camera between a (t = 0) and b (t = 1): distance in log space so zooming feels even,
// yaw the short way round.
export function interpolate(a, b, t) {
  let dyaw = (b.yaw - a.yaw) % (2 * Math.PI);
  if (dyaw > Math.PI) dyaw -= 2 * Math.PI;
  if (dyaw < -Math.PI) dyaw += 2 * Math.PI;
  return {
    ...b,
    target: lerp3(a.target, b.target, t),
    distance: Math.exp(lerp(Math.log(a.distance), Math.log(b.distance), t)),
    yaw: a.yaw + dyaw * t,
    pitch: lerp(a.pitch, b.pitch, t),
  };
}

export const ease = (t) => (t <= 0 ? 0 : t >= 1 ? 1 : t * t * (3 - 2 * t));

export function startTransition(from, to, now, duration = TRANSITION_MS) {
  return { from, to, start: now, duration };
}

// Camera at time `now` and whether the transition has finished.
export function transitionAt(tr, now) {
  const t = tr.duration > 0 ? (now - tr.start) / tr.duration : 1;
  return { camera: t >= 1 ? tr.to : interpolate(tr.from, tr.to, ease(t)), done: t >= 1 };
}

const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v));
