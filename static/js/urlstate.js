// The page's view state as a URL hash, and back. Pure: no DOM, no store, no fetch.
//
// A link or a bookmark reopens what is on screen: the tab, the fold, the pinned unit, the Lab's
// settings, the lesson and its step, and the drawing (a test digit's id, or the ink itself).
// The model stays in the query (?model=, views/models.js) and so does ?send= (main.js): both
// predate this module and keep working; everything else lives in the hash, which the browser
// never sends to the server and which changes without a reload.
//
//   #tab=lab&fold=0&pin=conv1:2,10,11&lab=classic:edge_all;s2;p1;relu;max2;input
//    (an RGB model's Lab: lab=learned:conv1:4:2;s1;p0;relu;max2;input:2, filter 4's slice that
//    reads input channel 2, on that channel)
//    &learn=t3;lr0.01;n5                              (tab=learn: target class, rate, steps)
//    &lesson=feature-maps&step=3&sample=7:0           (or &ink=56x56.<base64url>)
//
// encodeHash(view) -> "#..."     (async: the ink is deflated)      view: see VIEW below
// decodeHash(hash) -> {view, notes}   never throws: every part that does not parse is left out
//                                     and named in `notes` (the page shows them), the rest kept
// encodeInk / decodeInk: a drawing as 4-bit ink, deflated, CRC-32'd, base64url (~0.5–1 kB)
// downsampleInk(alpha, W, H, side): the pad's alpha averaged into side×side blocks
//
// VIEW = {tab?, fold?, pin?: {layer, unit: [ints]}, lab?: {kernel, stride, padding, activation,
//         pool, window, source}, learn?: {target, rate, steps}, lesson?: {id, step (1-based)},
//         drawing?: {sample: [class, index]} | {ink: {width, height, pixels: Uint8Array 0..255}}}

import { crc32 } from "./png.js";
import { RATE_LADDER } from "./learn/model.js";

export const TABS = ["network", "3d", "learn", "lab"];
export const INK_SIDE = 56;          // 280-px pad / 5: the crop to 20×20 loses nothing visible
const LEVELS = 15;                   // 4-bit ink: 0..15 × 17 = 0..255 (MNIST's own bytes at 1/17)
const MAX_SIDE = 128;                // a hand-edited link cannot ask for a huge decode
const LAB_STRIDES = [1, 2, 3], LAB_PADDINGS = [0, 1, 2, 3], LAB_SIZES = [1, 3, 5, 7];
const LAB_ACTIVATIONS = ["relu", "tanh", "sigmoid", "none"], LAB_POOLS = ["max", "avg", "sum"], LAB_WINDOWS = [1, 2, 3, 4];
// The Lab's map: the input, the centred digit, or one channel of a multi-channel input
// ("input:2"); whether the model on screen has it is viewstate.js's check (lab/settings.js).
const LAB_SOURCE = /^(input|centred|input:\d{1,2})$/;
const NAME = /^[A-Za-z][A-Za-z0-9_-]{0,39}$/;

// --- base64url -----------------------------------------------------------------------------
const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
export function toBase64url(bytes) {
  let out = "";
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    const k = Math.min(3, bytes.length - i);
    for (let j = 0; j <= k; j++) out += B64[(n >> (18 - 6 * j)) & 63];
  }
  return out;
}
export function fromBase64url(text) {
  if (!/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) throw new Error("not base64url");
  const out = new Uint8Array(Math.floor((text.length * 3) / 4));
  let o = 0;
  for (let i = 0; i < text.length; i += 4) {
    const chunk = text.slice(i, i + 4);
    let n = 0;
    for (let j = 0; j < 4; j++) n = (n << 6) | (j < chunk.length ? B64.indexOf(chunk[j]) : 0);
    for (let j = 0; j < chunk.length - 1; j++) out[o++] = (n >> (16 - 8 * j)) & 255;
  }
  return out;
}

// --- ink -------------------------------------------------------------------------------------
// The pad's alpha (W×H, 0..255) averaged over blocks into side×side, rounded to 0..255.
export function downsampleInk(alpha, W, H, side = INK_SIDE) {
  const out = new Uint8Array(side * side);
  for (let oy = 0; oy < side; oy++) {
    const y0 = Math.floor((oy * H) / side), y1 = Math.max(y0 + 1, Math.floor(((oy + 1) * H) / side));
    for (let ox = 0; ox < side; ox++) {
      const x0 = Math.floor((ox * W) / side), x1 = Math.max(x0 + 1, Math.floor(((ox + 1) * W) / side));
      let sum = 0;
      for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) sum += alpha[y * W + x];
      out[oy * side + ox] = Math.round(sum / ((y1 - y0) * (x1 - x0)));
    }
  }
  return out;
}

// Ink as it will come back from a link: 0..255 quantised to 16 levels. Applying it to a
// drawing first makes the page show exactly what the link reopens.
export const quantiseInk = (pixels) => Uint8Array.from(pixels, (v) => Math.round((v * LEVELS) / 255) * (255 / LEVELS));

