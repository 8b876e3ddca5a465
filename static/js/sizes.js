// "Why 400 → 120?": the size arithmetic of every stage, written from the model's own record.
// Pure: no DOM. Every number on the left of "=" is a layer parameter or the previous stage's
// recorded shape; the number on the right is this stage's recorded shape, and `agrees` says
// whether the formula gives it (it always should; a mismatch is shown, never hidden).

export const MINUS = "\u2212";

// (W − F + 2P) / S + 1 with the numbers in. A window that does not tile the map is floored
// (PyTorch's choice) and the text says so: "(32 − 5 + 2·0) / 2 + 1 = 14.5 → 14"; `uncovered`
// is how many rows (and columns) at the far edge of the (padded) map no window reaches.
export function sizeFormula(size, window, stride = 1, padding = 0) {
  const span = size - window + 2 * padding;
  const output = span >= 0 ? Math.floor(span / stride) + 1 : 0;
  const exact = span >= 0 && span % stride === 0;
  const head = `(${size} ${MINUS} ${window} + 2·${padding}) / ${stride} + 1 = `;
  const value = span / stride + 1;
  const shown = Number.isInteger(value) ? String(value) : String(+value.toFixed(4)).replace("-", MINUS);
  return { output, exact, uncovered: span >= 0 ? span % stride : 0, text: exact ? head + output : `${head}${shown} → ${output}` };
}

// Sizes a student should not look for in the arithmetic: they were chosen, not derived.
export const DESIGN_NOTES = {
  first: "a design choice: any width works here; its inputs are fixed by the maps, the width of this layer is not (LeCun's C5 had 120)",
  hidden: "a design choice: narrower or wider trains too (LeCun's F6 had 84, Harley used 100)",
  last: "not a choice: one unit per class",
};

const spatial = (shape) => (shape.length === 3 ? shape[1] : null);
const times = " × ";

// stages: the contract's layer entries (with `shape`). Returns one row per stage:
// {name, kind, text, from, to, agrees, note?}; `chain` is the spatial sizes through the maps,
// e.g. [32, 28, 14, 10, 5], and `flatten` the "16 maps × 5 × 5 = 400 inputs" line.
export function stageArithmetic(stages) {
  const rows = [];
  const denseNames = stages.filter((s) => s.kind === "dense").map((s) => s.name);
  for (let i = 0; i < stages.length; i++) {
    const s = stages[i];
    const prev = stages[i - 1];
    const row = { name: s.name, kind: s.kind, to: s.shape, from: prev ? prev.shape : null, agrees: true, text: "" };
    if (s.kind === "input") {
      row.text = `${s.shape.join(times)} image`;
    } else if (s.kind === "conv" || s.kind === "pool") {
      const window = s.kind === "conv" ? s.kernel : s.window;
      const f = sizeFormula(spatial(prev.shape), window, s.stride ?? 1, s.padding ?? 0);
      row.agrees = f.output === spatial(s.shape);
      const maps = s.kind === "conv" ? `${s.filters} filters` : `${s.op} pool`;
      // Floored: the windows stop short of the map's far edge, and those rows are never read.
      // Padding sits at the far edge first: when only it is skipped, no value of the map is lost.
      const pad = s.padding ?? 0, lostRows = f.uncovered - pad;
      const rowsOf = (n) => (n === 1 ? "row and column" : `${n} rows and columns`);
      const lost = !f.uncovered ? "" : lostRows > 0
        ? ` · the last ${rowsOf(lostRows)} of the map never read`
        : ` · the windows skip the last ${rowsOf(f.uncovered)} of padding only`;
      row.uncovered = f.uncovered;
      row.text = `${f.text}${row.agrees ? "" : ` (recorded ${spatial(s.shape)})`} · ${maps}${lost}`;
    } else if (s.kind === "activation") {
      row.text = `${s.function} element-wise: size unchanged`;
    } else if (s.kind === "flatten") {
      const [c, h, w] = prev.shape;
      row.agrees = c * h * w === s.shape[0];
      row.text = `${c} maps × ${h} × ${w} = ${c * h * w} inputs`;
    } else if (s.kind === "dense") {
      const inputs = prev.shape.reduce((a, b) => a * b, 1);
      const which = denseNames.indexOf(s.name);
      row.note = which === denseNames.length - 1 ? DESIGN_NOTES.last : which === 0 ? DESIGN_NOTES.first : DESIGN_NOTES.hidden;
      row.agrees = s.units === s.shape[0];
      row.text = `${inputs} → ${s.units} units`;
    } else if (s.kind === "softmax") {
      row.text = `${s.shape[0]} probabilities`;
    }
    rows.push(row);
  }
  const chain = stages.filter((s) => s.kind === "input" || s.kind === "conv" || s.kind === "pool").map((s) => spatial(s.shape));
  const flat = rows.find((r) => r.kind === "flatten");
  const firstDense = stages.find((s) => s.kind === "dense");
  return { rows, chain, chainText: chain.join(" → "), flatten: flat ? flat.text : null,
    inputs: flat ? flat.to[0] : null, firstUnits: firstDense ? firstDense.units : null };
}
