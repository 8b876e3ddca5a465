// Canvas painting for the Learn tab: small maps, tiles of kernels, heatmaps, bars and curves.
// Touches canvases only; values and positions come from the caller (learn/model.js, the API).
// Maps are one small ImageData drawn scaled with smoothing off (one drawImage per image).

import { diverging, sequential, lut, fillRGBA, cssColor, NEGATIVE, POSITIVE } from "../color.js";
import { maxAbs, curvePoints, cursorX } from "./model.js";
import { scratchCanvas } from "../scratch.js";
import { rgbImage } from "../views/modelinput.js";
import { inputRange } from "../lab/source.js";

export const signedScale = (values, max = maxAbs(values)) => diverging(max > 0 ? max : 1);

// Draw one h×w map at (x, y) on ctx, `cell` px per value.
export function drawMap(ctx, values, h, w, scale, x, y, cell, table) {
  const s = scratchCanvas(w, h);
  fillRGBA(s.image.data, values, scale, table ?? lut(scale));
  s.ctx.putImageData(s.image, 0, 0);
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(s.canvas, x, y, w * cell, h * cell);
}

// Size a canvas for css width×height at the device pixel ratio; returns its 2d context.
export function sized(canvas, width, height) {
  const dpr = window.devicePixelRatio || 1;
  if (canvas.width !== Math.round(width * dpr) || canvas.height !== Math.round(height * dpr)) {
    canvas.width = Math.round(width * dpr);
    canvas.height = Math.round(height * dpr);
    // Width only: the height follows the canvas's own aspect ratio, so a figure wider than a
    // phone, shrunk by the stylesheet's max-width, keeps its squares square.
    canvas.style.width = `${width}px`;
  }
  const ctx = canvas.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, width, height);
  return ctx;
}

// Many same-sized maps in a grid of `cols` columns (feature maps, kernels): tiles are
// [{values}], each h×w. One scale for all, so the tiles compare.
export function paintTiles(canvas, tiles, h, w, scale, { cols = tiles.length, cell = 4, gap = 2 } = {}) {
  const rows = Math.ceil(tiles.length / cols);
  const ctx = sized(canvas, cols * (w * cell + gap) - gap, rows * (h * cell + gap) - gap);
  const table = lut(scale);
  tiles.forEach((t, i) => {
    drawMap(ctx, t.values, h, w, scale, (i % cols) * (w * cell + gap), Math.floor(i / cols) * (h * cell + gap), cell, table);
  });
  return ctx;
}

// The model's input as the network reads it, `cell` px per pixel: a colour input de-normalised
// to its RGB picture (the preprocessing strip's own rgbImage), one channel in grey over the
// range its normalisation gives (the Lab's inputRange), so nothing is clipped.
export function paintInput(canvas, layer, model, cell) {
  const [C, H, W] = layer.shape;
  const ctx = sized(canvas, W * cell, H * cell);
  if (C === 3) {
    const s = scratchCanvas(W, H);
    s.ctx.putImageData(rgbImage(layer.values, layer.shape, model?.input), 0, 0);
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(s.canvas, 0, 0, W * cell, H * cell);
  } else {
    const { lo, hi } = inputRange(model, { channel: 0 });
    drawMap(ctx, layer.values.subarray(0, H * W), H, W, sequential(lo, hi), 0, 0, cell);
  }
  return ctx;
}

