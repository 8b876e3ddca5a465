// The 2D node-link view: every unit of every stage, painted from the record.
//
// Two stacked canvases: `canvas` holds the units (repainted once per forward response), the
// `overlay` holds the hover highlight, source window, Harley's connecting lines and the
// receptive field (repainted on every hover, cheap). Maps are painted as one small ImageData
// per column, drawn scaled with smoothing off; sizes follow devicePixelRatio.
//
// createNetworkView({canvas, overlay}, store) -> {resize(), render(), renderOverlay(), layout()}
// Writes `hover` and `pinned` into the store; reads trace, model, foldActivations.

import { displayColumns, stageIndex, layoutNetwork, unitRect, mapRect, windowRects, hitTest, neighbour, nearestUnit } from "../layout.js";
import { scaleForStage, scaleForInput, fillStage, LUT_SIZE, cssColor } from "../color.js";
import { mapTag, rangeText } from "../channels.js";
import { extent, size, sourceWindow } from "../tensor.js";
import { sameUnit, focusUnit } from "../state.js";
import { paintOverlay, windowInColumn } from "./overlay.js";
import { stageFloor } from "../ranges.js";
import { labelRooms, placeLine } from "../labels.js";
import { layoutStage, stageHit } from "../stagelayout.js";
import { namedRows } from "../classbars.js";

const font = (px, weight = "") => `${weight} ${px}px system-ui, sans-serif`.trim();

