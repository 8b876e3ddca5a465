import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import {
  checkLesson, parsePath, lookup, resolveUnit, runnerUp, dataRequests, lessonContext, fillText,
  snapshot, taskDone, readProgress, recordStep, lessonStatus, MIN_STEPS, MAX_STEPS,
  lessonModels, missingModels, missingModelsText, KEEP_SHIPPED, inheritedView,
} from "../../static/js/lessons/engine.js";

const DIR = new URL("../../static/lessons/", import.meta.url);
const files = readdirSync(DIR).filter((f) => /^\d\d-.*\.json$/.test(f)).sort();
const lessons = files.map((f) => JSON.parse(readFileSync(new URL(f, DIR))));
const units = JSON.parse(readFileSync(new URL("./fixtures/explain-units.json", import.meta.url)));

// A small trace: conv1 (2 maps of 3×3), fc (4 units), softmax.
function trace() {
  const conv = { name: "conv1", kind: "conv", shape: [2, 3, 3], values: Float32Array.from([0, 1, 2, 3, 9, 5, 6, 7, 8, -1, -2, -3, -9, 0, -5, -6, -7, -8]) };
  const fc = { name: "fc", kind: "dense", shape: [4], values: Float32Array.from([0.5, -1, 3, 2]) };
  const sm = { name: "softmax", kind: "softmax", shape: [4], values: Float32Array.from([0.1, 0.2, 0.6, 0.1]) };
  const layers = [conv, fc, sm];
  return { layers, byName: new Map(layers.map((l) => [l.name, l])), prediction: 2, probabilities: sm.values, body: { pixels: [] } };
}

test("the seven lesson files are valid, 3–8 steps each, numbers only from placeholders", () => {
  assert.equal(lessons.length, 7);
  for (const [i, l] of lessons.entries()) {
    assert.deepEqual(checkLesson(l), [], files[i]);
    assert.ok(l.steps.length >= MIN_STEPS && l.steps.length <= MAX_STEPS);
    assert.ok(l.steps.every((s) => /\{[^}]+\}/.test(s.text)), `${files[i]}: every step shows live numbers`);
  }
  const index = JSON.parse(readFileSync(new URL("index.json", DIR)));
  assert.deepEqual(index.map((e) => e.file), files, "index.json lists every lesson file in order");
  index.forEach((e, i) => {
    assert.equal(e.id, lessons[i].id);
    assert.equal(e.number, i + 1);
    assert.equal(e.steps, lessons[i].steps.length, `${e.file}: index.json step count`);
    assert.equal(e.question, lessons[i].question);
  });
  // Lesson 1 names the maps; lesson 5 goes to Harley's model and comes back; lesson 6 asks for
  // a conv1 weight's gradient terms.
  assert.deepEqual(Object.values(lessons[0].steps[0].labels), ["convolved feature = feature map", "rectified feature map", "pooled feature map"]);
  assert.equal(lessons[4].steps[0].view.model, "lenet-harley");
  assert.equal(lessons[4].steps.at(-1).view.model, "default");
  assert.ok(lessons[5].steps.some((s) => /after_one_step/.test(s.text) && /learning_rate/.test(s.text)));
});

test("checkLesson catches typed numbers, unknown data and bad step counts", () => {
  const ok = lessons[0];
  const bad = (patch) => checkLesson({ ...ok, steps: ok.steps.map((s, i) => (i === 0 ? { ...s, ...patch } : s)) });
  assert.match(bad({ text: "The unit is 2.31 here" }).join(), /typed/);
  assert.match(bad({ text: "all 120 units" }).join(), /typed/);
  assert.deepEqual(bad({ text: "a {stage.conv1.kernel|int}×{stage.conv1.kernel|int} kernel" }), []);
  assert.match(bad({ text: "{nothing.value}" }).join(), /names no data/);
  assert.match(bad({ task: { do: "dance", prompt: "x" } }).join(), /task.do/);
  assert.match(checkLesson({ ...ok, steps: ok.steps.slice(0, 2) }).join(), /steps/);
  assert.match(checkLesson(null).join(), /object/);
});

test("paths and lookups", () => {
  assert.deepEqual(parsePath("g.weight_terms.top[0].product"), ["g", "weight_terms", "top", 0, "product"]);
  assert.deepEqual(parsePath("c.source.window[1][0]"), ["c", "source", "window", 1, 0]);
  const o = { a: { b: [{ c: 5 }] }, l: [1, 2, 3] };
  assert.equal(lookup(o, "a.b[0].c"), 5);
  assert.equal(lookup(o, "l.length"), 3);
  assert.equal(lookup(o, "a.x.y"), undefined);
});

