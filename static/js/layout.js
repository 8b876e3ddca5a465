// Where every unit of the 2D node-link view sits. Pure: no DOM.
//
// The record's stages become display columns left to right (input on the left, softmax bars on
// the right), Harley-style. A 3-D stage [C, H, W] is a grid of C maps of H×W cells; a 1-D stage
// [N] is one or more sub-columns of square nodes; softmax is a column of labelled bars.
// Shapes come from the record only; sizes are chosen so the whole network fits the box given.
//
// Folding: `flatten` is always drawn as the stage before it (it is pool2 read row-major, so its
// units alias pool2's one to one). With `foldActivations`, an activation is drawn in its
// producer's column (Harley shows conv+ReLU as one map); the column then shows the activation's
// values and a hovered unit is explained as the producer's unit plus the activation line.

import { offset, unravel, size } from "./tensor.js";

const MAP_GAP = 3;        // between maps of one stage
const MIN_COL_GAP = 22;   // between columns, room for the connecting lines
const MAX_CELL = 5;       // px per cell of a map (the input at 32×32 is then 160 px)
const MAX_NODE = 14;      // px pitch of a dense node

// columns: [{key, label, stages: [names drawn here], primary, shown, kind, shape}]
//   primary: the stage a hovered unit of this column is explained as;
//   shown:   the stage whose values are painted (the activation when folded).
export function displayColumns(stages, { foldActivations = true } = {}) {
  const columns = [];
  for (const s of stages) {
    const prev = columns[columns.length - 1];
    const fold = prev && (s.kind === "flatten" || (foldActivations && s.kind === "activation"));
    if (fold && size(s.shape) === size(prev.shape)) {
      prev.stages.push(s.name);
      if (s.kind === "activation") {
        prev.shown = s.name;
        prev.sublabel = `+ ${s.function ?? s.name}`;
      }
      continue;
    }
    columns.push({ key: s.name, label: s.name, sublabel: "", stages: [s.name], primary: s.name, shown: s.name, kind: s.kind, shape: s.shape });
  }
  return columns;
}

// The fold checkbox's label from the record's own activation stages: "Fold ReLU" for a ReLU
// net, "Fold tanh" for Harley's scaled tanh, "Fold activations" when they differ or are absent.
const ACTIVATION_NAMES = { relu: "ReLU", tanh: "tanh", sigmoid: "sigmoid", leaky_relu: "LeakyReLU" };
export function foldLabel(stages) {
  const fns = new Set((stages ?? []).filter((s) => s.kind === "activation").map((s) => s.function ?? s.name));
  if (fns.size !== 1) return "Fold activations";
  const [fn] = fns;
  return `Fold ${ACTIVATION_NAMES[fn] ?? fn}`;
}

// stage name -> {column, toUnit(unit of that stage) -> unit in the column's shape}
export function stageIndex(columns, stages) {
  const byName = new Map(stages.map((s) => [s.name, s]));
  const index = new Map();
  columns.forEach((col, c) => {
    for (const name of col.stages) {
      const shape = byName.get(name).shape;
      const same = shape.length === col.shape.length && shape.every((n, a) => n === col.shape[a]);
      index.set(name, { column: c, toUnit: same ? (u) => u : (u) => unravel(col.shape, offset(shape, u)) });
    }
  });
  return index;
}

function options(col, availH, barsWidth) {
  const out = [];
  if (col.kind === "softmax") return [{ type: "bars", w: barsWidth, unit: availH / col.shape[0] }];
  if (col.shape.length === 3) {
    const [C, H, W] = col.shape;
    let lastRows = 0;
    for (let g = 1; g <= C; g++) {
      const rows = Math.ceil(C / g);
      if (rows === lastRows) continue;
      lastRows = rows;
      const cell = Math.min(MAX_CELL, (availH - (rows - 1) * MAP_GAP) / (rows * H));
      out.push({ type: "maps", g, rows, cell, unit: cell, w: g * W * cell + (g - 1) * MAP_GAP, h: rows * H * cell + (rows - 1) * MAP_GAP });
    }
    return out;
  }
  const N = size(col.shape);
  let lastRows = 0;
  for (let g = 1; g <= N; g++) {
    const rows = Math.ceil(N / g);
    if (rows === lastRows) continue;
    lastRows = rows;
    const pitch = Math.min(MAX_NODE, availH / rows);
    out.push({ type: "nodes", g, rows, cell: pitch, unit: pitch, w: g * pitch, h: rows * pitch });
  }
  return out;
}

