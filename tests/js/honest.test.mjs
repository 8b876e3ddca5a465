import { test } from "node:test";
import assert from "node:assert/strict";
import { inkStats, alphaInkStats, nearlyBlank, inkOf, noteInk, traceIsBlank, backoff, retryable } from "../../static/js/honest.js";
import { createAnnouncer } from "../../static/js/announce.js";
import { scaleForStage, stageFloors, legendDecimals, legendTicks } from "../../static/js/color.js";

// A W×H alpha image with full ink in the rectangle [x0, x1) × [y0, y1).
function rect(W, H, x0, y0, x1, y1) {
  const a = new Uint8Array(W * H);
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) a[y * W + x] = 255;
  return a;
}

test("inkStats: ink in full-pixel units and the half-open box, checked against a naive count", () => {
  const a = rect(280, 280, 100, 40, 120, 240);
  a[5] = 51;   // a faint stray pixel at (5, 0): 0.2 of a pixel, and it widens the box
  const s = inkStats(a, 280, 280);
  assert.ok(Math.abs(s.ink - (20 * 200 + 0.2)) < 1e-9);
  assert.deepEqual(s.box, [5, 0, 120, 240]);
  assert.equal(inkStats(new Uint8Array(16), 4, 4).box, null);
  const rgba = new Uint8Array(280 * 280 * 4);
  a.forEach((v, i) => { rgba[i * 4 + 3] = v; });
  const out = new Uint8Array(280 * 280);
  assert.deepEqual(alphaInkStats(rgba, 280, 280, out), s, "the pad's one-pass version agrees");
  assert.deepEqual(out, a, "and extracts the alpha it encodes");
});

test("nearlyBlank: a blank pad, a tap and a speck are blank; a thin-brush 1 and a digit are not", () => {
  const W = 280;
  assert.ok(nearlyBlank(inkStats(new Uint8Array(W * W), W, W)), "blank");
  assert.ok(nearlyBlank(inkStats(rect(W, W, 130, 130, 148, 148), W, W)), "one tap of the 20 px brush");
  const specks = rect(W, W, 10, 10, 14, 14);
  specks.set(rect(W, W, 200, 200, 204, 204).subarray(200 * W), 200 * W);
  assert.ok(nearlyBlank(inkStats(specks, W, W)), "two specks far apart: a big box but 32 px of ink");
  assert.ok(!nearlyBlank(inkStats(rect(W, W, 130, 40, 136, 250), W, W)), "a '1' with the thinnest brush, 210 px tall");
  assert.ok(!nearlyBlank(inkStats(rect(W, W, 80, 40, 200, 240), W, W)), "a fat blob the size of a digit");
  assert.ok(nearlyBlank(null));
});

test("inkOf: the pad's note for an image body, measured for a pixel body; traceIsBlank falls back to the crop box", () => {
  const image = noteInk({ image: "data:," }, { ink: 0, box: null, width: 280, height: 280 });
  assert.equal(inkOf(image).box, null);
  const pixels = { pixels: Array.from(rect(28, 28, 8, 4, 20, 24)), width: 28, height: 28 };
  assert.deepEqual(inkOf(pixels).box, [8, 4, 20, 24]);
  assert.equal(traceIsBlank({ body: pixels }), false);
  assert.equal(traceIsBlank({ body: image }), true);
  assert.equal(traceIsBlank({ body: { image: "x" }, preprocessing: { crop_box: null } }), true);
  assert.equal(traceIsBlank({ body: { image: "x" }, preprocessing: { crop_box: [1, 1, 20, 20] } }), false);
});

test("backoff doubles to its cap and resets; only a server-side failure is retried", () => {
  const b = backoff({ first: 250, max: 2000 });
  assert.deepEqual([b.next(), b.next(), b.next(), b.next(), b.next()], [250, 500, 1000, 2000, 2000]);
  b.reset();
  assert.equal(b.next(), 250);
  assert.ok(retryable(new TypeError("Failed to fetch")), "no status: the network");
  assert.ok(retryable({ status: 503 }) && retryable({ status: 429 }) && retryable({ status: 502 }));
  assert.ok(!retryable({ status: 422 }) && !retryable({ status: 413 }), "a bad drawing is not retried");
});

test("announcer: one announcement per settled drawing, none while answers keep coming", () => {
  let now = 0;
  const timers = [];
  const setTimer = (fn, ms) => { const t = { fn, at: now + ms, live: true }; timers.push(t); return t; };
  const clearTimer = (t) => { t.live = false; };
  const advance = (ms) => { now += ms; for (const t of timers) if (t.live && t.at <= now) { t.live = false; t.fn(); } };
  const said = [];
  const a = createAnnouncer((text) => said.push(text), { quiet: 700, setTimer, clearTimer });
  const drawing = {};
  for (let k = 0; k < 60; k++) { a.update({}, `Prediction ${k % 10}`); advance(33); }   // 2 s of strokes
  assert.deepEqual(said, [], "nothing while drawing");
  a.update(drawing, "Prediction 3, 99.0%");
  advance(700);
  assert.deepEqual(said, ["Prediction 3, 99.0%"]);
  a.update(drawing, "Prediction 3, 99.0%");   // the same drawing again (an explain re-render)
  advance(1000);
  assert.equal(said.length, 1, "the same drawing is not announced twice");
  a.update({}, "Prediction 3, 97.0%");        // a new drawing, same class: announced
  advance(700);
  assert.equal(said.length, 2);
});

test("scale floor: a blank pad's bias-level conv stage is drawn near-white, with real legend bounds", () => {
  const real = [{ name: "conv1", kind: "conv", values: Float32Array.from([-3, 4.2, 0.5]) }, { name: "input", kind: "input", values: Float32Array.from([0, 1]) }];
  const floors = stageFloors(real);
  assert.ok(Math.abs(floors.get("conv1") - 0.42) < 1e-6);
  assert.equal(floors.has("input"), false);
  const blank = scaleForStage("conv", -0.002, 0.0015, floors.get("conv1"));
  assert.deepEqual(blank.domain, [-0.5, 0.5]);
  const white = blank.color(0.002);
  assert.ok(white.every((c) => c > 240), `0.002 on ±0.5 is near-white, got ${white}`);
  assert.deepEqual(scaleForStage("conv", -0.002, 0.0015).domain, [-0.002, 0.002], "no floor: the old stretch");
  assert.deepEqual(scaleForStage("conv", -3, 4.2, 0.42).domain, [-5, 5], "a real drawing is unaffected");
  const d = legendDecimals(0.002);
  assert.deepEqual(legendTicks(scaleForStage("conv", 0, 0.0015)).map((t) => t.toFixed(d)), ["-0.002", "0.000", "0.002"], "never 0.00 0.00 0.00");
});