export function createNetworkView({ canvas, overlay }, store) {
  const ctx = canvas.getContext("2d");
  const octx = overlay.getContext("2d");
  let view = null;          // {columns, layout, index, stages, fold}
  let scales = new Map();   // shown stage -> scale
  const sheets = new Map(); // column key -> offscreen canvas with its maps stacked vertically
  let footBoxes = [];        // the scale labels under the columns as drawn: {text, x, y, w, h}
  const numbers = new Map(); // column key -> {px, boxes: [{x, y, w, h, map}]}: map numbers drawn
  let dpr = 1;
  let cssSize = { w: 0, h: 0 };

  function stages() {
    const s = store.get();
    return s.trace?.layers ?? s.model?.layers ?? null;
  }
  // The stages' structure (everything but their values): a new trace of the same network keeps
  // the layout, so a stroke repaints the maps without laying out, resizing the canvas or
  // rebuilding the phone's stage bar (screen.js redraws it when `layout` changes).
  let structureOf = { stages: null, key: "" };
  function structure(st) {
    if (structureOf.stages !== st) structureOf = { stages: st, key: JSON.stringify(st.map(({ values, ...rest }) => rest)) };
    return structureOf.key;
  }

  // Recompute the layout when the record, the folding or the size changes.
  // Phone (`compact`, screen.js): one stage at a time in the wrap's box (stagelayout.js), the
  // canvas sized to that stage's content (larger than the box when a zoomed map scrolls).
  function relayout() {
    const st = stages();
    if (!st) return null;
    const s = store.get();
    const fold = s.foldActivations !== false;
    // Projector: labels readable from the back, growing with the screen (18 px at 1080 high).
    const px = s.projector ? Math.round(Math.min(20, Math.max(14, window.innerHeight / 60))) : 11;
    const compact = !!s.compact;
    const box = compact ? boxSize() : cssSize;
    const stage = compact ? `${s.stage}|${s.zoom}` : "";
    const shape = structure(st);
    if (view && view.shape === shape && view.model === s.model && view.fold === fold && view.px === px && view.w === box.w && view.h === box.h && view.compact === compact && view.stage === stage) {
      if (view.stages !== st) Object.assign(view, { stages: st, byName: new Map(st.map((l) => [l.name, l])) });
      return view;
    }
    const columns = displayColumns(st, { foldActivations: fold });
    let layout;
    if (compact) {
      const current = Math.max(0, columns.findIndex((c) => c.key === s.stage));
      layout = layoutStage(columns, { width: box.w, height: box.h, current: s.stage == null ? 1 : current, zoom: s.zoom, font: px, barsWidth: barsWidth(px) });
      sizeCanvas(layout.width, layout.height);
      // A zoomed map pans natively; otherwise a sideways swipe is ours (the next stage).
      canvas.style.touchAction = layout.zoom != null ? "pan-x pan-y" : "pan-y";
    } else {
      canvas.style.touchAction = "";
      if (view?.compact) sizeCanvas(null);
      layout = layoutNetwork(columns, { width: cssSize.w - 8, height: cssSize.h, font: px, barsWidth: barsWidth(px) });
      layout.columns.forEach((c) => { c.x += 4; });
    }
    view = { stages: st, shape, model: s.model, fold, px, w: box.w, h: box.h, compact, stage, columns, layout, index: stageIndex(columns, st), byName: new Map(st.map((s) => [s.name, s])) };
    return view;
  }

  const wrap = canvas.parentElement;
  // Read once per resize (main.js's ResizeObserver calls resize()): reading clientWidth on
  // every repaint forced a layout of the whole page per stroke update on the phone.
  let wrapBox = null;
  const boxSize = () => (wrapBox ??= { w: Math.max(100, wrap.clientWidth), h: Math.max(100, wrap.clientHeight) });
  // The phone's canvas takes its content's size (null: back to filling the wrap, desktop).
  function sizeCanvas(w, h) {
    for (const c of [canvas, overlay]) {
      c.style.width = w == null ? "" : `${w}px`;
      c.style.height = w == null ? "" : `${h}px`;
    }
    if (w == null) {
      const r = wrap.getBoundingClientRect();
      w = r.width; h = r.height;
    }
    cssSize = { w: Math.round(w), h: Math.round(h) };
    for (const c of [canvas, overlay]) {
      c.width = Math.round(cssSize.w * dpr);
      c.height = Math.round(cssSize.h * dpr);
    }
  }

  function resize() {
    wrapBox = null;
    const r = canvas.getBoundingClientRect();
    dpr = window.devicePixelRatio || 1;
    if (!store.get().compact) {
      if (view?.compact) sizeCanvas(null);
      cssSize = { w: Math.max(100, Math.round(r.width)), h: Math.max(100, Math.round(r.height)) };
      for (const c of [canvas, overlay]) {
        c.width = Math.round(cssSize.w * dpr);
        c.height = Math.round(cssSize.h * dpr);
      }
    }
    view = null;   // the box may have changed: lay out again
    render();
  }

  function paintMaps(col, layer, scale) {
    const [C, H, W] = col.shape;
    let sheet = sheets.get(col.key);
    if (!sheet || sheet.width !== W || sheet.height !== C * H) {
      sheet = document.createElement("canvas");
      sheet.width = W;
      sheet.height = C * H;
      sheet.image = new ImageData(W, C * H);
      sheets.set(col.key, sheet);
    }
    fillStage(sheet.image.data, layer.values, scale);   // a normalised input: each channel its own range
    sheet.getContext("2d").putImageData(sheet.image, 0, 0);
    for (let c = 0; c < C; c++) {
      const r = mapRect(col, c);
      ctx.drawImage(sheet, 0, c * H, W, H, r.x, r.y, r.w, r.h);
    }
    paintMapNumbers(col);
  }

  // Each map's number in its top-left corner, so "relu2 map 9" in the panel is found by eye. A
  // block's columns share one grid (layout.js), so where the smallest maps (pool2's 5×5) are
  // too small to carry a number without hiding it, conv2's numbers above the same cells serve.
  function paintMapNumbers(col) {
    const [C, H, W] = col.shape;
    numbers.delete(col.key);
    if (C < 2) return;   // one map (the input) needs no number
    const px = Math.max(7, Math.min(col.font - 1, Math.round(H * col.cell * 0.3)));
    ctx.font = font(px);
    // A photo's input maps are its colour channels: tagged "red", "green", "blue" where the
    // words fit (channels.js), by number otherwise, as every other stage's maps are.
    const model = store.get().model;
    const words = col.kind === "input" ? Array.from({ length: C }, (_, c) => mapTag(model, c)) : null;
    const fits = words && Math.max(...words.map((w) => ctx.measureText(w).width)) + 6 <= W * col.cell;
    const tag = (c) => (fits ? words[c] : String(c));
    const textW = ctx.measureText(String(C - 1)).width;
    if (W * col.cell < 2.2 * textW + 3) return;
    ctx.textAlign = "left";
    ctx.textBaseline = "top";
    const boxes = [];
    for (let c = 0; c < C; c++) {
      const r = mapRect(col, c);
      const box = { x: r.x, y: r.y, w: ctx.measureText(tag(c)).width + 3, h: px + 2, map: c };
      ctx.fillStyle = "rgba(255, 255, 255, 0.8)";
      ctx.fillRect(box.x, box.y, box.w, box.h);
      ctx.fillStyle = "#2a2a30";
      ctx.fillText(tag(c), box.x + 1.5, box.y + 1.5);
      boxes.push(box);
    }
    numbers.set(col.key, { px, boxes });
  }

  function paintNodes(col, layer, scale) {
    const colors = new Map();
    const inset = col.cell > 5 ? 1 : 0;
    for (let i = 0; i < size(col.shape); i++) {
      const r = unitRect(col, [i]);
      const v = layer.values[i];
      const key = Math.round(scale.position(v) * (LUT_SIZE - 1));
      if (!colors.has(key)) colors.set(key, cssColor(scale.color(v)));
      ctx.fillStyle = colors.get(key);
      ctx.fillRect(r.x + inset / 2, r.y + inset / 2, r.w - inset, r.h - inset);
    }
    ctx.strokeStyle = "#c8c8d0";
    ctx.lineWidth = 1 / dpr;
    ctx.strokeRect(col.x, col.y, col.w, col.h);
  }

  // Class names (digits, or Fashion-MNIST's "Ankle boot") + a bar + the percentage.
  function labelWidth(px) {
    ctx.font = font(px + 3, "bold");
    const classes = store.get().model?.classes ?? ["0"];
    return Math.ceil(Math.max(...classes.map((c) => ctx.measureText(String(c)).width))) + 6;
  }
  const barsWidth = (px) => labelWidth(px) + 3.6 * px + 60;

  function paintBars(col, layer, classes, prediction) {
    const labelW = labelWidth(col.font);
    const pctW = 3.6 * col.font;   // room for "100%" or "9.5%"
    const barMax = col.w - labelW - pctW;
    // Rows shorter than a line (many classes): every bar, but only the likeliest named.
    const named = new Set(namedRows(layer.values, prediction, col.unit ?? Infinity, 1.25 * (col.font + 3)));
    ctx.textBaseline = "middle";
    for (let i = 0; i < col.shape[0]; i++) {
      const r = unitRect(col, [i]);
      const p = layer.values[i];
      const mid = r.y + r.h / 2;
      const bh = named.size === col.shape[0] ? Math.min(r.h - 3, 22) : Math.max(1, r.h - 1);
      ctx.fillStyle = "#eceef2";
      ctx.fillRect(r.x + labelW, mid - bh / 2, barMax, bh);
      ctx.fillStyle = i === prediction ? "#e66101" : "#7a7a86";
      ctx.fillRect(r.x + labelW, mid - bh / 2, Math.max(1, p * barMax), bh);
      if (!named.has(i)) continue;
      ctx.fillStyle = "#1d1d1f";
      ctx.font = font(col.font + (i === prediction ? 3 : 2), i === prediction ? "bold" : "");
      ctx.textAlign = "left";
      ctx.fillText(String(classes?.[i] ?? i), r.x + 2, mid);
      ctx.font = font(col.font);
      ctx.textAlign = "right";
      ctx.fillText(`${(p * 100).toFixed(p >= 0.1 ? 0 : 1)}%`, r.x + col.w, mid);
    }
  }

  // Text at size px, shrunk (down to 8 px) until it fits maxW.
  function fitText(text, x, y, maxW, px, weight = "") {
    let size = px;
    ctx.font = font(size, weight);
    while (size > 8 && ctx.measureText(text).width > maxW) ctx.font = font(--size, weight);
    ctx.fillText(text, x, y);
  }

  // Names and shapes above each column, shrunk to the column's room (labels.js: at most half
  // of each gap beside it); the scale under it, on a second row where neighbours would touch.
  function paintLabels(columns) {
    const rooms = labelRooms(columns, cssSize.w);
    ctx.textAlign = "center";
    ctx.textBaseline = "alphabetic";
    columns.forEach((col, i) => {
      const f = col.font;
      const { cx, room } = rooms[i];
      ctx.fillStyle = "#1d1d1f";
      fitText(col.label, cx, col.labelY - 2.7 * f, room, f, "600");
      ctx.fillStyle = "#5c5c66";
      if (col.sublabel) fitText(col.sublabel, cx, col.labelY - 1.55 * f, room, f);
      fitText(col.shape.join("×"), cx, col.labelY - 0.4 * f, room, f);
    });
    const foot = columns.map((col) => {
      const scale = scales.get(col.shown);
      if (!scale || col.type === "bars") return null;
      const [lo, hi] = scale.domain;
      // After a ReLU (and its pooling) nothing is negative: say 0–5, not ±5 (ranges.js).
      const signed = stageFloor(view.stages, col.shown) < 0;
      if (scale.channels) return rangeText(scale.channels.map((c) => c.domain)).replace(" … ", "–").replace(/-/g, "\u2212");
      return scale.kind !== "diverging" ? `${lo}–${hi}` : signed ? `±${fmtScale(hi)}` : `0–${fmtScale(hi)}`;
    });
    const items = [];
    columns.forEach((col, i) => {
      if (!foot[i]) return;
      ctx.font = font(col.font);
      items.push({ i, cx: rooms[i].cx, width: ctx.measureText(foot[i]).width });
    });
    const placed = placeLine(items);
    ctx.textBaseline = "top";
    ctx.fillStyle = "#5c5c66";
    footBoxes = [];
    items.forEach((it, k) => {
      const { row, scale } = placed[k];
      if (!scale) return;
      const col = columns[it.i];
      ctx.font = font(col.font * scale);
      const y = col.footY + 3 + row * (col.font + 3);
      ctx.fillText(foot[it.i], it.cx, y);
      const w = ctx.measureText(foot[it.i]).width;
      footBoxes.push({ text: foot[it.i], x: it.cx - w / 2, y, w, h: col.font * scale });
    });
  }

  // Timed with numbers, not named marks: a measure between two named marks searches every
  // mark ever made by that name, and they piled up with each repaint and hover.
  function render() {
    const t0 = performance.now();
    const v = relayout();
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, cssSize.w, cssSize.h);
    numbers.clear();
    if (!v) return;
    const s = store.get();
    const trace = s.trace;
    scales = new Map();
    for (const col of v.layout.columns) {
      if (col.offscreen) continue;   // the phone's other stages
      const layer = trace?.byName.get(col.shown);
      const kind = v.byName.get(col.shown).kind;
      const scale = !layer ? null : kind === "input"
        ? scaleForInput(s.model?.input, col.shape[0], ...extent(layer.values))
        : scaleForStage(kind, ...extent(layer.values), s.floors?.get(col.shown));
      if (scale) scales.set(col.shown, scale);
      ctx.imageSmoothingEnabled = false;
      ctx.save();
      if (col.clip) { ctx.beginPath(); ctx.rect(col.clip.x, col.clip.y, col.clip.w, col.clip.h); ctx.clip(); }
      if (layer && col.type === "maps") paintMaps(col, layer, scale);
      else if (layer && col.type === "nodes") paintNodes(col, layer, scale);
      else if (layer && col.type === "bars") paintBars(col, layer, s.model?.classes, trace.prediction);
      ctx.restore();
    }
    if (!v.compact) paintLabels(v.layout.columns);   // the phone's stage bar names its one stage
    performance.measure("net-repaint", { start: t0, end: performance.now() });
    renderOverlay();
  }

  let overlaid = true;   // the overlay may hold a highlight (unknown until first cleared)
  function renderOverlay() {
    const t0 = performance.now();
    const s = store.get();
    const focus = focusUnit(s);
    // Nothing focused (a stroke's updates, mostly): an overlay already empty is left alone, not
    // cleared into one more canvas frame for the compositor.
    if (overlaid || (view && focus)) {
      octx.setTransform(dpr, 0, 0, dpr, 0, 0);
      octx.clearRect(0, 0, cssSize.w, cssSize.h);
    }
    overlaid = !!(view && focus);
    if (overlaid) paintOverlay(octx, view, focus, s.explanation, { keyboard: s.keyboardFocus, pinned: !!s.pinned });
    performance.measure("net-hover", { start: t0, end: performance.now() });
  }

  // ---- interaction: pointer, tap, keyboard -------------------------------------------------
  const toFocus = (hit) => {
    const col = view.layout.columns[hit.column];
    return { layer: col.primary, unit: hit.unit, column: hit.column };
  };
  function at(e) {
    if (!view) return null;
    const r = canvas.getBoundingClientRect();
    const px = e.clientX - r.left, py = e.clientY - r.top;
    const hit = view.compact ? stageHit(view.layout, px, py, hitTest) : hitTest(view.layout, px, py);
    return hit ? toFocus(hit) : null;
  }
  function hover(f, extra = {}) {
    const s = store.get();
    if (sameUnit(f, s.hover)) return;
    const t0 = performance.now();
    store.set({ hover: f, ...extra });   // every view follows synchronously: highlight, panel, pad
    performance.measure("hover-apply", { start: t0, end: performance.now() });
  }

  canvas.addEventListener("pointermove", (e) => {
    if (e.pointerType === "mouse") hover(at(e), { keyboardFocus: false });
    else if (e.buttons && !view?.compact) {   // a finger or pen sliding over the network scrubs through the units
      const f = at(e);
      if (f && !sameUnit(f, store.get().pinned)) store.set({ pinned: f, hover: f });
    }
  });
  // Chromium also sends pointerleave when the tab is switched away under a resting mouse; that
  // is not the student leaving the unit, so a hidden canvas keeps the hover (issue 8).
  canvas.addEventListener("pointerleave", (e) => {
    if (e.pointerType === "mouse" && canvas.clientWidth) hover(null);
  });
  let press = null;   // the phone's pointerdown, until it ends as a tap, a swipe or a native pan
  canvas.addEventListener("pointerdown", (e) => {
    if (view?.compact) { press = { x: e.clientX, y: e.clientY, t: e.timeStamp }; return; }
    const f = at(e);
    const s = store.get();
    if (!f) {   // tap (or click) beside every unit: unpin
      if (s.pinned) store.set({ pinned: null, hover: null });
      return;
    }
    if (e.pointerType === "mouse") {
      store.set({ pinned: sameUnit(s.pinned, f) ? null : f, hover: f });
    } else {
      store.set({ pinned: f, hover: f });   // a tap inspects (there is no hover on glass)
    }
  });
  // Phone: a tap pins (or unpins) the unit under it, or zooms into a map too small to tap; a
  // horizontal swipe steps to the next or previous stage; anything else was the page's own
  // scroll of a zoomed map (the browser then sends pointercancel instead).
  canvas.addEventListener("pointercancel", () => { press = null; });
  canvas.addEventListener("pointerup", (e) => {
    if (!view?.compact || !press) return;
    const dx = e.clientX - press.x;
    const dy = e.clientY - press.y;
    press = null;
    if (Math.abs(dx) > 40 && Math.abs(dx) > 2 * Math.abs(dy)) { onSwipe(dx < 0 ? 1 : -1); return; }
    if (Math.hypot(dx, dy) > 12) return;
    const f = at(e);
    const s = store.get();
    if (!f) { store.set({ pinned: null, hover: null }); return; }
    if (view.layout.zoomable && view.layout.zoom == null) {
      store.set({ zoom: f.unit[0], pinned: f, hover: f });
      return;
    }
    store.set(sameUnit(s.pinned, f) ? { pinned: null, hover: null } : { pinned: f, hover: f });
  });
  let onSwipe = () => {};
  canvas.addEventListener("focus", () => {
    const s = store.get();
    if (!focusUnit(s) && view) {
      const col = view.layout.columns[0];
      store.set({ hover: { layer: col.primary, unit: col.shape.map(() => 0), column: 0 }, keyboardFocus: true });
    }
  });
  canvas.addEventListener("keydown", (e) => {
    const s = store.get();
    const f = focusUnit(s);
    if (!view || !f) return;
    const column = f.column ?? view.index.get(f.layer).column;
    const moves = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
    let next = null;
    if (moves[e.key]) {
      next = { ...f, column, unit: neighbour(view.layout, column, f.unit, ...moves[e.key]) };
    } else if (e.key === "Tab") {
      const to = column + (e.shiftKey ? -1 : 1);
      if (to < 0 || to >= view.layout.columns.length) return;   // let Tab leave the network
      const r = unitRect(view.layout.columns[column], f.unit);
      next = toFocus({ column: to, unit: nearestUnit(view.layout, to, r.y + r.h / 2) });
    } else if (e.key === "Enter" || e.key === " ") {
      store.set({ pinned: sameUnit(s.pinned, f) ? null : f });
      e.preventDefault();
      return;
    } else if (e.key === "Escape") {
      store.set({ pinned: null });
      return;
    } else {
      return;
    }
    e.preventDefault();
    // Keyboard moves the pinned unit when one is pinned, else the hover.
    store.set(s.pinned ? { pinned: next, hover: next, keyboardFocus: true } : { hover: next, keyboardFocus: true });
  });

  // Where a unit of stage `layer` is drawn, and the rectangles of its source window, in CSS
  // pixels relative to the canvas (for tests and the bench; the overlay uses the same geometry).
  function unitBox(layer, unit) {
    const at = view?.index.get(layer);
    return at ? unitRect(view.layout.columns[at.column], at.toUnit(unit)) : null;
  }
  function windowBoxes(layer, unit) {
    const src = sourceWindow(view.stages, layer, unit);
    if (src.layer === layer) return [];   // the input has no stage below
    const at = view.index.get(src.layer);
    const col = view.layout.columns[at.column];
    return windowRects(col, windowInColumn(src.window, view.byName.get(src.layer).shape, col.shape));
  }

  return { resize, render, renderOverlay, unitBox, windowBoxes, set onSwipe(fn) { onSwipe = fn; }, get layout() { return view?.layout ?? null; }, get view() { return view; }, scaleOf: (name) => scales.get(name), mapNumbers: (key) => numbers.get(key) ?? null, get footLabels() { return footBoxes; } };
}

const fmtScale = (v) => (v >= 1 ? String(v) : v.toPrecision(1));
