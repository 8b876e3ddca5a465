import { test } from "node:test";
import assert from "node:assert/strict";
import { connectionTable, connectedMaps, focusedFilter, tableRuns } from "../../static/js/connections.js";
import { STAGES } from "./reference_stages.mjs";

// LeCun 1998 Table I as printed: rows are S2 maps 0-5, columns C3 filters 0-15.
const TABLE_I = ["X...XXX..XXXX.XX", "XX...XXX..XXXX.X", "XXX...XXX..X.XXX",
  ".XXX..XXXX..X.XX", "..XXX..XXXX.XX.X", "...XXX..XXXX.XXX"];
const C3 = Array.from({ length: 16 }, (_, f) => [0, 1, 2, 3, 4, 5].filter((m) => TABLE_I[m][f] === "X"));

// The Harley record as the server sends it: tanh stages and conv2 with its table.
const HARLEY = STAGES.map((s) => {
  if (s.kind === "activation") return { ...s, name: s.name.replace("relu", "tanh"), function: "tanh", scale: 1.7159, slope: 2 / 3 };
  if (s.name === "conv2") return { ...s, connections: C3 };
  return s;
});

test("the reference net has no connection table: every map is read", () => {
  assert.equal(connectionTable(STAGES), null);
  assert.equal(connectedMaps(STAGES[4], [3, 0, 0]), null);
  assert.equal(focusedFilter(STAGES, { layer: "conv2", unit: [3, 0, 0] }), null);
  assert.equal(connectionTable(null), null);
});

test("the Harley table: 6 maps of pool1 by 16 filters, reads() is Table I", () => {
  const t = connectionTable(HARLEY);
  assert.equal(t.stage.name, "conv2");
  assert.equal(t.source.name, "pool1");
  assert.equal(t.maps, 6);
  assert.equal(t.filters, 16);
  for (let f = 0; f < 16; f++) for (let m = 0; m < 6; m++) assert.equal(t.reads(f, m), TABLE_I[m][f] === "X", `filter ${f} map ${m}`);
});

test("a conv2 unit reads only its filter's maps; other stages are unrestricted", () => {
  const conv2 = HARLEY[4];
  assert.deepEqual(connectedMaps(conv2, [0, 5, 5]), [0, 1, 2]);
  assert.deepEqual(connectedMaps(conv2, [12, 0, 9]), [0, 1, 3, 4]);
  assert.deepEqual(connectedMaps(conv2, [15, 0, 0]), [0, 1, 2, 3, 4, 5]);
  assert.equal(connectedMaps(HARLEY[1], [0, 0, 0]), null);   // conv1
  assert.equal(connectedMaps(HARLEY[5], [0, 0, 0]), null);   // tanh2 reads one conv2 unit
});

test("the focused filter: conv2 or the activation on it, not pool2 or conv1", () => {
  assert.equal(focusedFilter(HARLEY, { layer: "conv2", unit: [7, 1, 2] }), 7);
  assert.equal(focusedFilter(HARLEY, { layer: "tanh2", unit: [9, 0, 0] }), 9);
  assert.equal(focusedFilter(HARLEY, { layer: "pool2", unit: [9, 0, 0] }), null);
  assert.equal(focusedFilter(HARLEY, { layer: "conv1", unit: [2, 0, 0] }), null);
  assert.equal(focusedFilter(HARLEY, null), null);
});

test("the table in runs: filters 0-5 read 3 maps, 6-14 read 4, 15 reads all 6", () => {
  assert.deepEqual(tableRuns(connectionTable(HARLEY)), [
    { from: 0, to: 5, count: 3 }, { from: 6, to: 14, count: 4 }, { from: 15, to: 15, count: 6 }]);
  const full = HARLEY.map((s) => (s.name === "conv2" ? { ...s, connections: Array.from({ length: 16 }, () => [0, 1, 2, 3, 4, 5]) } : s));
  assert.deepEqual(tableRuns(connectionTable(full)), [{ from: 0, to: 15, count: 6 }]);
});
