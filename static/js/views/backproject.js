// Back-projection: the focused unit's receptive field outlined on the drawing (pad overlay)
// and on the input thumbnail of the preprocessing strip.
// renderBackProjection(padOverlay, state, drawing) with drawing = {width, height} of the image
// that was sent (its crop box is in those pixels).

import { receptiveField } from "../tensor.js";
import { inputToDrawing } from "../preprocessing.js";
import { focusUnit } from "../state.js";
import { outlineInput } from "./prep.js";

const FOCUS = "#b57bff";   // light purple: visible on the black pad, distinct from the ink

// Overlays with an outline on them: an empty one is not cleared again on every stroke update
// (a cleared canvas is a new frame for the compositor to take).
const outlined = new WeakSet();

export function renderBackProjection(padOverlay, state, drawing) {
  const ctx = padOverlay.getContext("2d");
  if (outlined.has(padOverlay)) ctx.clearRect(0, 0, padOverlay.width, padOverlay.height);
  outlined.delete(padOverlay);
  const f = focusUnit(state);
  const stages = state.trace?.layers;
  if (!f || !stages || !drawing) { outlineInput(null); return; }
  const rf = receptiveField(stages, f.layer, f.unit).slice(-2);   // [[y0, y1], [x0, x1]] on the input
  outlineInput(rf, stages[0].shape[stages[0].shape.length - 1]);
  const toDrawing = inputToDrawing(state.trace.preprocessing);
  if (!toDrawing) return;
  const d = toDrawing(rf);
  const kx = padOverlay.width / drawing.width, ky = padOverlay.height / drawing.height;
  // Clipped to the pad: a field larger than the drawing (every dense unit's) outlines all of it.
  const m = 2;
  const x0 = Math.max(m, d.x * kx), y0 = Math.max(m, d.y * ky);
  const x1 = Math.min(padOverlay.width - m, (d.x + d.w) * kx), y1 = Math.min(padOverlay.height - m, (d.y + d.h) * ky);
  if (x1 <= x0 || y1 <= y0) return;
  const r = { x: x0 / kx, y: y0 / ky, w: (x1 - x0) / kx, h: (y1 - y0) / ky };
  ctx.setLineDash([8, 5]);
  ctx.lineWidth = 3;
  ctx.strokeStyle = FOCUS;
  ctx.strokeRect(r.x * kx, r.y * ky, r.w * kx, r.h * ky);
  ctx.setLineDash([]);
  outlined.add(padOverlay);
}
