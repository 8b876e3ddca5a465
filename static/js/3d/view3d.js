// The 3D tab: the record as stacked planes of units, orbitable, with exact hover explanations.
//
// mount3D(el, store) builds the canvas, toolbar and label overlay inside `el`, then follows the
// shared store: `model` / `foldActivations` rebuild the layout, `trace` repaints the colour
// buffer only (positions never change while drawing), `hover` / `pinned` redraw the highlight
// rings and Harley's connection lines. Hovering here writes `hover` (tapping or clicking writes
// `pinned`), so the page's one explain panel shows /api/explain's numbers for the 3D unit too.
// Frames are drawn on demand (one requestAnimationFrame per batch of changes), never in a loop.
import { connectedMaps } from "../connections.js";
import { focusUnit, sameUnit } from "../state.js";
import { fixed } from "../numbers.js";
import { colourNames, mapName } from "../channels.js";
import { offset, sourceWindow } from "../tensor.js";
import { attachControls } from "./controls3d.js";
import { FOVY, clampTarget, eyeOf, orbit, pan, presets, startTransition, transitionAt, viewProjection, zoom } from "./camera.js";
import { layout3D, planeCorners, resolve, STAGE_SPACING, unitCenter, unitIndex } from "./layout3d.js";
import { createLabels } from "./labels3d.js";
import { project } from "./math.js";
import { backings, paintUnits } from "./paint3d.js";
import { pickUnit, rayFromCamera, windowLines } from "./pick.js";
import { createRenderer } from "./renderer.js";

const FOCUS_RING = [255, 214, 0, 255];
const SOURCE_RING = [0, 214, 255, 200];
const LINE = [120, 220, 255, 150];
const MAX_DPR = 2; // software renderers pay per pixel; 2× is already crisp

