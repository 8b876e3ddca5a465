// Where every unit of the record sits in 3D. Pure: no DOM, no WebGL.
//
// Each drawn column is a plane perpendicular to z, stacked front (input, z = 0) to back
// (softmax, most negative z), so a camera on +z sees the input first, x right and y up.
// A 3-D stage [C, H, W] is a grid of C maps of H×W unit squares (pitch 1 world unit, image rows
// going down −y as on paper); a 1-D stage [N] is a few rows of larger nodes. Every shape comes
// from the record, so a different spec lays out without code changes.
//
// Which stages share a plane is the 2D view's rule, reused (layout.js displayColumns): flatten
// is drawn as pool2 (it is pool2 read row-major), and with foldActivations a ReLU is drawn in
// its producer's plane, which then shows the activation's values and is explained as the
// producer's unit. One folding rule, so hovering either view names the same unit.
import { displayColumns, stageIndex } from "../layout.js";
import { offset, unravel } from "../tensor.js";

export const STAGE_SPACING = 24; // z distance between consecutive planes
// Squares fill their pitch-1 cells: gaps between them alias into a moiré when a map is a few
// pixels wide; the renderer draws cell edges instead, once the squares are large on screen.
export const UNIT_SIZE = 1;
export const NODE_PITCH = 1.6; // 1-D stages: few units, so draw them larger and further apart
export const NODE_SIZE = 1.2;
export const MAX_ROW = 40; // a 1-D stage wraps into rows of at most this many nodes
const MAX_SINGLE_ROW_MAPS = 3; // more maps than this go in a near-square grid (conv1 3×2, conv2 4×4)

// layers: the record's entries ({name, kind, shape, ...}); values are not needed.
// options.foldActivations: as in the 2D view (its default). options.classes: output labels.
// Planes are named by their column's primary stage (what a hovered unit is explained as) and
// carry `shown` (whose values are painted) and `stages` (every stage drawn there).
export function layout3D(layers, { foldActivations = true, classes = null } = {}) {
  const columns = displayColumns(layers, { foldActivations });
  const planes = [];
  let count = 0;
  for (const column of columns) {
    const z = planes.length ? -planes.length * STAGE_SPACING : 0;
    const plane = makePlane(column, z, count, classes);
    planes.push(plane);
    count += plane.count;
  }
  const positions = new Float32Array(count * 4); // x, y, z, size per unit
  for (const plane of planes) fillPositions(plane, positions);
  const byName = new Map(planes.map((p) => [p.name, p]));
  return { planes, byName, stages: stageIndex(columns, layers), count, positions, bounds: boundsOf(planes) };
}

function makePlane(column, z, start, classes) {
  const { shape } = column;
  const base = { name: column.primary, shown: column.shown, stages: column.stages, kind: column.kind,
    label: column.label, sublabel: column.sublabel, shape, z, start };
  if (shape.length === 3) {
    const [C, H, W] = shape;
    const cols = C <= MAX_SINGLE_ROW_MAPS ? C : Math.ceil(C / Math.floor(Math.sqrt(C)));
    const rows = Math.ceil(C / cols);
    const gap = Math.max(2, Math.round(W * 0.25)); // space between maps, in cells
    const width = cols * W + (cols - 1) * gap;
    const height = rows * H + (rows - 1) * gap;
    return { ...base, type: "grid", count: C * H * W, cols, rows, gap, pitch: 1, size: UNIT_SIZE,
      left: -width / 2, top: height / 2, width, height };
  }
  if (shape.length === 1) {
    const [N] = shape;
    const rows = Math.ceil(N / MAX_ROW);
    const perRow = Math.ceil(N / rows);
    const width = perRow * NODE_PITCH;
    const height = rows * NODE_PITCH;
    const labels = classes && classes.length === N ? classes.map(String) : null;
    return { ...base, type: "row", count: N, perRow, rows, pitch: NODE_PITCH, size: NODE_SIZE,
      left: -width / 2, top: height / 2, width, height, labels };
  }
  throw new Error(`${column.primary}: cannot lay out shape [${shape}] (expected [C, H, W] or [N])`);
}

