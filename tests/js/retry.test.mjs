import { test } from "node:test";
import assert from "node:assert/strict";
import { MAX_RETRIES, retryDelay, sleep } from "../../static/js/retry.js";
import { ApiError, gradient } from "../../static/js/api.js";

test("a 503 or 429 with Retry-After is retried after it, with up to 50 % jitter", () => {
  assert.equal(retryDelay(503, "1", 0, () => 0), 1000);
  assert.equal(retryDelay(503, "1", 0, () => 1), 1500);
  assert.equal(retryDelay(429, "2", 2, () => 0), 2000);
  assert.equal(retryDelay(503, "600", 0, () => 0), 10_000, "capped");
});

test("anything else is not retried", () => {
  assert.equal(retryDelay(503, null, 0), null, "no Retry-After");
  assert.equal(retryDelay(503, "1", MAX_RETRIES), null, "too many tries");
  assert.equal(retryDelay(500, "1", 0), null);
  assert.equal(retryDelay(422, "1", 0), null);
  assert.equal(retryDelay(200, "1", 0), null);
  assert.equal(retryDelay(503, "Wed, 21 Oct 2026 07:28:00 GMT", 0), null, "a date");
});

test("sleep ends early when its signal aborts", async () => {
  const ctrl = new AbortController();
  const t = Date.now();
  const p = sleep(5000, ctrl.signal);
  ctrl.abort(new Error("stop"));
  await assert.rejects(p, /stop/);
  assert.ok(Date.now() - t < 1000);
});

function stubFetch(answers) {
  const calls = [];
  globalThis.fetch = async (url, init) => {
    calls.push({ url, init });
    const { status, retryAfter, body } = answers[Math.min(calls.length - 1, answers.length - 1)];
    const headers = { "Content-Type": "application/json" };
    if (retryAfter != null) headers["Retry-After"] = retryAfter;
    return new Response(JSON.stringify(body), { status, headers });
  };
  return calls;
}

const busy = { status: 503, retryAfter: "0", body: { detail: "the server is busy" } };
const answer = { before: { probabilities: [1] }, after: { probabilities: [1] }, stage_gradients: [],
                 parameter_gradients: {}, kernels: {} };

test("the page asks again after a busy 503 and gets the answer", async () => {
  const calls = stubFetch([busy, busy, { status: 200, body: answer }]);
  const r = await gradient({ pixels: [0], width: 1, height: 1 }, { target: 1, learning_rate: 0.1 });
  assert.equal(calls.length, 3);
  assert.equal(calls[2].init.body, calls[0].init.body, "the same body each time");
  assert.ok(r.before.probabilities instanceof Float32Array);
});

test("after MAX_RETRIES refusals the 503 reaches the caller with its detail", async () => {
  const calls = stubFetch([busy]);
  await assert.rejects(gradient({ pixels: [0], width: 1, height: 1 }, { target: 1, learning_rate: 0.1 }),
    (e) => e instanceof ApiError && e.status === 503 && e.detail === "the server is busy");
  assert.equal(calls.length, MAX_RETRIES + 1);
});

test("a 422 is never retried", async () => {
  const calls = stubFetch([{ status: 422, body: { detail: "learning_rate: bad" } }]);
  await assert.rejects(gradient({}, { target: 1, learning_rate: "1" }), (e) => e.status === 422);
  assert.equal(calls.length, 1);
});
