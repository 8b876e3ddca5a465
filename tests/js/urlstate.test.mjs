import { test } from "node:test";
import assert from "node:assert/strict";
import zlib from "node:zlib";
import {
  encodeHash, decodeHash, decodeHashFields, encodeInk, decodeInk, downsampleInk, quantiseInk,
  toBase64url, fromBase64url, customKernel, inkBody, INK_SIDE,
} from "../../static/js/urlstate.js";

// A digit-like drawing: a thick ring of antialiased ink on a 280×280 pad.
function padRing(W = 280) {
  const a = new Uint8Array(W * W);
  for (let y = 0; y < W; y++) for (let x = 0; x < W; x++) {
    const r = Math.hypot(x - 140, (y - 140) * 0.7);
    a[y * W + x] = Math.max(0, Math.min(255, Math.round((14 - Math.abs(r - 70)) * 40)));
  }
  return a;
}

function withCrc(bytes) {   // a well-formed code around any deflate stream (checks past the CRC)
  const out = Buffer.alloc(bytes.length + 4);
  bytes.copy(out);
  out.writeUInt32BE(zlib.crc32(bytes), bytes.length);
  return toBase64url(out);
}

function seeded(seed) {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

test("base64url round-trips every length and refuses other alphabets", () => {
  const rnd = seeded(1);
  for (let n = 0; n < 40; n++) {
    const bytes = Uint8Array.from({ length: n }, () => Math.floor(rnd() * 256));
    const text = toBase64url(bytes);
    assert.equal(text, Buffer.from(bytes).toString("base64url"), "same as Node's encoder");
    assert.deepEqual(fromBase64url(text), bytes);
  }
  assert.throws(() => fromBase64url("ab+/"));
  assert.throws(() => fromBase64url("abcde"));   // a length no encoder makes
});

test("downsampleInk averages blocks (checked against a naive mean)", () => {
  const a = padRing();
  const small = downsampleInk(a, 280, 280, INK_SIDE);
  assert.equal(small.length, INK_SIDE * INK_SIDE);
  for (const [oy, ox] of [[0, 0], [28, 14], [13, 40], [55, 55]]) {
    let s = 0;
    for (let y = oy * 5; y < oy * 5 + 5; y++) for (let x = ox * 5; x < ox * 5 + 5; x++) s += a[y * 280 + x];
    assert.equal(small[oy * INK_SIDE + ox], Math.round(s / 25));
  }
});

test("ink round-trips exactly after quantising, inflates with Node's zlib, and stays small", async () => {
  const ink = { width: INK_SIDE, height: INK_SIDE, pixels: downsampleInk(padRing(), 280, 280) };
  const code = await encodeInk(ink);
  const back = await decodeInk(code);
  assert.equal(back.width, INK_SIDE);
  assert.deepEqual(back.pixels, quantiseInk(ink.pixels));
  assert.ok(back.pixels.every((v, i) => Math.abs(v - ink.pixels[i]) <= 8.5), "4-bit: within half a level");
  // An independent inflater reads the same nibbles.
  const payload = Buffer.from(code.split(".")[1], "base64url");
  assert.equal(payload.readUInt32BE(payload.length - 4), zlib.crc32(payload.subarray(0, -4)), "CRC-32 of the deflated bytes");
  const raw = zlib.inflateRawSync(payload.subarray(0, -4));
  assert.equal(raw.length, INK_SIDE * INK_SIDE / 2);
  assert.equal(raw[0] >> 4, Math.round(ink.pixels[0] * 15 / 255));
  assert.ok(code.length < 1500, `a digit's ink is ${code.length} characters`);
  // Quantised ink encodes to itself: a link made from a link is the same link.
  assert.equal(await encodeInk({ ...back }), code);
});

test("a truncated, damaged or oversized ink is refused with a message, never thrown past decodeHash", async () => {
  const ink = { width: INK_SIDE, height: INK_SIDE, pixels: downsampleInk(padRing(), 280, 280) };
  const code = await encodeInk(ink);
  const bad = [
    code.slice(0, code.length - 12), code.slice(0, 12), `${code}AAAA`, code.replace(/\.(.)/, ".$1$1"),
    "56x56.", "56x56", "4x4.AAAA", "999x999.AAAA", "56x56.!!!!", `${INK_SIDE}x${INK_SIDE}.${withCrc(zlib.deflateRawSync(Buffer.alloc(5000)))}`,
    `${INK_SIDE}x${INK_SIDE}.${withCrc(zlib.deflateRawSync(Buffer.alloc(100)))}`,
  ];
  for (const b of bad) {
    await assert.rejects(decodeInk(b), Error, b.slice(0, 30));
    const { view, notes } = await decodeHash(`#tab=lab&ink=${b}`);
    assert.equal(view.tab, "lab", "the rest of the link still applies");
    assert.equal(view.drawing, undefined);
    assert.ok(notes.some((n) => n.includes("drawing")), notes.join("; "));
  }
});

test("every view field round-trips", async () => {
  const ink = { width: INK_SIDE, height: INK_SIDE, pixels: quantiseInk(downsampleInk(padRing(), 280, 280)) };
  const views = [
    {},
    { tab: "lab", fold: false, pin: { layer: "conv1", unit: [2, 10, 11] } },
    { tab: "learn", pin: { layer: "fc1", unit: [119] }, lesson: { id: "backprop-filter", step: 4 }, drawing: { sample: [7, 12] } },
    { tab: "lab", lab: { kernel: "classic:edge_all", stride: 2, padding: 1, activation: "tanh", pool: "avg", window: 3, source: "centred" } },
    { lab: { kernel: customKernel(3, [0, -1, 0, -1, 4, -1, 0, 0.1111, 1 / 3]), stride: 1, padding: 0, activation: "none", pool: "max", window: 2, source: "input" } },
    { lab: { kernel: "learned:conv1:5", stride: 3, padding: 3, activation: "relu", pool: "sum", window: 1, source: "input" } },
    // an RGB model's Lab: input channel 2, and filter 4's slice that reads it
    { tab: "lab", lab: { kernel: "learned:conv1:4:2", stride: 1, padding: 0, activation: "relu", pool: "max", window: 2, source: "input:2" } },
    { lab: { kernel: "classic:sharpen", stride: 1, padding: 1, activation: "none", pool: "avg", window: 2, source: "input:12" } },
    { tab: "3d", drawing: { ink } },
    { tab: "learn", learn: { target: 3, rate: 0.01, steps: 5 }, drawing: { sample: [8, 2] } },
    { tab: "learn", learn: { target: 0, rate: 0.001, steps: 0 } },
    { tab: "learn", learn: { target: 9, rate: 1, steps: 20 } },
  ];
  for (const v of views) {
    const hash = await encodeHash(v);
    const { view, notes } = await decodeHash(hash);
    assert.deepEqual(notes, [], hash);
    const expected = structuredClone(v);
    if (expected.tab === "network") delete expected.tab;
    if (expected.lab?.kernel.startsWith("custom")) expected.lab.kernel = customKernel(3, [0, -1, 0, -1, 4, -1, 0, 0.1111, 0.3333]);
    assert.deepEqual(view, expected, hash);
  }
  assert.equal(await encodeHash({ tab: "network", fold: true }), "", "the default view keeps a clean URL");
});

test("random views round-trip (200 seeds)", async () => {
  const rnd = seeded(7);
  const pick = (xs) => xs[Math.floor(rnd() * xs.length)];
  for (let i = 0; i < 200; i++) {
    const v = {};
    if (rnd() < 0.7) v.tab = pick(["3d", "learn", "lab"]);
    if (rnd() < 0.5) v.fold = false;
    if (rnd() < 0.8) v.pin = pick([{ layer: "conv2", unit: [Math.floor(rnd() * 16), Math.floor(rnd() * 10), Math.floor(rnd() * 10)] }, { layer: "fc2", unit: [Math.floor(rnd() * 100)] }]);
    if (rnd() < 0.5) v.lab = { kernel: pick(["classic:blur", "learned:conv1:0", "learned:conv1:9:1"]), stride: pick([1, 2, 3]), padding: pick([0, 1, 2, 3]), activation: pick(["relu", "tanh", "sigmoid", "none"]), pool: pick(["max", "avg", "sum"]), window: pick([1, 2, 3, 4]), source: pick(["input", "centred", "input:0", "input:2"]) };
    if (rnd() < 0.5) v.learn = { target: Math.floor(rnd() * 10), rate: pick([0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1]), steps: Math.floor(rnd() * 21) };
    if (rnd() < 0.5) v.lesson = { id: pick(["feature-maps", "why-120"]), step: 1 + Math.floor(rnd() * 8) };
    if (rnd() < 0.5) v.drawing = { sample: [Math.floor(rnd() * 10), Math.floor(rnd() * 100)] };
    const { view, notes } = await decodeHash(await encodeHash(v));
    assert.deepEqual(notes, []);
    assert.deepEqual(view, v);
  }
});

test("bad fields are ignored one by one with a note; nothing throws", () => {
  const cases = [
    ["#tab=nope", "tab"], ["#fold=2", "fold"], ["#pin=conv1", "pin"], ["#pin=conv1:a,b", "pin"],
    ["#pin=1x:0,0,0", "pin"], ["#lab=classic:blur;s9;p0;relu;max2;input", "lab"], ["#lab=garbage", "lab"],
    ["#lab=custom:3:1,2;s1;p0;relu;max2;input", "lab"], ["#lesson=../etc&step=2", "lesson"],
    ["#lab=classic:blur;s1;p0;relu;max2;input:", "lab"], ["#lab=classic:blur;s1;p0;relu;max2;input:x", "lab"],
    ["#lab=classic:blur;s1;p0;relu;max2;input:123", "lab"], ["#lab=classic:blur;s1;p0;relu;max2;centred:1", "lab"],
    ["#lab=classic:blur;s1;p0;relu;max2;output", "lab"], ["#lab=learned:conv1:4:x;s1;p0;relu;max2;input:2", "lab"],
    ["#lab=learned:conv1:4:2:1;s1;p0;relu;max2;input:2", "lab"],
    ["#lesson=feature-maps&step=0", "lesson"], ["#step=3", "step"], ["#sample=7", "sample"],
    ["#sample=7:0&ink=56x56.AAAA", "ink"],
    ["#learn=garbage", "learn"], ["#learn=t3;lr0.03;n2", "learn"], ["#learn=t3;lr0.01;n100", "learn"],
    ["#learn=t-1;lr0.01;n2", "learn"], ["#learn=t3;lr0.01", "learn"], ["#learn=t3;lrNaN;n2", "learn"], ["#learn=t100;lr0.01;n2", "learn"], ["#what=1", "what"], ["#%E0%A4%A=1", "URL-encoded"],
  ];
  for (const [hash, word] of cases) {
    const { notes } = decodeHashFields(hash);
    assert.equal(notes.length, 1, `${hash}: ${notes.join("; ")}`);
    assert.ok(notes[0].includes(word), notes[0]);
  }
  const learnt = decodeHashFields("#tab=learn&learn=t3;lr9;n2&sample=4:1");
  assert.deepEqual(learnt.view, { tab: "learn", drawing: { sample: [4, 1] } }, "a bad Learn setting leaves the rest of the link");
  assert.ok(learnt.notes[0].includes("0.001, 0.002"), "the note names the rates accepted");
  const { view, notes } = decodeHashFields("#tab=lab&pin=bad&fold=0");
  assert.deepEqual(view, { tab: "lab", fold: false }, "good fields survive a bad neighbour");
  assert.equal(notes.length, 1);
  for (const junk of [null, undefined, "", "#", "#&&&", "#=", "#====&x", "%", "#tab"]) assert.doesNotThrow(() => decodeHashFields(junk));
});

test("inkBody is the pixel body the forward API takes", () => {
  const body = inkBody({ width: 8, height: 8, pixels: new Uint8Array(64).fill(17) });
  assert.deepEqual(Object.keys(body), ["pixels", "width", "height"]);
  assert.ok(Array.isArray(body.pixels) && body.pixels.length === 64 && body.pixels[0] === 17);
});