async function pump(stream, bytes, limit) {
  const writer = stream.writable.getWriter();
  writer.write(bytes).catch(() => {});
  writer.close().catch(() => {});
  const reader = stream.readable.getReader();
  const parts = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > limit) { reader.cancel().catch(() => {}); throw new Error("ink is larger than its size says"); }
    parts.push(value);
  }
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

// {width, height, pixels 0..255} -> "WxH.<base64url of deflated 4-bit nibbles + CRC-32>".
// The CRC (of the deflated bytes) makes a link cut short, lengthened or mistyped fail loudly:
// a raw deflate stream can end early and ignore what follows, so inflating alone cannot tell.
export async function encodeInk({ width, height, pixels }) {
  const packed = new Uint8Array(Math.ceil((width * height) / 2));
  for (let i = 0; i < width * height; i++) {
    const q = Math.round((pixels[i] * LEVELS) / 255);
    packed[i >> 1] |= i & 1 ? q : q << 4;
  }
  const deflated = await pump(new CompressionStream("deflate-raw"), packed, Infinity);
  const out = new Uint8Array(deflated.length + 4);
  out.set(deflated);
  new DataView(out.buffer).setUint32(deflated.length, crc32(deflated));
  return `${width}x${height}.${toBase64url(out)}`;
}

// The inverse; rejects (never hangs) with a message for a malformed or truncated code.
export async function decodeInk(code) {
  const m = /^(\d{1,3})x(\d{1,3})\.([A-Za-z0-9_-]+)$/.exec(code ?? "");
  if (!m) throw new Error("ink is not WxH.<data>");
  const width = Number(m[1]), height = Number(m[2]);
  if (width < 8 || height < 8 || width > MAX_SIDE || height > MAX_SIDE) throw new Error(`ink size ${width}×${height} is outside 8..${MAX_SIDE}`);
  const need = Math.ceil((width * height) / 2);
  let bytes;
  try { bytes = fromBase64url(m[3]); } catch { throw new Error("ink is not base64url"); }
  if (bytes.length < 5) throw new Error("ink is cut short");
  const deflated = bytes.subarray(0, bytes.length - 4);
  if (new DataView(bytes.buffer, bytes.byteOffset).getUint32(bytes.length - 4) !== crc32(deflated)) {
    throw new Error("ink fails its checksum (cut short or changed)");
  }
  let packed;
  try {
    packed = await pump(new DecompressionStream("deflate-raw"), deflated, need);
  } catch (err) {
    throw new Error(`ink does not inflate (${err.message.includes("larger") ? err.message : "damaged or cut short"})`);
  }
  if (packed.length !== need) throw new Error(`ink holds ${packed.length} of ${need} bytes (cut short?)`);
  const pixels = new Uint8Array(width * height);
  for (let i = 0; i < pixels.length; i++) pixels[i] = ((i & 1 ? packed[i >> 1] & 15 : packed[i >> 1] >> 4) * 255) / LEVELS;
  return { width, height, pixels };
}

// --- the view ↔ hash -------------------------------------------------------------------------
const num = (v) => String(+Number(v).toFixed(4));

function labText(lab) {
  return [lab.kernel, `s${lab.stride}`, `p${lab.padding}`, lab.activation, `${lab.pool}${lab.window}`, lab.source].join(";");
}

function parseKernel(text) {
  if (/^classic:[a-z0-9_]{1,40}$/.test(text)) return text;
  if (/^learned:[A-Za-z][A-Za-z0-9_]{0,39}:\d{1,3}(:\d{1,2})?$/.test(text)) return text;   // [:channel]
  const m = /^custom:(\d):([-0-9.,e]+)$/.exec(text);
  if (m && LAB_SIZES.includes(Number(m[1]))) {
    const values = m[2].split(",").map(Number);
    if (values.length === Number(m[1]) ** 2 && values.every((v) => Number.isFinite(v) && Math.abs(v) <= 1000)) return text;
  }
  return null;
}

function parseLab(text) {
  const [kernel, s, p, activation, pool, source] = text.split(";");
  const k = parseKernel(kernel ?? "");
  const stride = Number(/^s(\d)$/.exec(s ?? "")?.[1]), padding = Number(/^p(\d)$/.exec(p ?? "")?.[1]);
  const pm = /^([a-z]+)(\d)$/.exec(pool ?? "");
  if (!k || !LAB_STRIDES.includes(stride) || !LAB_PADDINGS.includes(padding) || !LAB_ACTIVATIONS.includes(activation)
      || !pm || !LAB_POOLS.includes(pm[1]) || !LAB_WINDOWS.includes(Number(pm[2])) || !LAB_SOURCE.test(source ?? "")) return null;
  return { kernel: k, stride, padding, activation, pool: pm[1], window: Number(pm[2]), source };
}