// Kernels as a labelled grid (learn/model.js filterGrid): filter numbers over the columns,
// channel names (R, G, B) or numbers left of the rows. Labels are thinned when tiles are
// narrower than a label, so they never overlap.
const LABEL_FONT = "10px system-ui, sans-serif";
export function paintGrid(canvas, grid, h, w, scale, { cell = 4, gap = 2 } = {}) {
  const probe = canvas.getContext("2d");
  probe.font = LABEL_FONT;
  const widest = (labels) => Math.ceil(Math.max(0, ...(labels ?? []).map((l) => probe.measureText(l).width)));
  const left = grid.rowLabels ? widest(grid.rowLabels) + 4 : 0;
  const top = grid.colLabels ? 12 : 0;
  const tw = w * cell + gap, th = h * cell + gap;
  const ctx = sized(canvas, left + grid.cols * tw - gap, top + grid.rows * th - gap);
  const table = lut(scale);
  for (const t of grid.tiles) drawMap(ctx, t.values, h, w, scale, left + t.col * tw, top + t.row * th, cell, table);
  ctx.font = LABEL_FONT;
  ctx.fillStyle = "#555";
  ctx.textAlign = "center";
  ctx.textBaseline = "alphabetic";
  const every = Math.max(1, Math.ceil((widest(grid.colLabels) + 3) / tw));
  grid.colLabels?.forEach((l, i) => { if (i % every === 0) ctx.fillText(l, left + i * tw + (w * cell) / 2, top - 3); });
  ctx.textAlign = "right";
  ctx.textBaseline = "middle";
  grid.rowLabels?.forEach((l, i) => ctx.fillText(l, left - 3, top + i * th + (h * cell) / 2));
  // What the labels say, readable off the page (tests, and a hint for assistive tools).
  canvas.dataset.rows = (grid.rowLabels ?? []).join(",");
  canvas.dataset.cols = (grid.colLabels ?? []).join(",");
  return ctx;
}

// A big matrix (dense weights units × inputs) as a heatmap `width` px wide. Rows stay at least
// a few px tall (a 10-unit layer over 1,690 inputs would otherwise be a 2 px strip); columns
// narrower than a pixel are averaged by the browser's smoothing instead of dropped.
export function paintHeatmap(canvas, values, rows, cols, scale, width) {
  const cell = width / cols;
  const rowH = Math.max(cell, Math.min(6, 60 / rows));
  const ctx = sized(canvas, width, Math.max(2, rows * rowH));
  const s = scratchCanvas(cols, rows);
  fillRGBA(s.image.data, values, scale, lut(scale));
  s.ctx.putImageData(s.image, 0, 0);
  ctx.imageSmoothingEnabled = cell < 1;
  ctx.imageSmoothingQuality = "high";
  ctx.drawImage(s.canvas, 0, 0, width, rows * rowH);
  return ctx;
}

// Probabilities as bars: `series` [{values, color, label}] drawn side by side per class, and the
// target vector as an outline. Classes along x.
// Class names under the bars: level when every one fits its slot, else slanted so long names
// (Fashion-MNIST's "T-shirt/top", "Ankle boot") do not run into each other. Pure, for tests:
// widths are the names' text widths in px; returns {angle (radians, 0 = level), foot (px)}.
export const SLANT = -Math.PI / 5;
// `left`: px kept free on the left so the first slanted names are not cut by the canvas edge
// (the bars then share width − left).
export function barLabelLayout(widths, width, { line = 12, maxFoot = 60 } = {}) {
  const n = Math.max(1, widths.length);
  const widest = Math.max(0, ...widths);
  if (widest <= width / n - 2) return { angle: 0, foot: line + 4, left: 0, slot: width / n };
  let left = 0;
  for (let i = 0; i < 3; i++) {   // the margin narrows the slots, which moves the names: settle it
    const slot = (width - left) / n;
    left = Math.max(0, ...widths.map((w, k) => Math.ceil(w * Math.cos(SLANT) - (k + 0.5) * slot + 4)));
  }
  return { angle: SLANT, foot: Math.min(maxFoot, Math.ceil(widest * Math.sin(-SLANT) + line * Math.cos(SLANT)) + 4),
           left, slot: (width - left) / n };
}

