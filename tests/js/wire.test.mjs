import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { decodeForward, maxPool, relu, WireError } from "../../static/js/wire.js";
import { toTrace } from "../../static/js/api.js";

// Server-made answers to the same bodies, binary and JSON (tests/js/test_wire_fixture.py keeps
// the file in step with the server).
const fixture = JSON.parse(gunzipSync(readFileSync(new URL("./fixtures/wire.json.gz", import.meta.url))));

const toBuffer = (b64) => {
  const bytes = Buffer.from(b64, "base64");
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length);   // own, aligned
};
// Float32 bits of the JSON answer's numbers (shortest float32 digits: parse as double, round
// once) and of a decoded array: equal bits, so -0 vs +0 and every last ulp count.
const bits = (values) => Array.from(new Uint32Array(Float32Array.from(values).buffer));

function assertSameValues(got, want, where) {
  assert.ok(got instanceof Float32Array, `${where}: a Float32Array`);
  assert.equal(got.length, want.length, `${where}: length`);
  const a = bits(got), b = bits(want);
  const bad = a.findIndex((v, i) => v !== b[i]);
  assert.equal(bad, -1, `${where}[${bad}]: ${got[bad]} vs the JSON's ${want[bad]}`);
}

const withoutValues = ({ values, ...rest }) => rest;

for (const c of fixture.cases) {
  test(`binary answer decodes to the JSON answer bit for bit: ${c.name}`, () => {
    const got = decodeForward(toBuffer(c.wire));
    const want = c.json;
    assert.deepEqual(Object.keys(got), Object.keys(want), "same keys, same order");
    assert.equal(got.prediction, want.prediction);
    assert.deepEqual(got.layers.map(withoutValues), want.layers.map(withoutValues), "stage entries");
    for (const [i, layer] of want.layers.entries()) assertSameValues(got.layers[i].values, layer.values, layer.name);
    assertSameValues(got.probabilities, want.probabilities, "probabilities");
    if (want.preprocessing) {
      const { steps, ...info } = want.preprocessing;
      const { steps: gotSteps, ...gotInfo } = got.preprocessing;
      assert.deepEqual(gotInfo, info, "crop box and centre of mass");
      assert.deepEqual(gotSteps.map(withoutValues), steps.map(withoutValues));
      for (const [i, s] of steps.entries()) assertSameValues(gotSteps[i].values, s.values, `step ${s.name}`);
    } else {
      assert.equal(got.preprocessing, undefined);
    }
  });
}

test("the fixture exercises every encoding, and tanh is sent, not rebuilt", () => {
  const used = new Set();
  const header = (c) => {
    const buf = Buffer.from(c.wire, "base64");
    return JSON.parse(buf.subarray(8, 8 + buf.readUInt32LE(4)).toString());
  };
  for (const c of fixture.cases) {
    const h = header(c);
    for (const l of h.layers) used.add(l.values.encoding);
    for (const s of h.preprocessing?.steps ?? []) used.add(s.values.encoding);
    for (const l of h.layers.filter((l) => l.function === "tanh")) assert.equal(l.values.encoding, "f32", l.name);
  }
  assert.deepEqual([...used].sort(), ["copy", "f32", "max_pool", "relu", "u8/255"]);
  const relu7 = header(fixture.cases[0]).layers.filter((l) => l.function === "relu");
  assert.ok(relu7.length > 0 && relu7.every((l) => l.values.encoding === "relu"), "every ReLU left out");
});

test("the page's trace is the same from either answer", () => {
  const c = fixture.cases[0];
  const body = { image: "…" };
  const a = toTrace(decodeForward(toBuffer(c.wire)), body), b = toTrace(c.json, body);
  assert.deepEqual([...a.byName.keys()], [...b.byName.keys()]);
  for (const [name, layer] of b.byName) assertSameValues(a.byName.get(name).values, layer.values, name);
  assert.equal(a.body, body);
});

test("relu gives +0 for every non-positive value, -0 included", () => {
  const out = relu(new Float32Array([-2, -0, 0, 1e-45, 3.5, -1e-45]));
  assert.deepEqual(Array.from(out), [0, 0, 0, Math.fround(1e-45), 3.5, 0]);
  assert.ok(out.every((v) => !Object.is(v, -0)));
});

test("maxPool takes each window's max at its stride, flooring the output size", () => {
  // 1×5×5 ramp, window 2, stride 2 -> 2×2 (the last row and column are not covered).
  const src = Float32Array.from({ length: 25 }, (_, i) => i);
  assert.deepEqual(Array.from(maxPool(src, [1, 5, 5], 2, 2)), [6, 8, 16, 18]);
  // window 3, stride 1 over 2 channels of 3×3: one value each, the channel's max.
  const two = Float32Array.from([...Array(9).keys()].map((i) => 0 - i).concat([...Array(9).keys()]));
  assert.deepEqual(Array.from(maxPool(two, [2, 3, 3], 3, 1)), [0, 8]);
});

test("a damaged answer is refused with a WireError, not garbage", () => {
  const good = Buffer.from(fixture.cases[0].wire, "base64");
  const copy = (b) => b.buffer.slice(b.byteOffset, b.byteOffset + b.length);
  const bad = Buffer.from(good);
  bad.write("XXXX", 0);
  assert.throws(() => decodeForward(copy(bad)), WireError);
  assert.throws(() => decodeForward(copy(good.subarray(0, good.length - 100))), /overrun/);
  assert.throws(() => decodeForward(new ArrayBuffer(3)), WireError);
});