// Unit (in the plane's own stage) -> centre [x, y, z]. Cells are pitch wide; +0.5 centres.
export function planeUnitCenter(plane, unit) {
  if (plane.type === "grid") {
    const [c, y, x] = unit;
    const [, H, W] = plane.shape;
    const mc = c % plane.cols;
    const mr = Math.floor(c / plane.cols);
    return [plane.left + mc * (W + plane.gap) + x + 0.5,
      plane.top - (mr * (H + plane.gap) + y + 0.5), plane.z];
  }
  const [i] = unit;
  const r = Math.floor(i / plane.perRow);
  const col = i % plane.perRow;
  return [plane.left + (col + 0.5) * plane.pitch, plane.top - (r + 0.5) * plane.pitch, plane.z];
}

// Point (x, y) in the plane -> the unit whose square contains it, or null (gap or outside).
// This is the exact inverse of planeUnitCenter for points inside a square.
export function planeUnitAt(plane, x, y) {
  const half = plane.size / 2;
  if (plane.type === "grid") {
    const [C, H, W] = plane.shape;
    const u = x - plane.left; // cells from the left edge
    const v = plane.top - y; // cells from the top edge
    const mc = Math.floor(u / (W + plane.gap));
    const mr = Math.floor(v / (H + plane.gap));
    if (mc < 0 || mc >= plane.cols || mr < 0) return null;
    const c = mr * plane.cols + mc;
    if (c >= C) return null;
    const cx = Math.floor(u - mc * (W + plane.gap));
    const cy = Math.floor(v - mr * (H + plane.gap));
    if (cx < 0 || cx >= W || cy < 0 || cy >= H) return null; // in the gap between maps
    const [px, py] = planeUnitCenter(plane, [c, cy, cx]);
    return Math.abs(x - px) <= half && Math.abs(y - py) <= half ? [c, cy, cx] : null;
  }
  const col = Math.floor((x - plane.left) / plane.pitch);
  const r = Math.floor((plane.top - y) / plane.pitch);
  if (col < 0 || col >= plane.perRow || r < 0 || r >= plane.rows) return null;
  const i = r * plane.perRow + col;
  if (i >= plane.count) return null;
  const [px, py] = planeUnitCenter(plane, [i]);
  return Math.abs(x - px) <= half && Math.abs(y - py) <= half ? [i] : null;
}

function fillPositions(plane, out) {
  const n = plane.count;
  for (let k = 0; k < n; k++) {
    const p = planeUnitCenter(plane, unravel(plane.shape, k));
    const o = (plane.start + k) * 4;
    out[o] = p[0]; out[o + 1] = p[1]; out[o + 2] = p[2]; out[o + 3] = plane.size;
  }
}

// Resolve any stage name (drawn or sharing a plane) and unit to the plane and its unit there.
export function resolve(layout, name, unit) {
  const entry = layout.stages.get(name);
  if (!entry) return null;
  const plane = layout.planes[entry.column];
  const u = entry.toUnit(unit);
  if (u.length !== plane.shape.length || u.some((v, d) => !(v >= 0 && v < plane.shape[d]))) return null;
  return { plane, unit: u };
}

// Stage name + unit -> global instance index (into positions and colours), or -1.
export function unitIndex(layout, name, unit) {
  const r = resolve(layout, name, unit);
  return r ? r.plane.start + offset(r.plane.shape, r.unit) : -1;
}

// Global instance index -> {name, unit} in the plane's primary stage, or null.
export function unitAtIndex(layout, index) {
  for (const plane of layout.planes) {
    if (index >= plane.start && index < plane.start + plane.count) {
      return { name: plane.name, unit: unravel(plane.shape, index - plane.start) };
    }
  }
  return null;
}

// Stage name + unit -> world centre, or null when the name or unit is unknown.
export function unitCenter(layout, name, unit) {
  const r = resolve(layout, name, unit);
  return r ? planeUnitCenter(r.plane, r.unit) : null;
}

// The four corners of every plane: what a camera preset must keep in frame.
export function planeCorners(layout) {
  return layout.planes.flatMap((p) => [[p.left, p.top, p.z], [p.left + p.width, p.top, p.z],
    [p.left, p.top - p.height, p.z], [p.left + p.width, p.top - p.height, p.z]]);
}

function boundsOf(planes) {
  const min = [Infinity, Infinity, Infinity];
  const max = [-Infinity, -Infinity, -Infinity];
  for (const p of planes) {
    min[0] = Math.min(min[0], p.left); max[0] = Math.max(max[0], p.left + p.width);
    min[1] = Math.min(min[1], p.top - p.height); max[1] = Math.max(max[1], p.top);
    min[2] = Math.min(min[2], p.z); max[2] = Math.max(max[2], p.z);
  }
  const center = [0, 1, 2].map((d) => (min[d] + max[d]) / 2);
  return { min, max, center };
}