test("unit specs resolve on the trace shown", () => {
  const t = trace();
  assert.deepEqual(resolveUnit("conv1", { pick: "max", map: 0 }, { trace: t }), { layer: "conv1", unit: [0, 1, 1] });
  assert.deepEqual(resolveUnit("conv1", { pick: "min", map: 1 }, { trace: t }), { layer: "conv1", unit: [1, 1, 0] });
  assert.deepEqual(resolveUnit("conv1", { pick: "max" }, { trace: t }), { layer: "conv1", unit: [0, 1, 1] });
  assert.deepEqual(resolveUnit("fc", { pick: "max" }, { trace: t }), { layer: "fc", unit: [2] });
  assert.deepEqual(resolveUnit("softmax", { class: "prediction" }, { trace: t }), { layer: "softmax", unit: [2] });
  const pinned = { layer: "conv1", unit: [1, 2, 0] };
  assert.deepEqual(resolveUnit("conv1", "pinned", { trace: t, pinned }), pinned);
  assert.equal(resolveUnit("fc", "pinned", { trace: t, pinned }), null, "a pin on another stage is not this one");
  assert.deepEqual(resolveUnit("conv1", { at: "a", map: 1 }, { trace: t, resolved: { a: { layer: "conv1", unit: [0, 2, 1] } } }), { layer: "conv1", unit: [1, 2, 1] });
  assert.equal(resolveUnit("conv1", [5, 0, 0], { trace: t }), null, "out of range");
  assert.equal(resolveUnit("nope", [0], { trace: t }), null);
  assert.equal(runnerUp([0.1, 0.2, 0.6, 0.1]), 1);
});

test("dataRequests: explain units, gradient target and rate, the Lab's answer; waits when it cannot", () => {
  const t = trace();
  const step = { data: { a: { explain: { layer: "conv1", unit: { pick: "max", map: 1 } } }, b: { explain: { layer: "conv1", unit: { at: "a", map: 0 } } }, g: { gradient: { target: "learn", rate: "learn", weight: { layer: "conv1" } } } } };
  assert.match(dataRequests(step, { trace: t }).waiting, /target/);
  const r = dataRequests(step, { trace: t, learn: { target: 3, rate: 0.05, steps: 0 } }).requests;
  assert.deepEqual(r.map((x) => x.name), ["a", "b", "g"]);
  assert.deepEqual(r[0].args, { layer: "conv1", unit: [1, 1, 1] }, "map 1's largest value (0)");
  assert.deepEqual(r[1].args, { layer: "conv1", unit: [0, 1, 1] }, "the same place in map 0");
  assert.deepEqual(r[2].args, { target: 3, learning_rate: 0.05, steps: 1, weight: { layer: "conv1" } });
  const ru = dataRequests({ data: { g: { gradient: { target: "runner-up", rate: 0.01 } } } }, { trace: t }).requests;
  assert.equal(ru[0].args.target, 1);
  assert.match(dataRequests({ data: { l: { lab: {} } } }, { trace: t }).waiting, /Lab/);
  assert.match(dataRequests({ data: { c: { explain: { layer: "conv1", unit: "pinned" } } } }, { trace: t, pinned: null }).waiting, /conv1/);
});

test("fillText: every number is a part with its path and exact value, in the asked format", () => {
  const state = { trace: trace(), pinned: { layer: "conv1", unit: [0, 1, 1] }, model: { classes: ["zero", "one", "two", "three"], layers: [{ name: "conv1", shape: [2, 3, 3], kernel: 5 }] }, learn: { target: 3 } };
  const ctx = lessonContext(state, { c: units.conv1, p: units.pool1, g: { weight_terms: { gradient: -0.00001234, before: 0.5 } } });
  const { parts, missing } = fillText("{pinned.name} = {c.sum} (bias {c.bias|4}); max({p.source.values|list2}) · {stage.conv1.shape|shape} · {c.terms.count|int} maps · {g.weight_terms.gradient|g} · {trace.probabilities[2]|pct} · “{learn.target|class}” · {c.terms.subtotals|list} · {p.source.values|count}", ctx);
  assert.deepEqual(missing, []);
  const nums = parts.filter((p) => p.path);
  const at = (path) => nums.find((p) => p.path === path);
  assert.equal(parts[0].text, "conv1[0, 1, 1]");
  assert.equal(at("pinned.unit"), undefined, "strings are text, not numbers");
  assert.equal(at("c.sum").value, units.conv1.sum);
  assert.equal(at("c.sum").text, units.conv1.sum.toFixed(3).replace("-", "\u2212"));
  assert.equal(at("c.bias").text.replace("\u2212", "-"), units.conv1.bias.toFixed(4));
  assert.equal(at("p.source.values[3]").value, units.pool1.source.values[3]);
  assert.equal(at("stage.conv1.shape[2]").text, "3");
  assert.ok(parts.some((p) => p.text === "×"), "a shape reads 2×3×3");
  assert.equal(at("c.terms.count").text, "1");
  assert.equal(at("g.weight_terms.gradient").text, "\u22121.234×10⁻⁵");
  assert.equal(at("trace.probabilities[2]").text, `${(state.trace.probabilities[2] * 100).toFixed(1)}%`);
  assert.equal(at("learn.target").text, "three");
  assert.ok(Math.abs(at("c.terms.subtotals[0]").value - (units.conv1.sum - units.conv1.bias)) < 1e-6, "the one map's products add to sum − bias");
  assert.equal(at("p.source.values.length").value, units.pool1.source.values.length);
  // Missing data: a visible "…" part, named in `missing`.
  const gone = fillText("x = {nope.value} and {c.sum}", lessonContext(state, { c: units.conv1 }));
  assert.deepEqual(gone.missing, ["nope.value"]);
  assert.ok(gone.parts.some((p) => p.pending && p.text === "…"));
});