// options.mode: how the renderer draws the units ("atlas", "expanded", "instanced"; renderer.js).
export function mount3D(el, store, { mode = "atlas" } = {}) {
  el.replaceChildren();
  el.classList.add("view3d");
  const { toolbar, stage, canvas, overlay } = buildDom(el);
  const renderer = createRenderer(canvas, { mode });
  if (renderer.error) {
    stage.replaceChildren(message(`The 3D view needs WebGL: ${renderer.error}. The Network tab shows the same units in 2D.`));
    return { error: renderer.error, destroy: () => el.replaceChildren() };
  }

  let layout = null;
  let camera = null;
  let views = null;
  let transition = null;
  let moved = false; // the student has moved the camera: a resize keeps their view
  let frame = 0;
  let pendingTrace = null; // time a new trace arrived, until the frame that shows it
  const stats = { frames: 0, lastDrawMs: 0, traceToFrameMs: null, paintMs: 0, pickMs: 0, units: 0, drawCalls: 0, webgl: renderer.version, mode: renderer.mode };
  const labels = createLabels(overlay);
  let scales = new Map(); // shown stage name -> colour scale (the legend's)

  function rebuild(state) {
    const layers = state.trace?.layers ?? state.model?.layers;
    if (!layers) return;
    layout = layout3D(layers, { foldActivations: state.foldActivations ?? true, classes: state.model?.classes ?? null });
    renderer.setLayout(layout);
    stats.units = layout.count;
    const b = backings(layout);
    renderer.setPanels(b.positions, b.colors);
    views = presets(layout.bounds, aspect(), planeCorners(layout));
    if (!camera || !moved) camera = views.overview; // (un)folding changes the stack's depth
    labels.setLayout(layout);
    repaint(state);
    highlight(state);
  }

  function repaint(state) {
    if (!layout) return;
    const t0 = performance.now();
    const painted = paintUnits(layout, state.trace, undefined, state.model?.input);
    renderer.setColors(painted.colors);
    labels.setScales(painted.scales, state.trace?.layers, colourNames(state.model));
    scales = new Map([...painted.scales.values()].map((v) => [v.stage, v.scale]));
    stats.paintMs = performance.now() - t0;
    updateTip(state); // a pinned unit's value changes as the student draws
    pendingTrace = pendingTrace ?? t0;
    requestDraw();
  }

  function updateTip(state) {
    const focus = focusUnit(state);
    const at = focus && layout ? unitCenter(layout, focus.layer, focus.unit) : null;
    labels.setTip(at ? tipText(state, layout, focus) : null, at);
  }

  // Rings on the focused unit and its source window, lines between them.
  function highlight(state) {
    if (!layout) return;
    const focus = focusUnit(state);
    const stages = state.trace?.layers ?? state.model?.layers;
    const fi = focus ? unitIndex(layout, focus.layer, focus.unit) : -1;
    updateTip(state);
    if (fi < 0) {
      renderer.setHighlights(new Float32Array(0), new Uint8Array(0));
      renderer.setLines(new Float32Array(0), new Uint8Array(0));
      requestDraw();
      return;
    }
    const source = sourceWindow(stages, focus.layer, focus.unit);
    const stage = stages.find((l) => l.name === focus.layer);
    const maps = connectedMaps(stage, focus.unit); // LeCun's C3 table: only the maps it reads
    const lines = source ? windowLines(layout, focus.layer, focus.unit, source.layer, source.window, maps) : { segments: new Float32Array(0), indices: [] };
    const n = lines.indices.length;
    const inst = new Float32Array((n + 1) * 4);
    const colors = new Uint8Array((n + 1) * 4);
    lines.indices.forEach((ix, k) => {
      inst.set(layout.positions.subarray(ix * 4, ix * 4 + 4), k * 4);
      colors.set(SOURCE_RING, k * 4);
    });
    inst.set(layout.positions.subarray(fi * 4, fi * 4 + 4), n * 4);
    colors.set(FOCUS_RING, n * 4);
    renderer.setHighlights(inst, colors);
    const lineColors = new Uint8Array(n * 2 * 4);
    for (let v = 0; v < n * 2; v++) lineColors.set(LINE, v * 4);
    renderer.setLines(lines.segments, lineColors);
    requestDraw();
  }

  function requestDraw() {
    if (!frame) frame = requestAnimationFrame(draw);
  }

  function draw(now) {
    frame = 0;
    if (!layout || !canvas.clientWidth) return; // tab hidden: draw when shown (ResizeObserver)
    if (transition) {
      const t = transitionAt(transition, now);
      camera = t.camera;
      if (t.done) transition = null;
      else requestDraw();
    }
    renderer.resize(Math.min(MAX_DPR, window.devicePixelRatio || 1));
    const w = canvas.clientWidth;
    const h = canvas.clientHeight;
    const t0 = performance.now();
    const vp = viewProjection(camera, w / h);
    renderer.draw(vp, canvas.height / 2 / Math.tan(FOVY / 2));
    labels.place(vp, w, h, eyeOf(camera));
    stats.lastDrawMs = performance.now() - t0;
    stats.drawCalls = renderer.stats.drawCalls;
    stats.frames++;
    if (pendingTrace !== null) {
      stats.traceToFrameMs = performance.now() - pendingTrace;
      pendingTrace = null;
    }
  }

  function setCamera(next, animate = false) {
    if (!camera) return;
    moved = true;
    // The orbit target stays inside the stack's box: no drag can swing the stack out of view.
    if (layout) next = clampTarget(next, layout.bounds);
    // students who ask their system for reduced motion get the preset at once
    const still = window.matchMedia?.("(prefers-reduced-motion: reduce)").matches;
    transition = animate && !still ? startTransition(camera, next, performance.now()) : null;
    if (!transition) camera = next;
    requestDraw();
  }

  function pickAt(x, y) {
    if (!layout || !camera) return null;
    const t0 = performance.now();
    const hit = pickUnit(layout, rayFromCamera(camera, x, y, canvas.clientWidth, canvas.clientHeight));
    stats.pickMs = performance.now() - t0;
    return hit ? { layer: hit.name, unit: hit.unit } : null;
  }

  const aspect = () => (canvas.clientWidth && canvas.clientHeight ? canvas.clientWidth / canvas.clientHeight : 1.6);
  const setHover = (hover) => {
    if (!sameUnit(store.get().hover, hover)) store.set({ hover });
  };
  const detach = attachControls(canvas, {
    orbit: (dx, dy) => setCamera(orbit(camera, dx, dy)),
    pan: (dx, dy) => setCamera(pan(camera, dx, dy, canvas.clientHeight)),
    zoom: (factor) => setCamera(zoom(camera, factor)),
    hover: (x, y) => setHover(pickAt(x, y)),
    // Chromium also sends pointerleave when the tab is switched away under a resting mouse;
    // that is not the student leaving the unit, so a hidden canvas keeps the hover.
    leave: () => { if (canvas.clientWidth) setHover(null); },
    tap: (x, y) => {
      const hit = pickAt(x, y);
      const pinned = hit && !sameUnit(store.get().pinned, hit) ? hit : null;
      store.set({ pinned, hover: hit });
    },
    escape: () => store.set({ pinned: null }),
    fly: (x, y) => {
      const hit = pickAt(x, y);
      if (hit) flyTo(hit.layer, hit.unit);
    },
  });

  // Glide the camera to look at one unit from close by, keeping the current angles. Close
  // enough that the eye stays nearer than the neighbouring plane (so it does not hide the unit),
  // and at most 60 world units away (the unit's map then fills a good part of the view).
  function flyTo(layer, unit) {
    const c = layout && unitCenter(layout, layer, unit);
    if (!c) return;
    const along = Math.abs(Math.cos(camera.pitch) * Math.cos(camera.yaw)); // eye's z per unit distance
    const distance = along > 0 ? Math.min(60, (0.9 * STAGE_SPACING) / along) : 60;
    setCamera({ ...camera, target: c, distance }, true);
  }

  for (const [name, label] of [["overview", "Overview"], ["front", "Front"], ["side", "Side"]]) {
    toolbar.append(button(label, `Camera: ${label.toLowerCase()} view`, () => views && setCamera(views[name], true)));
  }
  toolbar.append(button("Reset view", "Reset the camera to the overview", () => views && setCamera(views.overview, true)));
  const help = document.createElement("span");
  help.className = "view3d-help";
  help.style.cssText = "margin-left:12px;font-size:.85em;opacity:.75;";
  help.textContent = "drag: rotate · right/shift-drag: pan · wheel or pinch: zoom · double-click: fly to a unit · hover or tap: explain";
  toolbar.append(help);

  const offs = [
    store.subscribe((s) => rebuild(s), ["model", "foldActivations"]),
    store.subscribe((s) => (layout && sameStages(layout, s) ? repaint(s) : rebuild(s)), ["trace"]),
    store.subscribe((s) => highlight(s), ["hover", "pinned"]),
  ];
  // Presets depend on the aspect; the canvas has none while its tab is hidden, so reframe
  // when it first gets a size (unless the student already moved the camera).
  // A GPU reset or too many contexts can take WebGL away; say so rather than freeze silently.
  const lost = (e) => {
    e.preventDefault();
    stage.append(message("The 3D view lost its WebGL context (the GPU was reset or is busy). Reload the page to get it back; the Network tab still works."));
  };
  canvas.addEventListener("webglcontextlost", lost);
  const resize = new ResizeObserver(() => {
    if (layout && canvas.clientWidth) {
      views = presets(layout.bounds, aspect(), planeCorners(layout));
      if (!moved) camera = views.overview;
    }
    requestDraw();
  });
  resize.observe(canvas);
  rebuild(store.get());

  const api = {
    stats,
    get camera() { return camera; },
    set camera(c) { setCamera(c); },
    views: () => views,
    bounds: () => layout?.bounds ?? null,
    // CSS-pixel position of a unit's centre within the canvas (tests and the bench hover it).
    screenOf(layer, unit) {
      const c = layout && unitCenter(layout, layer, unit);
      if (!c) return null;
      const p = project(viewProjection(camera, canvas.clientWidth / canvas.clientHeight), c, canvas.clientWidth, canvas.clientHeight);
      return p && { x: p.x, y: p.y };
    },
    pickAt,
    flyTo,
    centerOf: (layer, unit) => (layout ? unitCenter(layout, layer, unit) : null),
    // true while a frame or a camera transition is still to be drawn
    get busy() { return frame !== 0 || transition !== null; },
    redraw: requestDraw,
    // Draw now, outside requestAnimationFrame (bench/page3d.py times frames with it).
    drawNow: () => draw(performance.now()),
    // Wait for the GPU (or SwiftShader) to finish: reading one pixel cannot return earlier.
    syncGpu: () => renderer.gl.readPixels(0, 0, 1, 1, renderer.gl.RGBA, renderer.gl.UNSIGNED_BYTE, new Uint8Array(4)),
    // For the shared panel (views/panel.js reads columns[index.get(layer).column].shown).
    panelView: () => layout && { layout: { columns: layout.planes }, index: layout.stages },
    planeOf: (name) => (layout && layout.stages.has(name) ? layout.planes[layout.stages.get(name).column] : null),
    scaleOf: (shown) => scales.get(shown) ?? null,
    destroy() {
      offs.forEach((off) => off());
      detach();
      canvas.removeEventListener("webglcontextlost", lost);
      resize.disconnect();
      if (frame) cancelAnimationFrame(frame);
      el.replaceChildren();
    },
  };
  canvas.view3d = api; // the handle tests and bench/page3d.py drive
  return api;
}