const learnText = (l) => `t${l.target};lr${l.rate};n${l.steps}`;
// The class, the rate's and the steps' bounds are the model's (limits.learn): viewstate.js checks
// them against the model on screen (a link may name any model); here only the shape and a rate
// on the slider's ladder.
function parseLearn(text) {
  const m = /^t(\d{1,2});lr([0-9.e-]{1,12});n(\d{1,2})$/.exec(text);
  if (!m) return null;
  const target = Number(m[1]), rate = Number(m[2]), steps = Number(m[3]);
  if (!RATE_LADDER.includes(rate)) return null;
  return { target, rate, steps };
}

// A custom Lab kernel as it travels in a link ("custom:3:0,1,0,...").
export const customKernel = (k, values) => `custom:${k}:${Array.from(values, num).join(",")}`;

const SAFE = (v) => encodeURIComponent(v).replace(/%2C/g, ",").replace(/%3A/g, ":").replace(/%3B/g, ";");

export async function encodeHash(view = {}) {
  const parts = [];
  const put = (k, v) => parts.push(`${k}=${SAFE(v)}`);
  if (view.tab && view.tab !== "network") put("tab", view.tab);
  if (view.fold === false) put("fold", "0");
  if (view.pin) put("pin", `${view.pin.layer}:${view.pin.unit.join(",")}`);
  if (view.lab) put("lab", labText(view.lab));
  if (view.learn) put("learn", learnText(view.learn));
  if (view.lesson) { put("lesson", view.lesson.id); put("step", String(view.lesson.step)); }
  if (view.drawing?.sample) put("sample", view.drawing.sample.join(":"));
  else if (view.drawing?.ink) put("ink", await encodeInk(view.drawing.ink));
  return parts.length ? `#${parts.join("&")}` : "";
}

// Synchronous part of decoding: everything but the ink, which stays a code for decodeInk.
export function decodeHashFields(hash) {
  const view = {}, notes = [];
  const text = String(hash ?? "").replace(/^#/, "");
  if (!text) return { view, notes };
  const fields = new Map();
  for (const part of text.split("&")) {
    if (!part) continue;
    const eq = part.indexOf("=");
    let key, value;
    try {
      key = decodeURIComponent(eq < 0 ? part : part.slice(0, eq));
      value = eq < 0 ? "" : decodeURIComponent(part.slice(eq + 1));
    } catch {
      notes.push(`ignored "${part.slice(0, 40)}": not URL-encoded text`);
      continue;
    }
    fields.set(key, value);
  }
  const bad = (key, why) => notes.push(`ignored ${key}=${String(fields.get(key)).slice(0, 40)}: ${why}`);
  for (const [key, value] of fields) {
    if (key === "tab") {
      if (TABS.includes(value)) view.tab = value; else bad(key, `not one of ${TABS.join(", ")}`);
    } else if (key === "fold") {
      if (value === "0" || value === "1") view.fold = value === "1"; else bad(key, "not 0 or 1");
    } else if (key === "pin") {
      const m = /^([^:]+):(\d{1,4}(?:,\d{1,4}){0,2})$/.exec(value);
      if (m && NAME.test(m[1])) view.pin = { layer: m[1], unit: m[2].split(",").map(Number) };
      else bad(key, "not layer:c,y,x");
    } else if (key === "lab") {
      const lab = parseLab(value);
      if (lab) view.lab = lab; else bad(key, "not kernel;sN;pN;activation;poolN;source");
    } else if (key === "learn") {
      const learn = parseLearn(value);
      if (learn) view.learn = learn;
      else bad(key, `not tN;lrR;nS (a class 0..99, a rate of ${RATE_LADDER.join(", ")}, 0..99 steps)`);
    } else if (key === "lesson") {
      const step = Number(fields.get("step") ?? 1);
      if (/^[a-z0-9-]{1,60}$/.test(value) && Number.isInteger(step) && step >= 1 && step <= 99) view.lesson = { id: value, step };
      else bad(key, "not a lesson id with a step 1..99");
    } else if (key === "step") {
      if (!fields.has("lesson")) bad(key, "a step without a lesson");
    } else if (key === "sample") {
      const m = /^(\d{1,2}):(\d{1,4})$/.exec(value);
      if (m) view.drawing = { sample: [Number(m[1]), Number(m[2])] }; else bad(key, "not class:index");
    } else if (key === "ink") {
      if (fields.has("sample")) bad(key, "both a test digit and a drawing; the test digit wins");
      else view.drawing = { inkCode: value };
    } else if (key !== "") {
      notes.push(`ignored ${key}: not a setting this page knows`);
    }
  }
  return { view, notes };
}

// The whole hash, the ink inflated; a bad ink is dropped with a note like any other field.
export async function decodeHash(hash) {
  const { view, notes } = decodeHashFields(hash);
  if (view.drawing?.inkCode) {
    try {
      view.drawing = { ink: await decodeInk(view.drawing.inkCode) };
    } catch (err) {
      delete view.drawing;
      notes.push(`ignored the drawing in the link: ${err.message}`);
    }
  }
  return { view, notes };
}

// The forward body a decoded drawing is sent as: the ink's own pixels, exactly.
export const inkBody = (ink) => ({ pixels: Array.from(ink.pixels), width: ink.width, height: ink.height });