// An arrangement with its cells scaled down to `cell` px.
function scaled(col, o, cell) {
  if (o.type === "maps") {
    const [, H, W] = col.shape;
    return { ...o, cell, unit: cell, w: o.g * W * cell + (o.g - 1) * MAP_GAP, h: o.rows * H * cell + (o.rows - 1) * MAP_GAP };
  }
  if (o.type === "nodes") return { ...o, cell, unit: cell, w: o.g * cell, h: o.rows * cell };
  return o;
}

// Dense nodes are few and must be big enough to point at: they get 1/0.6 of the maps' cell.
const NODE_BOOST = 1 / 0.6;

// The narrowest arrangement of a column reaching `target` px units (its largest if none does),
// scaled to at most the target: so every map column ends up with the same cell size where the
// height allows, and maps of different stages compare at a glance.
function arrange(col, opts, target) {
  // Nodes: at least 10 px when one sub-column of that fits (fc3's 10 outputs cost nothing).
  const t = opts[0].type === "nodes" ? Math.max(target * NODE_BOOST, Math.min(10, opts[0].unit)) : target;
  const o = opts.find((x) => x.unit >= t) ?? opts.reduce((a, b) => (b.unit > a.unit ? b : a));
  return o.unit > t ? scaled(col, o, t) : o;
}

// Blocks of map columns: a run of neighbouring 3-D columns with the same channel count (conv →
// activation → pool of one block). Returns, per column, the index of its block's first column
// (null for 1-D columns), so columns with the same value share one arrangement of maps.
export function mapBlocks(columns) {
  const out = [];
  columns.forEach((col, c) => {
    const prev = columns[c - 1];
    if (col.shape.length !== 3 || col.kind === "softmax") out.push(null);
    else out.push(prev && out[c - 1] !== null && prev.shape[0] === col.shape[0] ? out[c - 1] : c);
  });
  return out;
}

// Every column of a block takes the block's widest grid (the one its tallest maps need), so
// map k sits in the same row and column of the grid in conv2, relu2 and pool2 and "relu2 map 9"
// is found where conv2 map 9 is. Same channel count means the same list of grids, and a wider
// grid has fewer rows, so no column's cell shrinks: only the smaller maps' columns widen.
function sameGridPerBlock(columns, opts, chosen, blocks, target) {
  const widest = new Map();
  blocks.forEach((b, c) => { if (b !== null) widest.set(b, Math.max(widest.get(b) ?? 0, chosen[c].g)); });
  return chosen.map((o, c) => {
    if (blocks[c] === null || o.g === widest.get(blocks[c])) return o;
    const grid = opts[c].find((x) => x.g === widest.get(blocks[c]));
    return grid.unit > target ? scaled(columns[c], grid, target) : grid;
  });
}

// Lay the columns out in a width×height box: the largest common cell size whose arrangements
// fit the width (bisection), each column in its narrowest arrangement reaching it (widened to
// its block's grid).
export function layoutNetwork(columns, { width, height, font = 11, barsWidth = 112 }) {
  const LABEL_H = 4 * font;
  const availH = Math.max(40, height - LABEL_H - 2 * (font + 4));   // two rows of scale labels (labels.js)
  const opts = columns.map((c) => options(c, availH, barsWidth));
  // A model without a final softmax ends on a narrow column of nodes whose centred name and
  // scale ("fc2", "±1") would hang over the right edge: keep room for them.
  const last = columns[columns.length - 1];
  const tail = last && last.kind !== "softmax" && last.shape.length === 1 ? 2 * font : 0;
  const budget = width - tail - MIN_COL_GAP * Math.max(0, columns.length - 1);
  const blocks = mapBlocks(columns);
  const at = (target) => sameGridPerBlock(columns, opts, columns.map((c, i) => arrange(c, opts[i], target)), blocks, target);
  const widthOf = (arr) => arr.reduce((t, o) => t + o.w, 0);
  let lo = 0.5, hi = Math.max(MAX_CELL, MAX_NODE);
  for (let k = 0; k < 30; k++) {
    const mid = (lo + hi) / 2;
    if (widthOf(at(mid)) <= budget) lo = mid; else hi = mid;
  }
  const chosen = at(lo);
  const used = widthOf(chosen);
  const gap = columns.length > 1 ? Math.max(MIN_COL_GAP, Math.min(90, (width - tail - used) / (columns.length - 1))) : 0;
  let x = Math.max(0, (width - tail - used - gap * (columns.length - 1)) / 2);
  const laid = columns.map((col, c) => {
    const o = chosen[c];
    const h = o.type === "bars" ? availH : o.h;
    const out = { ...col, ...o, x, y: LABEL_H + (availH - h) / 2, h, labelY: LABEL_H, footY: LABEL_H + availH, font };
    x += o.w + gap;
    return out;
  });
  return { width, height, columns: laid };
}

