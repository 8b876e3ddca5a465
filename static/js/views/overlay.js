// The network view's highlight layer: the focused unit, its source window in the stage below,
// Harley's connecting lines and the receptive field on the input. Geometry only (tensor.js and
// layout.js), so it is drawn the moment the pointer lands, before any numbers arrive.

import { sourceWindow, receptiveField, unravel, size } from "../tensor.js";
import { unitRect, windowRects, mapRect } from "../layout.js";
import { connectedMaps } from "../connections.js";

const OUTLINE = "#111";
const HALO = "#fff";
const FOCUS = "#7b2cbf";   // receptive field and keyboard focus: distinct from blue and orange
const LINE = "rgba(17,17,17,0.35)";
const UNREAD = "rgba(250,250,250,0.78)";   // veils the maps a connection table leaves out

// A window in stage `shape` coordinates -> the same units in the column's shape (only flatten,
// drawn as pool2, differs: its flat ranges become their bounding box in the map shape).
export function windowInColumn(window, shape, colShape) {
  if (shape.length === colShape.length && shape.every((n, a) => n === colShape[a])) return window;
  const [i0, i1] = window[0];
  if (i1 - i0 === size(shape)) return colShape.map((n) => [0, n]);
  const lo = unravel(colShape, i0);
  const hi = unravel(colShape, i1 - 1);
  if (i1 - i0 === 1) return lo.map((u) => [u, u + 1]);
  return colShape.map((n, a) => [Math.min(lo[a], hi[a]), Math.max(lo[a], hi[a]) + 1]);
}

function outline(ctx, r, width = 2, color = OUTLINE) {
  ctx.lineWidth = width + 2;
  ctx.strokeStyle = HALO;
  ctx.strokeRect(r.x - 1, r.y - 1, r.w + 2, r.h + 2);
  ctx.lineWidth = width;
  ctx.strokeStyle = color;
  ctx.strokeRect(r.x - 1, r.y - 1, r.w + 2, r.h + 2);
}

// view: the network view's {layout, index, stages, byName}; focus: {layer, unit, column?};
// explanation: the matching /api/explain answer or null (adds the pool winner mark).
export function paintOverlay(ctx, view, focus, explanation, { keyboard = false, pinned = false } = {}) {
  const { layout, index, stages, byName } = view;
  const at = index.get(focus.layer);
  if (!at) return;
  const col = layout.columns[at.column];
  const ur = unitRect(col, at.toUnit(focus.unit));

  const found = sourceWindow(stages, focus.layer, focus.unit);
  // The input is its own source; on the phone the stage below is not on screen (offscreen).
  const src = found && found.layer !== focus.layer && !layout.columns[index.get(found.layer)?.column]?.offscreen ? found : null;
  if (src) {
    const sat = index.get(src.layer);
    const scol = layout.columns[sat.column];
    const win = windowInColumn(src.window, byName.get(src.layer).shape, scol.shape);
    // With a connection table (Harley's conv2) the unit reads only some maps: only those light
    // up, the others are veiled, so the sparse wiring is visible at a glance.
    const reads = connectedMaps(byName.get(focus.layer), focus.unit);
    const rects = windowRects(scol, win).filter((r) => !reads || reads.includes(r.c));
    if (reads && scol.type === "maps") {
      ctx.fillStyle = UNREAD;
      for (let c = 0; c < scol.shape[0]; c++) {
        if (reads.includes(c)) continue;
        const m = mapRect(scol, c);
        ctx.fillRect(m.x, m.y, m.w, m.h);
      }
    }
    ctx.strokeStyle = LINE;
    ctx.lineWidth = 1;
    ctx.beginPath();
    const fan = scol.type !== "maps" && win[0][1] - win[0][0] <= 200;
    if (fan) {
      // Dense: one line per input, as in Harley's view.
      for (let i = win[0][0]; i < win[0][1]; i++) {
        const r = unitRect(scol, [i]);
        ctx.moveTo(r.x + r.w, r.y + r.h / 2);
        ctx.lineTo(ur.x, ur.y + ur.h / 2);
      }
    } else {
      for (const r of rects) {
        ctx.moveTo(r.x + r.w, r.y);
        ctx.lineTo(ur.x, ur.y);
        ctx.moveTo(r.x + r.w, r.y + r.h);
        ctx.lineTo(ur.x, ur.y + ur.h);
      }
    }
    ctx.stroke();
    for (const r of rects) outline(ctx, r, 2);
    const argmax = explanation && explanation.layer === focus.layer && explanation.argmax;
    if (argmax && sameArray(explanation.unit, focus.unit)) {
      const w = unitRect(scol, sat.toUnit(argmax));
      ctx.fillStyle = OUTLINE;
      ctx.beginPath();
      ctx.arc(w.x + w.w / 2, w.y + w.h / 2, Math.max(1.5, w.w / 4), 0, Math.PI * 2);
      ctx.fill();
    }
  }

  // Receptive field on the input, once it is more than the direct window.
  const first = stages[0];
  if (focus.layer !== first.name && src && src.layer !== first.name) {
    const rf = receptiveField(stages, focus.layer, focus.unit);
    const icol = layout.columns[index.get(first.name).column];
    ctx.setLineDash([4, 3]);
    for (const r of windowRects(icol, rf)) outline(ctx, r, 2, FOCUS);
    ctx.setLineDash([]);
  }
  outline(ctx, ur, keyboard || pinned ? 3 : 2, keyboard || pinned ? FOCUS : OUTLINE);
}

const sameArray = (a, b) => a && b && a.length === b.length && a.every((v, i) => v === b[i]);