export function paintBars(canvas, classes, series, target, { width = 320, height = 120 } = {}) {
  const ctx = sized(canvas, width, height);
  ctx.font = "11px system-ui, sans-serif";
  const { angle, foot, left, slot } = barLabelLayout(classes.map((c) => ctx.measureText(c).width), width);
  const bw = (slot - 6) / series.length;
  ctx.textAlign = angle ? "right" : "center";
  classes.forEach((label, k) => {
    const x0 = left + k * slot + 3;
    const h = height - foot;
    if (target && target[k] > 0) {
      ctx.strokeStyle = "#222";
      ctx.setLineDash([3, 2]);
      ctx.strokeRect(x0 - 1.5, 0.5, slot - 3, h - 0.5);
      ctx.setLineDash([]);
    }
    series.forEach((s, j) => {
      const v = s.values ? s.values[k] : 0;
      ctx.fillStyle = s.color;
      ctx.fillRect(x0 + j * bw, h - v * h, bw - 1, v * h);
    });
    ctx.fillStyle = "#222";
    if (!angle) { ctx.fillText(label, x0 + (slot - 6) / 2, height - 4); return; }
    ctx.save();   // slanted: the name ends just under its bar
    ctx.translate(x0 + (slot - 6) / 2 + 4, h + 10);
    ctx.rotate(angle);
    ctx.fillText(label, 0, 0);
    ctx.restore();
  });
}

// Line chart: curves [{xs, ys, color, label}] over a shared x range, y from ylo to yhi, with an
// optional vertical cursor at x = cursor. Returns the plot box (for tests and overlays).
export function paintCurves(canvas, curves, { width = 320, height = 120, ylo, yhi, xlo, xhi, cursor = null, title = "", xticks = [] } = {}) {
  const ctx = sized(canvas, width, height);
  const box = { x: 30, y: 14, w: width - 36, h: height - 30 };
  const allX = curves.flatMap((c) => c.xs);
  const allY = curves.flatMap((c) => c.ys);
  xlo = xlo ?? Math.min(...allX); xhi = xhi ?? Math.max(...allX);
  ylo = ylo ?? Math.min(...allY); yhi = yhi ?? Math.max(...allY);
  ctx.strokeStyle = "#bbb";
  ctx.strokeRect(box.x, box.y, box.w, box.h);
  ctx.font = "10px system-ui, sans-serif";
  ctx.fillStyle = "#444";
  ctx.textAlign = "right";
  ctx.fillText(fmt(yhi), box.x - 3, box.y + 8);
  ctx.fillText(fmt(ylo), box.x - 3, box.y + box.h);
  ctx.textAlign = "center";
  for (const t of xticks) {   // [{at (axis units), label}] under the box
    const x = cursorX(t.at, box, xlo, xhi);
    ctx.fillText(t.label, x, box.y + box.h + 11);
    ctx.fillRect(x, box.y + box.h, 1, 3);
  }
  ctx.textAlign = "left";
  ctx.fillText(title, box.x, 10);
  let lx = box.x + box.w;
  ctx.textAlign = "right";
  for (const c of [...curves].reverse()) {
    ctx.fillStyle = c.color;
    ctx.fillText(c.label, lx, 10);
    lx -= ctx.measureText(c.label).width + 8;
  }
  for (const c of curves) {
    if (!c.xs.length) continue;
    const pts = curvePoints(c.xs, c.ys, box, { xlo, xhi, ylo, yhi });
    ctx.strokeStyle = c.color;
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    pts.forEach(([x, y], i) => (i ? ctx.lineTo(x, y) : ctx.moveTo(x, y)));
    ctx.stroke();
    if (c.dots) for (const [x, y] of pts) ctx.fillRect(x - 2, y - 2, 4, 4);
  }
  if (cursor != null) {
    const x = cursorX(cursor, box, xlo, xhi);
    ctx.strokeStyle = "#c00";
    ctx.lineWidth = 1;
    ctx.beginPath();
    ctx.moveTo(x, box.y);
    ctx.lineTo(x, box.y + box.h);
    ctx.stroke();
  }
  return box;
}

const fmt = (v) => (Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(2) : v.toPrecision(2));

export const BEFORE = "#9a9a9a";
export const AFTER = cssColor(POSITIVE);
export const GRADIENT = cssColor(NEGATIVE);