test("Harley's conv2 terms: only the maps the filter reads", () => {
  const ctx = lessonContext({ trace: trace() }, { c: units["harley-conv2"] });
  assert.equal(ctx.c.terms.count, units["harley-conv2"].channels.length);
  assert.deepEqual(ctx.c.terms.maps, units["harley-conv2"].channels);
  const total = ctx.c.terms.subtotals.reduce((a, b) => a + b, 0);
  assert.ok(Math.abs(total + units["harley-conv2"].bias - units["harley-conv2"].sum) < 1e-5);
});

test("taskDone: each kind of task, and not before the student acts", () => {
  const t = trace();
  const base = { trace: t, drawing: t.body, pinned: { layer: "conv1", unit: [0, 1, 1] }, hover: null, tab: "network", modelId: "a", model: { modelId: "a" }, lab: { padding: 0, stride: 1, kernel: "classic:x" }, learn: { target: 2, rate: 0.01, steps: 0 } };
  const start = snapshot(base);
  const done = (task, patch, opts) => taskDone(task, start, { ...base, ...patch }, opts);
  for (const task of [{ do: "hover", layer: "conv1" }, { do: "pin", layer: "conv1" }, { do: "draw" }, { do: "lab", key: "padding" }, { do: "learn-step" }, { do: "learn-rate" }, { do: "learn-target" }]) {
    assert.equal(done(task, {}), false, `${task.do} is not done at the start`);
  }
  assert.equal(done({ do: "hover", layer: "conv1" }, { pinned: { layer: "conv1", unit: [0, 2, 2] } }), true);
  assert.equal(done({ do: "hover", layer: "fc" }, { pinned: { layer: "conv1", unit: [0, 2, 2] } }), false, "another stage");
  assert.equal(done({ do: "hover", layer: "conv1", where: "zero" }, { pinned: { layer: "conv1", unit: [0, 0, 1] } }), false, "1 is not 0");
  assert.equal(done({ do: "hover", layer: "conv1", where: "zero" }, { pinned: { layer: "conv1", unit: [1, 1, 1] } }), true);
  assert.equal(done({ do: "hover", layer: "conv1", where: "other-map" }, { pinned: { layer: "conv1", unit: [0, 2, 2] } }), false);
  assert.equal(done({ do: "hover", layer: ["fc", "softmax"] }, { pinned: null, hover: { layer: "softmax", unit: [1] } }), true, "a hover counts when nothing is pinned");
  assert.equal(done({ do: "pin", layer: "conv1", where: "other-map" }, { pinned: { layer: "conv1", unit: [1, 1, 1] } }), true);
  const drawn = { image: "data:" };
  assert.equal(done({ do: "draw" }, { drawing: drawn, trace: { ...t, body: t.body } }), false, "until its trace is on screen");
  assert.equal(done({ do: "draw" }, { drawing: drawn, trace: { ...t, body: drawn } }), true);
  assert.equal(done({ do: "tab", value: "lab" }, { tab: "lab" }), true);
  assert.equal(done({ do: "model", value: "default" }, { modelId: "d", model: { modelId: "a" } }, { defaultModel: "d" }), false, "until the model's record arrives");
  assert.equal(done({ do: "model", value: "default" }, { modelId: "d", model: { modelId: "d" } }, { defaultModel: "d" }), true);
  assert.equal(done({ do: "lab", key: "padding" }, { lab: { ...base.lab, padding: 2 } }), true);
  assert.equal(done({ do: "lab", key: "kernel", prefix: "learned:" }, { lab: { ...base.lab, kernel: "classic:y" } }), false);
  assert.equal(done({ do: "lab", key: "kernel", prefix: "learned:" }, { lab: { ...base.lab, kernel: "learned:conv1:2" } }), true);
  assert.equal(done({ do: "learn-target", not: "prediction" }, { learn: { ...base.learn, target: 2 } }), false, "the prediction is 2");
  assert.equal(done({ do: "learn-target", not: "prediction" }, { learn: { ...base.learn, target: 3 } }), true);
  assert.equal(done({ do: "learn-step" }, { learn: { ...base.learn, steps: 1 } }), true);
  assert.equal(done({ do: "learn-rate" }, { learn: { ...base.learn, rate: 0.05 } }), true);
  assert.equal(done({ do: "expand", target: "#x" }, {}, { dom: { expanded: (s) => s === "#x" } }), true);
});

