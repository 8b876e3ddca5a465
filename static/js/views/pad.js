// The drawing pad: pointer events (mouse, touch, pen), smooth strokes, undo, eraser, and the
// drawing as a forward body. White ink on a transparent canvas (the CSS background is black),
// so the canvas's alpha is the ink: the body sends it as a gray + alpha PNG (../png.js).
//
// createPad(canvas, {onChange}) -> pad. onChange(strokeTime) is called on every change while
// drawing (the network updates DURING the stroke; Chromium already delivers pointer moves once
// per frame), with the timestamp of the pointer event, so main.js can time stroke -> updated
// network. The receiver must be cheap: main.js hands it to a latest-wins scheduler.

import { inkBoxDataURL } from "../png.js";
import { alphaInkStats, noteInk } from "../honest.js";

const UNDO_DEPTH = 30;

export function createPad(canvas, { onChange = () => {}, brush = 20 } = {}) {
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  const state = { brush, eraser: false, drawing: false, last: null, mid: null, undo: [], blank: true, strokeTime: 0, inkBox: null };
  const small = document.createElement("canvas");   // for the downscaled-pixels body

  // The pad's box is read once per stroke (at pointerdown): read on every move, it forced a
  // layout of the page the last answer had just changed, before each move could be drawn.
  function point(e, r = state.rect ?? canvas.getBoundingClientRect()) {
    return { x: ((e.clientX - r.left) * canvas.width) / r.width, y: ((e.clientY - r.top) * canvas.height) / r.height };
  }
  function style() {
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    ctx.lineWidth = state.brush;
    ctx.strokeStyle = "#fff";
    ctx.fillStyle = "#fff";
    ctx.globalCompositeOperation = state.eraser ? "destination-out" : "source-over";
  }
  function changed(time) {
    state.strokeTime = time;
    // How long the pointer event waited before reaching us (bench/page.py reports it).
    if (time > 0) performance.measure("input-delay", { start: time, end: performance.now() });
    onChange(time);
  }
  // A box [x0, y0, x1, y1] (half-open, canvas pixels) that holds all of the ink, or null for
  // none: every stroke grows it by what it painted (the path's hull plus the brush and a pixel of
  // smoothing), so the body reads and filters only this part of the pad (png.js). Whatever is
  // painted from outside (a picture, a test digit, a restored pad) makes it the whole pad.
  const whole = () => [0, 0, canvas.width, canvas.height];
  function inked(xs, ys) {
    if (state.eraser) return;   // rubbing out never adds ink: the box stays a superset
    const m = ctx.lineWidth / 2 + 2;
    const b = [Math.floor(Math.min(...xs) - m), Math.floor(Math.min(...ys) - m), Math.ceil(Math.max(...xs) + m), Math.ceil(Math.max(...ys) + m)];
    const u = state.inkBox ? [Math.min(b[0], state.inkBox[0]), Math.min(b[1], state.inkBox[1]), Math.max(b[2], state.inkBox[2]), Math.max(b[3], state.inkBox[3])] : b;
    state.inkBox = [Math.max(0, u[0]), Math.max(0, u[1]), Math.min(canvas.width, u[2]), Math.min(canvas.height, u[3])];
  }
  function snapshot() {
    state.undo.push({ image: ctx.getImageData(0, 0, canvas.width, canvas.height), blank: state.blank, inkBox: state.inkBox });
    if (state.undo.length > UNDO_DEPTH) state.undo.shift();
  }

  // Smoothing: each move draws a quadratic curve from the previous midpoint to the new
  // midpoint with the previous point as control, so corners are rounded, not polygonal.
  function extend(p) {
    const { last, mid } = state;
    const m = { x: (last.x + p.x) / 2, y: (last.y + p.y) / 2 };
    ctx.beginPath();
    ctx.moveTo(mid.x, mid.y);
    ctx.quadraticCurveTo(last.x, last.y, m.x, m.y);
    ctx.stroke();
    inked([mid.x, last.x, m.x], [mid.y, last.y, m.y]);   // a quadratic curve stays in its points' hull
    state.last = p;
    state.mid = m;
  }

  canvas.addEventListener("pointerdown", (e) => {
    if (e.button !== undefined && e.button > 0) return;
    e.preventDefault();
    // Synthetic pointers (tests, some pens) may not be capturable: drawing still works without.
    try { canvas.setPointerCapture(e.pointerId); } catch { /* not capturable */ }
    snapshot();
    style();
    state.drawing = true;
    state.blank = state.eraser ? state.blank : false;
    state.rect = canvas.getBoundingClientRect();
    const p = point(e);
    state.last = p;
    state.mid = p;
    ctx.beginPath();   // a dot for a tap
    ctx.arc(p.x, p.y, state.brush / 2, 0, Math.PI * 2);
    ctx.fill();
    inked([p.x], [p.y]);
    changed(e.timeStamp);
  });
  canvas.addEventListener("pointermove", (e) => {
    if (!state.drawing) return;
    e.preventDefault();
    const events = e.getCoalescedEvents ? e.getCoalescedEvents() : [];
    for (const ev of events.length ? events : [e]) extend(point(ev));
    changed(e.timeStamp);
  });
  const end = (e) => {
    if (!state.drawing) return;
    state.drawing = false;
    state.rect = null;
    const { last, mid } = state;
    ctx.beginPath();
    ctx.moveTo(mid.x, mid.y);
    ctx.lineTo(last.x, last.y);
    ctx.stroke();
    inked([mid.x, last.x], [mid.y, last.y]);
    changed(e.timeStamp);
  };
  canvas.addEventListener("pointerup", end);
  canvas.addEventListener("pointercancel", end);
  canvas.addEventListener("lostpointercapture", end);

  return {
    canvas,
    get blank() { return state.blank; },
    get drawing() { return state.drawing; },   // a stroke in progress (the pointer is down)
    get strokeTime() { return state.strokeTime; },
    get pending() { return false; },   // every change is handed to onChange at once
    setBrush(n) { state.brush = n; },
    setEraser(on) { state.eraser = on; },
    clear() {
      snapshot();
      ctx.clearRect(0, 0, canvas.width, canvas.height);
      state.blank = true;
      state.inkBox = null;
      changed(performance.now());
    },
    undo() {
      const prev = state.undo.pop();
      if (!prev) return;
      ctx.putImageData(prev.image, 0, 0);
      state.blank = prev.blank;
      state.inkBox = prev.inkBox;
      changed(performance.now());
    },
    // Something was painted on the canvas from outside (a picked picture): undo-able, sent.
    markDrawn() {
      state.blank = false;
      state.inkBox = whole();
      changed(performance.now());
    },
    // The pad as it is, and back exactly (the class spotlight borrows the pad, then returns it).
    save() { return { image: ctx.getImageData(0, 0, canvas.width, canvas.height), blank: state.blank, inkBox: state.inkBox }; },
    restore(saved) {
      ctx.putImageData(saved.image, 0, 0);
      state.blank = saved.blank;
      state.inkBox = saved.inkBox === undefined ? whole() : saved.inkBox;
    },
    // Put a grayscale image (255 = ink) on the pad, scaled up smoothly; no change event (the
    // caller sends the original pixels, which are exact).
    loadPixels(pixels, width, height) {
      snapshot();
      const src = document.createElement("canvas");
      src.width = width;
      src.height = height;
      const img = new ImageData(width, height);
      for (let i = 0; i < width * height; i++) img.data.set([255, 255, 255, pixels[i]], i * 4);
      src.getContext("2d").putImageData(img, 0, 0);
      ctx.globalCompositeOperation = "source-over";
      ctx.clearRect(0, 0, canvas.width, canvas.height);
      ctx.imageSmoothingEnabled = true;
      ctx.drawImage(src, 0, 0, canvas.width, canvas.height);
      state.blank = false;
      state.inkBox = whole();
    },
    // The drawing as a forward body (a Promise; the ink PNG is built synchronously, png.js).
    // "png": the pad's ink (its alpha) as a gray + alpha PNG data URL at full resolution
    // (png.js says why it is not toDataURL). "rgba": canvas.toDataURL's RGBA PNG, as before.
    // "pixels": alpha (= ink) of the pad downscaled to `side`×`side`, as integers 0–255.
    async body(mode = "png", side = 112) {
      // Every body carries (out of band, honest.js) how much ink it holds: "draw a digit".
      const { width, height } = canvas;
      const alpha = () => {
        const ink = new Uint8Array(width * height);
        return { ink, stats: alphaInkStats(ctx.getImageData(0, 0, width, height).data, width, height, ink) };
      };
      if (mode === "rgba") return noteInk({ image: canvas.toDataURL("image/png") }, alpha().stats);
      // A colour model's picture (opaque, photo-like): a JPEG is ~8× smaller than its PNG and
      // the server decodes it ~8× faster (bench/import.py); the picture was lossy already.
      // Its "ink" is the whole picture, or nothing while none was chosen.
      if (mode === "jpeg") {
        return noteInk({ image: canvas.toDataURL("image/jpeg", 0.92) }, state.blank ? { ink: 0, box: null, width, height } : { ink: width * height, box: [0, 0, width, height], width, height });
      }
      if (mode === "png") {
        // Only the ink's box is read; outside it the pad is known to be blank (inked() above).
        const box = state.inkBox && [state.inkBox[0], state.inkBox[1], Math.min(width, state.inkBox[2]), Math.min(height, state.inkBox[3])];
        if (!box || box[2] <= box[0] || box[3] <= box[1]) return noteInk({ image: inkBoxDataURL(new Uint8Array(0), null, width, height) }, { ink: 0, box: null, width, height });
        const [x0, y0, x1, y1] = box;
        const ink = new Uint8Array((x1 - x0) * (y1 - y0));
        const inBox = alphaInkStats(ctx.getImageData(x0, y0, x1 - x0, y1 - y0).data, x1 - x0, y1 - y0, ink);
        const stats = { ink: inBox.ink, box: inBox.box && [inBox.box[0] + x0, inBox.box[1] + y0, inBox.box[2] + x0, inBox.box[3] + y0], width, height };
        return noteInk({ image: inkBoxDataURL(ink, box, width, height) }, stats);
      }
      small.width = side;
      small.height = side;
      const sctx = small.getContext("2d", { willReadFrequently: true });
      sctx.clearRect(0, 0, side, side);
      sctx.imageSmoothingEnabled = true;
      sctx.imageSmoothingQuality = "high";
      sctx.drawImage(canvas, 0, 0, side, side);
      const data = sctx.getImageData(0, 0, side, side).data;
      const pixels = new Array(side * side);
      for (let i = 0; i < pixels.length; i++) pixels[i] = data[i * 4 + 3];
      return { pixels, width: side, height: side };
    },
  };
}
