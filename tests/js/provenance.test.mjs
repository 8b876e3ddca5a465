// tensor.js geometry against the engine's own provenance (engine.explain, receptive_field),
// recorded in fixtures/provenance.json by test_provenance_fixture.py, which also checks that
// the file still matches the engine.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { sourceWindow, receptiveField } from "../../static/js/tensor.js";

const fixture = JSON.parse(readFileSync(new URL("./fixtures/provenance.json", import.meta.url), "utf8"));

for (const [spec, { stages, cases }] of Object.entries(fixture).filter(([, v]) => v.stages)) {
  test(`${spec}: every stage's source window equals the engine's (${cases.length} units)`, () => {
    const kinds = new Set();
    for (const c of cases) {
      assert.deepEqual(sourceWindow(stages, c.layer, c.unit), c.source, `${c.layer} ${c.unit}`);
      kinds.add(stages.find((s) => s.name === c.layer).kind);
    }
    assert.deepEqual([...kinds].sort(), ["activation", "conv", "dense", "flatten", "input", "pool", "softmax"]);
  });
  test(`${spec}: every receptive field equals the engine's`, () => {
    for (const c of cases) assert.deepEqual(receptiveField(stages, c.layer, c.unit), c.receptive_field, `${c.layer} ${c.unit}`);
  });
}
