// Orbit camera: a target point, a distance and two angles. Pure: no DOM, time is passed in.
//
// yaw 0, pitch 0 puts the eye on +z looking down −z at the input plane (the "front" view);
// yaw turns around the world's y axis, pitch lifts the eye above the stack. Angles, not a
// free rotation matrix, so "up" stays up and presets interpolate without flipping.
import { add, cross, lerp, lerp3, lookAt, multiply, normalize, perspective, scale, sub } from "./math.js";

export const FOVY = Math.PI / 4;
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

// Presets framing the whole stack. bounds: {min, max, center} from layout3D.
export function presets(bounds) {
  const ext = sub(bounds.max, bounds.min);
  const radius = Math.hypot(ext[0], ext[1], ext[2]) / 2;
  const fit = (r) => (r / Math.sin(FOVY / 2)) * 0.85; // distance that shows a sphere of radius r
  const frontR = Math.hypot(ext[0], ext[1]) / 2;
  const base = { target: bounds.center.slice(), minDistance: 2, maxDistance: fit(radius) * 4 };
  return {
    // the input plane faces the student; later stages recede behind it
    front: { ...base, yaw: 0, pitch: 0, distance: fit(frontR) + ext[2] / 2 },
    // from +x, slightly above: the stack reads left (input) to right (outputs)
    side: { ...base, yaw: Math.PI / 2, pitch: 0.2, distance: fit(Math.hypot(ext[1], ext[2]) / 2) },
    // three-quarter view from above, like Harley's 3D demo
    overview: { ...base, yaw: 0.75, pitch: 0.45, distance: fit(radius) },
  };
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