// Screen rectangle {x, y, w, h} of one unit of a laid-out column.
export function unitRect(col, unit) {
  if (col.type === "maps") {
    const [, H, W] = col.shape;
    const [c, y, x] = unit;
    const mx = col.x + (c % col.g) * (W * col.cell + MAP_GAP);
    const my = col.y + Math.floor(c / col.g) * (H * col.cell + MAP_GAP);
    return { x: mx + x * col.cell, y: my + y * col.cell, w: col.cell, h: col.cell };
  }
  const i = unit[0];
  if (col.type === "bars") return { x: col.x, y: col.y + i * col.unit, w: col.w, h: col.unit };
  return { x: col.x + Math.floor(i / col.rows) * col.cell, y: col.y + (i % col.rows) * col.cell, w: col.cell, h: col.cell };
}

// Rectangle of one whole map (3-D columns).
export function mapRect(col, c) {
  const [, H, W] = col.shape;
  const r = unitRect(col, [c, 0, 0]);
  return { x: r.x, y: r.y, w: W * col.cell, h: H * col.cell };
}

// Rectangles covering a window (half-open ranges in the column's shape): one per map for 3-D
// columns, one per sub-column run of nodes for 1-D columns.
export function windowRects(col, window) {
  if (col.type === "maps") {
    const [[c0, c1], [y0, y1], [x0, x1]] = window;
    const rects = [];
    for (let c = c0; c < c1; c++) {
      const a = unitRect(col, [c, y0, x0]);
      rects.push({ x: a.x, y: a.y, w: (x1 - x0) * col.cell, h: (y1 - y0) * col.cell, c });
    }
    return rects;
  }
  const [i0, i1] = window[0];
  const rects = [];
  for (let i = i0; i < i1;) {
    const end = Math.min(i1, (Math.floor(i / col.rows) + 1) * col.rows);   // end of this sub-column
    const a = unitRect(col, [i]);
    rects.push({ x: a.x, y: a.y, w: a.w, h: (end - i) * a.h });
    i = end;
  }
  return rects;
}

// The unit under a point, or null: {column index, unit}.
export function hitTest(layout, px, py) {
  for (let c = 0; c < layout.columns.length; c++) {
    const col = layout.columns[c];
    if (px < col.x || px >= col.x + col.w || py < col.y || py >= col.y + col.h) continue;
    if (col.type === "maps") {
      const [C, H, W] = col.shape;
      const pw = W * col.cell + MAP_GAP;
      const ph = H * col.cell + MAP_GAP;
      const gx = Math.floor((px - col.x) / pw);
      const gy = Math.floor((py - col.y) / ph);
      const x = Math.floor((px - col.x - gx * pw) / col.cell);
      const y = Math.floor((py - col.y - gy * ph) / col.cell);
      const ch = gy * col.g + gx;
      if (gx >= col.g || ch >= C || x >= W || y >= H) return null;   // in a gap between maps
      return { column: c, unit: [ch, y, x] };
    }
    if (col.type === "bars") return { column: c, unit: [Math.min(col.shape[0] - 1, Math.floor((py - col.y) / col.unit))] };
    const i = Math.floor((px - col.x) / col.cell) * col.rows + Math.floor((py - col.y) / col.cell);
    return i < size(col.shape) ? { column: c, unit: [i] } : null;
  }
  return null;
}

// Keyboard movement: the next unit of the same column in screen direction (dx, dy), stepping
// over the gaps between maps; the same unit when there is none.
export function neighbour(layout, column, unit, dx, dy) {
  const col = layout.columns[column];
  const r = unitRect(col, unit);
  const step = Math.min(r.w, r.h) / 2;
  let px = r.x + r.w / 2;
  let py = r.y + r.h / 2;
  for (let k = 0; k < 200; k++) {
    px += dx * step;
    py += dy * step;
    if (px < col.x || px >= col.x + col.w || py < col.y || py >= col.y + col.h) break;
    const hit = hitTest(layout, px, py);
    if (hit && hit.column === column && hit.unit.some((u, a) => u !== unit[a])) return hit.unit;
  }
  return unit;
}

// The unit of column `to` nearest (vertically) to a point: where Tab lands.
export function nearestUnit(layout, to, py) {
  const col = layout.columns[to];
  const x = col.x + Math.min(col.w - 1, col.cell / 2);
  const y = Math.min(Math.max(py, col.y), col.y + col.h - 1);
  const hit = hitTest(layout, x, y);
  return hit && hit.column === to ? hit.unit : col.shape.map(() => 0);
}