test("progress: recorded per step, finished when every step is done, survives junk", () => {
  let p = readProgress("not json");
  assert.deepEqual(p, {});
  assert.deepEqual(readProgress("[1,2]"), {});
  assert.equal(lessonStatus(p, "a", 3), "new");
  p = recordStep(p, "a", 0, 3);
  p = recordStep(p, "a", 0, 3);
  assert.equal(lessonStatus(p, "a", 3), "1 of 3 steps");
  p = recordStep(recordStep(p, "a", 2, 3), "a", 1, 3);
  assert.deepEqual(p.a, { done: [0, 1, 2], last: 1, finished: true });
  assert.equal(lessonStatus(readProgress(JSON.stringify(p)), "a", 3), "done");
  assert.deepEqual(recordStep({ a: { done: "junk" } }, "a", 9, 3).a.done, [], "out-of-range steps are dropped");
});

test("a lesson names the model it was written for; index.json lists every model it needs", () => {
  const index = JSON.parse(readFileSync(new URL("index.json", DIR)));
  for (const [i, l] of lessons.entries()) {
    assert.equal(l.model, "lenet-mnist", files[i]);
    assert.deepEqual(index[i].models, lessonModels(l), `${files[i]}: index.json models`);
  }
  assert.deepEqual(lessonModels(lessons[4]), ["lenet-mnist", "lenet-harley"]);   // lesson 5 visits Harley's
  assert.deepEqual(checkLesson({ ...lessons[0], model: undefined }), ["model missing"]);
});

test("missingModels: what the server does not serve; nothing while the list is unknown", () => {
  const served = [{ id: "tinyvgg" }, { id: "lenet-mnist" }];
  assert.deepEqual(missingModels(["lenet-mnist", "lenet-harley"], served), ["lenet-harley"]);
  assert.deepEqual(missingModels(["lenet-mnist"], served), []);
  assert.deepEqual(missingModels(["lenet-mnist"], undefined), []);
  assert.deepEqual(missingModels(undefined, served), []);
  const text = missingModelsText(["lenet-harley"]);
  assert.match(text, /^needs lenet-harley, which this server does not serve/);
  assert.ok(text.includes(KEEP_SHIPPED));
});

test("a step opened directly gets every view up to it: later keys win, the Lab's merged", () => {
  const l = { steps: [
    { view: { tab: "lab", model: "default", drawing: { sample: [3, 0] }, lab: { kernel: "classic:edge_all", stride: 1, padding: 0 } } },
    {},
    { view: { lab: { stride: 2 } } },
    { view: { tab: "network", pin: { layer: "conv1", unit: "pinned" } } },
  ] };
  assert.deepEqual(inheritedView(l, 0), l.steps[0].view);
  assert.deepEqual(inheritedView(l, 1), l.steps[0].view);
  assert.deepEqual(inheritedView(l, 2), { tab: "lab", model: "default", drawing: { sample: [3, 0] },
    lab: { kernel: "classic:edge_all", stride: 2, padding: 0 } });
  assert.equal(inheritedView(l, 3).tab, "network");
  assert.equal(inheritedView(l, 3).lab.stride, 2);
  assert.equal(l.steps[0].view.lab.stride, 1, "the lesson's own views are not changed");
  // Every shipped lesson: a step opened directly knows its tab and model (step 1 sets both).
  for (const lesson of lessons) {
    lesson.steps.forEach((_, i) => {
      const v = inheritedView(lesson, i);
      assert.ok(v.tab && v.model, `${lesson.id} step ${i + 1}: ${JSON.stringify(v)}`);
    });
  }
});