// "conv1[0, 3, 4] = −0.312 → relu1 0.000": the unit's value and, when the plane shows a folded
// activation, what the plane's colour shows. Values straight from the trace (no request).
function tipText(state, layout, focus) {
  const trace = state.trace;
  const rec = trace?.byName.get(focus.layer);
  const name = `${focus.layer}[${focus.unit.join(", ")}]`;
  if (!rec) return name;
  const value = rec.values[offset(rec.shape, focus.unit)];
  const { plane, unit } = resolve(layout, focus.layer, focus.unit);
  const shown = plane.shown !== focus.layer ? trace.byName.get(plane.shown) : null;
  const after = shown?.kind === "activation" ? ` → ${shown.name} ${fixed(shown.values[offset(shown.shape, unit)])}` : "";
  // A photo's input pixel names its colour: "input[0, 30, 30] red channel (map 0) = 1.650".
  const which = rec.kind === "input" && colourNames(state.model) ? ` ${mapName(state.model, focus.unit[0])}` : "";
  return `${name}${which} = ${fixed(value)}${after}`;
}

// The trace's stage names still match the layout's planes (a new model would not).
function sameStages(layout, state) {
  const layers = state.trace?.layers;
  return !layers || layers.every((l) => layout.stages.has(l.name));
}

function buildDom(el) {
  const toolbar = document.createElement("div");
  toolbar.className = "view3d-toolbar";
  toolbar.setAttribute("role", "toolbar");
  toolbar.setAttribute("aria-label", "3D camera");
  const stage = document.createElement("div");
  stage.className = "view3d-stage";
  stage.style.cssText = "position:relative;flex:1 1 auto;min-height:300px;";
  const canvas = document.createElement("canvas");
  canvas.className = "view3d-canvas";
  canvas.tabIndex = 0;
  canvas.setAttribute("role", "application");
  canvas.setAttribute("aria-label",
    "3D network: drag to rotate, right- or shift-drag to pan, wheel or pinch to zoom, double-click a unit to fly to it; arrow keys rotate, shift+arrows pan, plus and minus zoom. Hover or tap a unit to see how its value was made.");
  // touch-action none: a finger drag must orbit, not scroll the page
  canvas.style.cssText = "position:absolute;inset:0;width:100%;height:100%;display:block;touch-action:none;outline-offset:-2px;cursor:grab;";
  const overlay = document.createElement("div");
  overlay.className = "view3d-labels";
  overlay.setAttribute("aria-hidden", "true");
  overlay.style.cssText = "position:absolute;inset:0;pointer-events:none;overflow:hidden;font:calc(var(--font, 13px) - 1px) system-ui,sans-serif;color:#e8eaef;";   // grows with Projector
  stage.append(canvas, overlay);
  el.append(toolbar, stage);
  return { toolbar, stage, canvas, overlay };
}

function button(text, label, onClick) {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = text;
  b.setAttribute("aria-label", label);
  b.addEventListener("click", onClick);
  return b;
}

function message(text) {
  const p = document.createElement("p");
  p.className = "view3d-message";
  p.setAttribute("role", "status");
  p.style.cssText = "position:absolute;left:12px;right:12px;top:12px;z-index:1;margin:0;padding:8px 10px;"
    + "border-radius:6px;background:#fff4d6;color:#3a2f12;";
  p.textContent = text;
  return p;
}
