// The lab's controls as data: which kernel, its grid, the request body. Pure: no DOM, no fetch.
//
// A kernel choice is one of
//   {type: "classic", name}            a name from GET /api/kernels
//   {type: "learned", layer, filter}   a trained filter reading one map (conv1 of LeNet)
//   {type: "learned", layer, filter, channel}   one input channel's slice of a filter reading
//                                      several (Tiny VGG's conv1: red, green, blue)
//   {type: "custom", k, values}        the grid the student typed (flat, row-major, k×k)
// and encodes to the <select> value "classic:edge_all", "learned:conv1:3", "learned:conv1:3:2"
// or "custom".

import { channelWords } from "./source.js";

// The controls' choices are the engine's own ranges (engine/lab.py), served once in
// GET /api/model as `limits.lab`: never a copy here. Activations are applied to the output
// before pooling: ReLU sets negatives to zero; tanh and sigmoid are the classic alternatives;
// "none" pools the raw output.
export const ACTIVATION_LABELS = { relu: "ReLU", tanh: "tanh", sigmoid: "sigmoid", none: "none" };

// Each control's options {value, label} from `limits.lab`; empty lists before the model arrives.
export function labChoices(limits) {
  const list = (xs, label = String) => (xs ?? []).map((x) => ({ value: String(x), label: label(x) }));
  return {
    size: list(limits?.kernel_sizes, (k) => `${k}×${k}`),
    stride: list(limits?.strides),
    padding: list(limits?.paddings),
    activation: list(limits?.activations, (a) => ACTIVATION_LABELS[a] ?? a),
    poolOp: list(limits?.pool_ops),
    poolWindow: list(limits?.pool_windows, (w) => `${w}×${w}`),
  };
}

export function choiceKey(choice) {
  if (choice.type === "classic") return `classic:${choice.name}`;
  if (choice.type === "learned") return `learned:${choice.layer}:${choice.filter}${choice.channel === undefined ? "" : `:${choice.channel}`}`;
  return "custom";
}

export function parseChoiceKey(key, custom) {
  const [type, a, b, c] = key.split(":");
  if (type === "classic") return { type, name: a };
  if (type === "learned") return c === undefined ? { type, layer: a, filter: Number(b) } : { type, layer: a, filter: Number(b), channel: Number(c) };
  return { type: "custom", ...custom };
}

// The conv stages whose filters the Lab offers (engine/lab.py learned_layers accepts the same):
// those that read the network's input, whose channels are the Lab's maps, and any reading one
// map; only with a kernel size the Lab takes (limits.lab.kernel_sizes).
export function learnedLayers(model) {
  const layers = model?.layers ?? [], sizes = model?.limits?.lab?.kernel_sizes;
  return layers.filter((s, i) => s.kind === "conv" && (s.in_channels === 1 || layers[i - 1]?.kind === "input")
    && (!sizes || sizes.includes(s.kernel)));
}

// The learned filters the map of input channel `channel` can be convolved with: every filter of
// a one-map layer, and of a layer reading C channels the slice that reads this channel (slice ×
// channel is that channel's subtotal in the Network tab's conv explanation).
export function learnedChoices(model, channel = 0) {
  const out = [];
  for (const s of learnedLayers(model)) {
    const C = s.in_channels;
    for (let f = 0; f < s.filters; f++) {
      if (C === 1) out.push({ type: "learned", layer: s.name, filter: f, label: `${s.name} filter ${f}` });
      else out.push({ type: "learned", layer: s.name, filter: f, channel, label: `${s.name} filter ${f} · ${channelWords(channel, C)}` });
    }
  }
  return out;
}

// A learned choice as this model offers it beside input channel `channel`: the whole filter
// when its layer reads one map, else the slice that reads this channel (the Lab always pairs a
// slice with its own channel). null when the model has no such filter.
export function fitLearned(choice, model, channel = 0) {
  const stage = learnedLayers(model).find((s) => s.name === choice.layer);
  if (!stage || !Number.isInteger(choice.filter) || choice.filter < 0 || choice.filter >= stage.filters) return null;
  const whole = { type: "learned", layer: stage.name, filter: choice.filter };
  return stage.in_channels === 1 ? whole : { ...whole, channel };
}

// Re-size a k×k grid to n×n around the same centre: crop the rim or add a rim of zeros.
export function resize(values, k, n) {
  const out = new Array(n * n).fill(0);
  const d = (n - k) / 2;                    // both odd, so a whole number
  for (let y = 0; y < n; y++) {
    for (let x = 0; x < n; x++) {
      const sy = y - d, sx = x - d;
      if (sy >= 0 && sy < k && sx >= 0 && sx < k) out[y * n + x] = values[sy * k + sx];
    }
  }
  return out;
}

export const rows = (values, k) => Array.from({ length: k }, (_, y) => Array.from(values.slice(y * k, (y + 1) * k)));

// A typed grid cell: "0.5", "-1", "−1" (a real minus), "1/9". Empty counts as 0.
// maxAbs: the engine's bound on a kernel value (limits.lab.max_abs_weight).
export function parseCell(text, maxAbs) {
  const t = String(text).trim().replace("\u2212", "-");
  if (t === "") return { ok: true, value: 0 };
  let v;
  const frac = /^([-+]?\d*\.?\d+)\s*\/\s*(\d*\.?\d+)$/.exec(t);
  if (frac) v = Number(frac[1]) / Number(frac[2]);
  else if (/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(t)) v = Number(t);
  else return { ok: false, error: `"${text}" is not a number (try 0.5, -1 or 1/9)` };
  if (!Number.isFinite(v) || Math.abs(v) > maxAbs) return { ok: false, error: `${text} is outside −${maxAbs}..${maxAbs}` };
  return { ok: true, value: v };
}

// The kernel part of a POST /api/convolve body.
export function kernelFields(choice) {
  if (choice.type === "classic") return { kernel_name: choice.name };
  if (choice.type === "learned") {
    return { learned: { layer: choice.layer, filter: choice.filter, ...(choice.channel === undefined ? {} : { channel: choice.channel }) } };
  }
  return { kernel: rows(choice.values, choice.k) };
}

// The map as the server takes it. The network's input is quantised to k/255 (MNIST's bytes),
// so it goes as `pixels` 0..255 (~4 kB of JSON, exact); anything else (a normalised channel)
// as float `values`, each float32 exactly.
export function encodeInput(values, shape) {
  const pixels = new Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const p = Math.round(values[i] * 255);
    if (Math.abs(values[i] * 255 - p) > 1e-3 || p < 0 || p > 255) return { values: Array.from(values), shape };
    pixels[i] = p;
  }
  return { pixels, shape };
}

// The whole body: the map (`input` as the page already holds it), the kernel and the controls.
export function convolveBody(input, choice, { stride = 1, padding = 0, pool = { op: "max", window: 2 }, activation = "relu", products = false } = {}) {
  return {
    input: encodeInput(input.values, input.shape),
    ...kernelFields(choice),
    stride, padding,
    pool: { op: pool.op, window: pool.window },
    activation,
    products,
  };
}

// A kernel value as typed by a person: at most 3 decimals, no trailing zeros, a real minus
// ("−1", "8", "0.111"), so a grid cell stays narrow and reads like the textbook kernel.
export function short(v) {
  const s = String(+Math.abs(v).toFixed(3));
  return v < 0 && s !== "0" ? "\u2212" + s : s;
}
