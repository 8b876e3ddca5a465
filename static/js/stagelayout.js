// The phone's network: one stage at a time, big enough to tap. Pure: no DOM.
//
// On a 390 px screen the whole network is ~370 px wide and a conv2 cell half a pixel, so the
// phone shows the display columns (layout.js displayColumns) one at a time, the current one
// filling the box it is given, and every other column laid out of sight (`offscreen`, far left:
// never painted, never hit). Units keep the geometry of layout.js's columns ({type, g, rows,
// cell, x, y, w, h}), so unitRect, hitTest and the painters work unchanged.
//
//  - maps, overview: all maps of the stage in the grid that makes them largest in the box; a
//    tap on a map zooms into it when its cells are smaller than TARGET.
//  - maps, zoomed (`zoom` = map index): that one map at ≥ TARGET px a cell; the content may be
//    larger than the box (the view scrolls it natively).
//  - nodes: a grid of ≥ TARGET px squares, column-major like layout.js's sub-columns.
//  - bars: one bar per class, as wide as the box.
//
// layoutStage(columns, {width, height, current, zoom, font, barsWidth}) ->
//   {width, height (of the content, ≥ the box), columns, current, zoomable, zoom}

import { size } from "./tensor.js";

export const TARGET = 24;   // px: the smallest tap target (WCAG 2.2's 24 × 24 minimum)
const MAP_GAP = 3;          // as layout.js, so map rectangles and hit tests agree
const OFF = -1e6;           // where the other stages wait

function mapsOverview(col, width, height) {
  const [C, H, W] = col.shape;
  let best = null;
  for (let g = 1; g <= C; g++) {
    const rows = Math.ceil(C / g);
    const cell = Math.min((width - (g - 1) * MAP_GAP) / (g * W), (height - (rows - 1) * MAP_GAP) / (rows * H));
    if (!best || cell > best.cell) best = { g, rows, cell };
  }
  const cell = Math.max(0.5, best.cell);
  return { type: "maps", g: best.g, rows: best.rows, cell, unit: cell, w: best.g * W * cell + (best.g - 1) * MAP_GAP, h: best.rows * H * cell + (best.rows - 1) * MAP_GAP };
}

export function layoutStage(columns, { width, height, current = 1, zoom = null, font = 12, barsWidth = 160 } = {}) {
  const ci = Math.max(0, Math.min(columns.length - 1, current));
  const col = columns[ci];
  let geo;
  let zoomable = false;
  let zoomed = null;
  let contentW = width;
  let contentH = height;
  const pad = 6;
  const boxW = width - 2 * pad;
  const boxH = height - 2 * pad;
  if (col.kind === "softmax") {
    const n = col.shape[0];
    const unit = Math.max(TARGET, Math.min(44, boxH / n));
    geo = { type: "bars", w: Math.min(boxW, Math.max(barsWidth, boxW)), unit, h: unit * n };
  } else if (col.shape.length === 3) {
    const over = mapsOverview(col, boxW, boxH);
    zoomable = over.cell < TARGET;
    if (zoomable && zoom != null && zoom >= 0 && zoom < col.shape[0]) {
      const [, H, W] = col.shape;
      const cell = Math.max(TARGET, Math.min(boxW / W, boxH / H));
      zoomed = zoom;
      // One map shown: the grid is one map wide, shifted up so that map `zoom` sits at the top.
      geo = { type: "maps", g: 1, rows: col.shape[0], cell, unit: cell, w: W * cell, h: H * cell, zoomShift: zoom * (H * cell + MAP_GAP) };
    } else {
      geo = over;
    }
  } else {
    const N = size(col.shape);
    // The largest pitch at which every node fits the box, but never below TARGET (then it scrolls).
    let pitch = TARGET;
    for (let p = Math.floor(Math.min(boxW, 64)); p >= TARGET; p--) {
      const g = Math.floor(boxW / p);
      if (g >= 1 && Math.ceil(N / g) * p <= boxH) { pitch = p; break; }
    }
    const g = Math.max(1, Math.min(N, Math.floor(boxW / pitch)));
    const rows = Math.ceil(N / g);
    geo = { type: "nodes", g, rows, cell: pitch, unit: pitch, w: g * pitch, h: rows * pitch };
  }
  contentW = Math.max(width, geo.w + 2 * pad);
  contentH = Math.max(height, geo.h + 2 * pad);
  const x = Math.max(pad, (contentW - geo.w) / 2);
  const y = Math.max(pad, (contentH - geo.h) / 2);
  const laid = columns.map((c, i) => {
    if (i !== ci) return { ...c, type: "nodes", g: 1, rows: Math.max(1, size(c.shape)), cell: 1, unit: 1, x: OFF, y: OFF, w: 1, h: Math.max(1, size(c.shape)), offscreen: true, font, labelY: OFF, footY: OFF };
    const { zoomShift = 0, ...g } = geo;
    const out = { ...c, ...g, x, y: y - zoomShift, font, labelY: OFF, footY: OFF };
    if (zoomed != null) {
      // Zoomed: the column is still the whole stack of maps (so unitRect and hitTest index
      // them as usual), shifted so map `zoom` fills the content; `clip` is that one map.
      const [C, H] = c.shape;
      out.h = C * H * g.cell + (C - 1) * MAP_GAP;
      out.clip = { x, y, w: geo.w, h: geo.h };
    }
    return out;
  });
  return { width: contentW, height: contentH, columns: laid, current: ci, zoomable, zoom: zoomed };
}

// The unit under a point for the phone's layout: layout.js's hitTest, but a zoomed column only
// answers inside its one visible map.
export function stageHit(layout, px, py, hitTest) {
  const col = layout.columns[layout.current];
  if (col.clip && (px < col.clip.x || px >= col.clip.x + col.clip.w || py < col.clip.y || py >= col.clip.y + col.clip.h)) return null;
  const hit = hitTest(layout, px, py);
  return hit && hit.column === layout.current ? hit : null;
}
