// The lab's controls as data: which kernel, its grid, the request body. Pure: no DOM, no fetch.
//
// A kernel choice is one of
//   {type: "classic", name}            a name from GET /api/kernels
//   {type: "learned", layer, filter}   a trained single-map filter (conv1 of LeNet)
//   {type: "custom", k, values}        the grid the student typed (flat, row-major, k×k)
// and encodes to the <select> value "classic:edge_all", "learned:conv1:3" or "custom".

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
  if (choice.type === "learned") return `learned:${choice.layer}:${choice.filter}`;
  return "custom";
}

export function parseChoiceKey(key, custom) {
  const [type, a, b] = key.split(":");
  if (type === "classic") return { type, name: a };
  if (type === "learned") return { type, layer: a, filter: Number(b) };
  return { type: "custom", ...custom };
}

// The learned filters a 2-D map can be convolved with: conv stages reading one map.
export function learnedChoices(model) {
  const out = [];
  for (const s of model?.layers ?? []) {
    if (s.kind !== "conv" || s.in_channels !== 1) continue;
    for (let f = 0; f < s.filters; f++) out.push({ type: "learned", layer: s.name, filter: f, label: `${s.name} filter ${f}` });
  }
  return out;
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
  if (choice.type === "learned") return { learned: { layer: choice.layer, filter: choice.filter } };
  return { kernel: rows(choice.values, choice.k) };
}

// The map as the server takes it. The network's input is quantised to k/255 (MNIST's bytes),
// so it goes as `pixels` 0..255 (~4 kB of JSON, exact); anything else as float `values`.
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

// The map to convolve from a forward trace: the network's 32×32 input, or the 28×28 centred
// step of the preprocessing (what MNIST itself looks like).
export function labInput(trace, which = "input") {
  if (!trace) return null;
  if (which === "centred") {
    const step = trace.preprocessing?.steps?.find((s) => s.name === "centred");
    if (step) return { values: step.values, shape: step.shape.length === 3 ? step.shape.slice(1) : step.shape };
  }
  const layer = trace.byName?.get("input") ?? trace.layers?.[0];
  return layer ? { values: layer.values, shape: layer.shape.length === 3 ? layer.shape.slice(1) : layer.shape } : null;
}

// A kernel value as typed by a person: at most 3 decimals, no trailing zeros, a real minus
// ("−1", "8", "0.111"), so a grid cell stays narrow and reads like the textbook kernel.
export function short(v) {
  const s = String(+Math.abs(v).toFixed(3));
  return v < 0 && s !== "0" ? "\u2212" + s : s;
}
