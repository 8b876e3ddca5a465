import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { stageFloor } from "../../static/js/ranges.js";
import { STAGES } from "./reference_stages.mjs";

const SHIPPED = JSON.parse(readFileSync(new URL("./fixtures/shipped_stages.json", import.meta.url)));

test("after a ReLU nothing is negative, through pooling and flatten; conv and dense are signed", () => {
  const floors = Object.fromEntries(STAGES.map((s) => [s.name, stageFloor(STAGES, s.name)]));
  assert.deepEqual(floors, {
    input: 0, conv1: -Infinity, relu1: 0, pool1: 0, conv2: -Infinity, relu2: 0, pool2: 0,
    flatten: 0, fc1: -Infinity, relu3: 0, fc2: -Infinity, relu4: 0, fc3: -Infinity, softmax: 0,
  });
  assert.equal(stageFloor(STAGES, "nope"), -Infinity);
});

test("Harley's scaled tanh is signed everywhere; a pool without an activation before it is signed", () => {
  for (const s of SHIPPED["lenet-harley"]) {
    if (s.kind !== "input" && s.kind !== "softmax") assert.equal(stageFloor(SHIPPED["lenet-harley"], s.name), -Infinity, s.name);
  }
  // A pool straight after a conv (no activation between) is signed.
  const bare = STAGES.filter((s) => s.name !== "relu1");
  assert.equal(stageFloor(bare, "pool1"), -Infinity);
});
