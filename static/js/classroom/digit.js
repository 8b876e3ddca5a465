// Pure helpers shared by the dashboard and the student page (no DOM): digits as the class
// API sends them, focus units as the teacher types them, histograms of a round's answers.

// base64 of a 28×28 uint8 digit (row-major, 255 = ink) -> Uint8Array.
export function decodeDigit(b64) {
  const raw = atob(b64);
  const out = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
  return out;
}

// The digit as a forward body that reaches the network exactly as stored (no second crop).
export const digitBody = (bytes, side = 28) => ({ pixels: Array.from(bytes), width: side, height: side, preprocess: false });

// "pool1[2, 5, 7]", "pool1 2 5 7", "fc3[4]" -> {layer: "pool1", unit: [2, 5, 7]}; "" -> null.
// Throws an Error saying what is accepted; the server checks the layer and ranges.
export function parseFocus(text) {
  const t = (text ?? "").trim();
  if (!t) return null;
  const m = /^([A-Za-z_][\w]*)\s*\[?\s*([-\d\s,]*?)\s*\]?$/.exec(t);
  if (!m) throw new Error(`"${t}" is not a unit: write a stage and its index, e.g. pool1[2, 5, 7] or fc3[4]`);
  const unit = m[2].split(/[\s,]+/).filter(Boolean).map(Number);
  if (!unit.length || unit.length > 3 || unit.some((u) => !Number.isInteger(u) || u < 0)) {
    throw new Error(`"${t}": give 1 to 3 indices ≥ 0 after the stage, e.g. pool1[2, 5, 7] or fc3[4]`);
  }
  return { layer: m[1], unit };
}

export const formatFocus = (f) => (f ? `${f.layer}[${f.unit.join(", ")}]` : "");

// Numbers -> `bins` equal bins over [min, max] of the answers and the truth, so the truth is
// always on the axis: {edges: [bins + 1], counts: [bins], truthBin}.
export function histogram(values, truth, bins = 12) {
  const all = [...values, truth].filter(Number.isFinite);
  let lo = Math.min(...all);
  let hi = Math.max(...all);
  if (!(hi > lo)) { lo -= 0.5; hi += 0.5; }
  const width = (hi - lo) / bins;
  const bin = (v) => Math.min(bins - 1, Math.max(0, Math.floor((v - lo) / width)));
  const counts = new Array(bins).fill(0);
  for (const v of values) if (Number.isFinite(v)) counts[bin(v)] += 1;
  return { edges: Array.from({ length: bins + 1 }, (_, i) => lo + i * width), counts, truthBin: bin(truth) };
}

// How a student's answer compares with the engine's, in words.
export function verdict(kind, mine, truth, classes = []) {
  if (mine == null) return "You did not answer.";
  if (kind === "value") {
    const off = mine - truth;
    const close = Math.abs(off) <= Math.max(0.05, Math.abs(truth) * 0.1);
    return `You said ${mine}; the network computed ${truth.toFixed(4)} (${close ? "close!" : `off by ${off > 0 ? "+" : ""}${off.toFixed(3)}`})`;
  }
  const name = (i) => (kind === "class" ? classes[i] ?? i : `cell ${i + 1}`);
  return mine === truth ? `You picked ${name(mine)}: right!` : `You picked ${name(mine)}; the answer is ${name(truth)}.`;
}
