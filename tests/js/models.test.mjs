import { test } from "node:test";
import assert from "node:assert/strict";
import { chosenModel, modelUrl } from "../../static/js/views/models.js";
import { withModel } from "../../static/js/api.js";

const LISTING = [
  { id: "lenet-mnist", default: true },
  { id: "lenet-harley", default: false },
  { id: "lenet-fashion", default: false },
];

test("the URL's ?model= picks the model; none or an unknown id falls back to the default", () => {
  assert.deepEqual(chosenModel("", LISTING), { id: "lenet-mnist", unknown: null });
  assert.deepEqual(chosenModel("?model=lenet-harley", LISTING), { id: "lenet-harley", unknown: null });
  assert.deepEqual(chosenModel("?send=pixels&model=lenet-fashion", LISTING), { id: "lenet-fashion", unknown: null });
  assert.deepEqual(chosenModel("?model=lenet-7", LISTING), { id: "lenet-mnist", unknown: "lenet-7" });
  assert.deepEqual(chosenModel("?model=", LISTING), { id: "lenet-mnist", unknown: "" });
});

test("choosing a model writes it into the URL, the default keeps the URL clean", () => {
  assert.equal(modelUrl("http://h:8000/?send=pixels", "lenet-harley", LISTING), "http://h:8000/?send=pixels&model=lenet-harley");
  assert.equal(modelUrl("http://h:8000/?model=lenet-harley", "lenet-fashion", LISTING), "http://h:8000/?model=lenet-fashion");
  assert.equal(modelUrl("http://h:8000/?model=lenet-harley&send=pixels", "lenet-mnist", LISTING), "http://h:8000/?send=pixels");
  assert.equal(modelUrl("http://h:8000/", "lenet-mnist", LISTING), "http://h:8000/");
});

test("every API path carries the page's model, once", () => {
  assert.equal(withModel("/api/forward", ""), "/api/forward");
  assert.equal(withModel("/api/forward", "?model=lenet-harley"), "/api/forward?model=lenet-harley");
  assert.equal(withModel("/api/samples?digit=3&index=0", "?x=1&model=lenet-fashion"), "/api/samples?digit=3&index=0&model=lenet-fashion");
  assert.equal(withModel("/api/convolve?model=lenet-mnist", "?model=lenet-harley"), "/api/convolve?model=lenet-mnist");
  assert.equal(withModel("/api/model", "?model=a%20b"), "/api/model?model=a%20b");
  assert.equal(withModel("/api/model"), "/api/model");   // node: no location, no model
});
