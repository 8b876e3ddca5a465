// One unit's computation as CSV, for worksheets: the window, the kernel, the products, their
// sum, the bias and the value, exactly as /api/explain answered them (full float precision, so a
// spreadsheet's SUM of the product column gives the sum). Pure: no DOM.
//
// unitCsv(explanation, {model, classes}) -> text    csvName(explanation) -> "conv1_2-10-11.csv"
// The explanation is the store's (api.explain's answer: source.values typed); every kind of
// the contract is covered: conv, pool, activation, dense, softmax, and flatten (a copy).

// A float32 (the record's values arrive as Float32Array) printed as its shortest decimal, the
// way the API's JSON writes it; a double as JavaScript writes it.
export function numberText(v) {
  if (!Number.isFinite(v) || Math.fround(v) !== v) return String(v);
  for (let p = 1; p <= 9; p++) {
    const t = v.toPrecision(p);
    if (Math.fround(Number(t)) === v) return String(Number(t));
  }
  return String(v);
}

const cell = (v) => {
  const s = typeof v === "number" ? numberText(v) : String(v ?? "");
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};
const line = (...xs) => xs.map(cell).join(",");

// [c, y, x] of a flat offset in a half-open window [[c0, c1], [y0, y1], [x0, x1]].
function windowIndex(window, shape, i) {
  const dims = shape.length === 3 ? shape : [1, ...shape];
  const [, h, w] = dims;
  const c = Math.floor(i / (h * w)), y = Math.floor((i % (h * w)) / w), x = i % w;
  const start = window.length === 3 ? window.map((r) => r[0]) : [0, ...window.map((r) => r[0])];
  return [start[0] + c, start[1] + y, start[2] + x];
}

export function unitCsv(e, { model = "", classes = null } = {}) {
  const rows = [line("ConvScope unit computation"), line("model", model), line("layer", e.layer), line("unit", e.unit.join(" ")), line("kind", e.kind)];
  if (e.source?.layer) rows.push(line("source", e.source.layer));
  const values = Array.from(e.source?.values ?? []);
  if (e.kind === "conv") {
    const weight = Array.from(e.weight);
    rows.push("", line("map", "row", "col", "window", "kernel", "product"));
    values.forEach((v, i) => {
      const [c, y, x] = windowIndex(e.source.window, e.source.shape, i);
      // Harley's C3 filters read only the maps in `channels`; the others have no weights.
      if (!e.channels || e.channels.includes(c)) rows.push(line(c, y, x, v, weight[i], v * weight[i]));
    });
    rows.push("", line("sum of products", values.reduce((t, v, i) => t + v * weight[i], 0)), line("bias", e.bias), line("sum", e.sum), line("value", e.value));
  } else if (e.kind === "pool") {
    rows.push(line("op", e.op), "", line("map", "row", "col", "window"));
    values.forEach((v, i) => rows.push(line(...windowIndex(e.source.window, e.source.shape, i), v)));
    if (e.argmax) rows.push("", line("argmax", e.argmax.join(" ")));
    rows.push(line("value", e.value));
  } else if (e.kind === "activation") {
    rows.push(line("function", e.function), line("input", e.input), line("value", e.value));
  } else if (e.kind === "dense") {
    const weight = Array.from(e.weight);
    rows.push("", line("input index", "input", "weight", "product"));
    values.forEach((v, i) => rows.push(line(i, v, weight[i], v * weight[i])));
    rows.push("", line("sum of products", values.reduce((t, v, i) => t + v * weight[i], 0)), line("bias", e.bias), line("sum", e.sum), line("value", e.value));
  } else if (e.kind === "softmax") {
    rows.push("", line("class", "logit"));
    Array.from(e.logits).forEach((z, j) => rows.push(line(classes?.[j] ?? j, z)));
    rows.push("", line("value", e.value));
  } else {
    rows.push(line("value", e.value));
  }
  return rows.join("\n") + "\n";
}

export const csvName = (e) => `${e.layer}_${e.unit.join("-")}.csv`;
