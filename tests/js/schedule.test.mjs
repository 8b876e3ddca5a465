import { test } from "node:test";
import assert from "node:assert/strict";
import { latestWins } from "../../static/js/schedule.js";

// A task whose calls resolve only when the test says so.
function deferredTask() {
  const calls = [];
  const task = (input, signal) => new Promise((resolve, reject) => {
    calls.push({ input, resolve, signal });
    signal.addEventListener("abort", () => reject(Object.assign(new Error("aborted"), { name: "AbortError" })));
  });
  return { calls, task };
}
const tick = () => new Promise((r) => setTimeout(r, 0));

test("queue mode: one in flight, the latest pending wins, the ones between are never sent", async () => {
  const { calls, task } = deferredTask();
  const results = [];
  const s = latestWins(task, { onResult: (r) => results.push(r) });
  for (const d of ["a", "b", "c", "d"]) s.submit(d);
  await tick();
  assert.equal(calls.length, 1, "only one request in flight");
  calls[0].resolve("A");
  await tick(); await tick();
  assert.deepEqual(calls.map((c) => c.input), ["a", "d"], "b and c were skipped");
  calls[1].resolve("D");
  await tick(); await tick();
  assert.deepEqual(results, ["A", "D"]);
  assert.equal(s.stats.skipped, 2);
  assert.equal(s.busy, false);
});

test("abort mode: a new submission aborts the one in flight; its late answer is dropped", async () => {
  const { calls, task } = deferredTask();
  const results = [];
  const s = latestWins(task, { mode: "abort", onResult: (r) => results.push(r) });
  s.submit("x");
  await tick();
  s.submit("y");
  await tick(); await tick();
  assert.ok(calls[0].signal.aborted);
  assert.deepEqual(calls.map((c) => c.input), ["x", "y"]);
  calls[0].resolve("X-late");
  calls[1].resolve("Y");
  await tick(); await tick();
  assert.deepEqual(results, ["Y"]);
});

test("errors reach onError, aborts do not; cancel drops everything", async () => {
  const errors = [];
  const s = latestWins(async (input) => { throw new Error(`bad ${input}`); }, { onError: (e) => errors.push(e.message) });
  s.submit(1);
  await tick(); await tick();
  assert.deepEqual(errors, ["bad 1"]);
  const { calls, task } = deferredTask();
  const results = [];
  const t = latestWins(task, { onResult: (r) => results.push(r) });
  t.submit("p"); t.submit("q");
  await tick();
  t.cancel();
  await tick(); await tick();
  assert.equal(calls.length, 1);
  assert.deepEqual(results, []);
});

test("results carry their round-trip time from the injected clock", async () => {
  let clock = 0;
  const metas = [];
  const s = latestWins(async () => { clock += 12; return 1; }, { now: () => clock, onResult: (_r, _i, m) => metas.push(m) });
  s.submit("a");
  await tick(); await tick();
  assert.equal(metas[0].ms, 12);
  assert.equal(metas[0].seq, 1);
});
