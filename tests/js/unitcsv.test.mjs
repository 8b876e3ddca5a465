import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { unitCsv, csvName } from "../../static/js/unitcsv.js";

// Real /api/explain answers (tests/js/fixtures/explain-units.json, from the shipped models).
const units = JSON.parse(readFileSync(new URL("./fixtures/explain-units.json", import.meta.url)));

// An independent reader: RFC 4180 quoting, rows of cells.
function parse(text) {
  const rows = [];
  for (const raw of text.trimEnd().split("\n")) {
    const cells = [];
    let cur = "", q = false;
    for (let i = 0; i < raw.length; i++) {
      const ch = raw[i];
      if (q) { if (ch === '"' && raw[i + 1] === '"') { cur += '"'; i++; } else if (ch === '"') q = false; else cur += ch; }
      else if (ch === '"') q = true; else if (ch === ",") { cells.push(cur); cur = ""; } else cur += ch;
    }
    cells.push(cur);
    rows.push(cells);
  }
  return rows;
}
const field = (rows, name) => rows.find((r) => r[0] === name)?.[1];
const table = (rows, head) => {
  const at = rows.findIndex((r) => r[0] === head);
  const out = [];
  for (let i = at + 1; i < rows.length && rows[i][0] !== ""; i++) out.push(rows[i].map(Number));
  return out;
};

test("conv: every window value, kernel weight and product of the explain answer, then sum, bias, value", () => {
  const e = units.conv1;
  const rows = parse(unitCsv(e, { model: "lenet-mnist" }));
  assert.equal(field(rows, "layer"), "conv1");
  assert.equal(field(rows, "unit"), e.unit.join(" "));
  const t = table(rows, "map");
  assert.equal(t.length, e.source.values.length);
  const [[c0], [y0], [x0]] = e.source.window;
  t.forEach(([c, y, x, w, k, p], i) => {
    assert.equal(w, e.source.values[i]);
    assert.equal(k, e.weight[i]);
    assert.equal(p, e.source.values[i] * e.weight[i]);
    assert.deepEqual([c, y, x], [c0, y0 + Math.floor(i / 5), x0 + (i % 5)]);
  });
  const products = t.reduce((s, r) => s + r[5], 0);
  assert.ok(Math.abs(products + e.bias - e.sum) < 1e-5, "Σ products + bias = sum");
  assert.equal(Number(field(rows, "bias")), e.bias);
  assert.equal(Number(field(rows, "sum")), e.sum);
  assert.equal(Number(field(rows, "value")), e.value);
  assert.equal(csvName(e), `conv1_${e.unit.join("-")}.csv`);
});

test("float32 values print as the API's JSON writes them, doubles as they are", async () => {
  const { numberText } = await import("../../static/js/unitcsv.js");
  const f = Float32Array.from(units.conv1.source.values);
  f.forEach((v, i) => assert.equal(numberText(v), String(units.conv1.source.values[i])));
  assert.equal(numberText(units.conv1.sum), String(units.conv1.sum));
  assert.equal(numberText(0.1), "0.1");
  const typed = { ...units.pool1, source: { ...units.pool1.source, values: Float32Array.from(units.pool1.source.values) } };
  assert.equal(unitCsv(typed), unitCsv(units.pool1), "typed or not, the same CSV");
});

test("Harley's conv2: only the maps its filter reads (LeCun's table)", () => {
  const e = units["harley-conv2"];
  const t = table(parse(unitCsv(e)), "map");
  assert.equal(t.length, e.channels.length * 25);
  assert.deepEqual([...new Set(t.map((r) => r[0]))], e.channels);
  assert.ok(Math.abs(t.reduce((s, r) => s + r[5], 0) + e.bias - e.sum) < 1e-5);
});

test("pool, activation, dense and softmax", () => {
  const pool = parse(unitCsv(units.pool1));
  assert.equal(field(pool, "op"), "max");
  const w = table(pool, "map").map((r) => r[3]);
  assert.deepEqual(w, units.pool1.source.values);
  assert.equal(Number(field(pool, "value")), Math.max(...w));

  const act = parse(unitCsv(units.relu2));
  assert.equal(Number(field(act, "input")), units.relu2.input);
  assert.equal(Number(field(act, "value")), Math.max(0, units.relu2.input));

  const e = units.fc2;
  const dense = parse(unitCsv(e));
  const t = table(dense, "input index");
  assert.equal(t.length, e.source.values.length, "every input, not only the strongest");
  assert.ok(Math.abs(t.reduce((s, r) => s + r[3], 0) + e.bias - e.sum) < 1e-4);

  const sm = parse(unitCsv(units.softmax, { classes: ["zero", "one, with comma"] }));
  assert.equal(table(sm, "class").length, 10);
  assert.ok(sm.some((r) => r[0] === "one, with comma"), "quoted cells survive");
  assert.equal(Number(field(sm, "value")), units.softmax.value);
});
