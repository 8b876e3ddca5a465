// Keeps the store in step with the server: drawings go to /api/forward, the focused unit to
// /api/explain, both latest-wins (schedule.js). Not a view: it draws nothing.
//
// startLive(store, api) -> {submit(body | () => body, strokeTime)}
// A function (sync or async) is called only when its request is actually sent, so encoding the pad
// is skipped for every drawing that a newer one replaces while a request is in flight.
// Writes trace, latency, explanation, error and stale into the store.
//
// A server that stops answering (stopped, restarted, the Wi-Fi dropped) must not leave the last
// drawing's network up as if it were this one: a failed forward sets `stale` ({attempt, retryIn,
// message}), the views grey themselves and say so, and the latest drawing is sent again with
// back-off (honest.js) until an answer arrives, which clears `stale`. Nothing to click.

import { latestWins } from "./schedule.js";
import { focusUnit } from "./state.js";
import { backoff, retryable } from "./honest.js";

export function startLive(store, api, { setTimer = setTimeout, clearTimer = clearTimeout } = {}) {
  const delays = backoff();
  let retryTimer = null;
  let lastJob = null;   // the newest forward job: what a retry sends again
  const forward = latestWins(async (job, signal) => {
    if (!job.body) {
      job.body = await job.make();   // may be async (the pad deflates its PNG)
      store.set({ drawing: job.body });
    }
    job.sentAt = performance.now();   // the round trip is timed from here, without the encoding
    return api.forward(job.body, { signal });
  }, {
    mode: "queue",
    onResult(trace, job, meta) {
      const t0 = performance.now();
      delays.reset();
      if (retryTimer !== null) { clearTimer(retryTimer); retryTimer = null; }
      store.set({ trace, error: null, stale: null });   // views repaint synchronously here
      const paint = performance.now() - t0;
      performance.measure("trace-apply", { start: t0, end: t0 + paint });   // every view, not only the network
      performance.measure("forward-roundtrip", { start: job.sentAt ?? t0 - meta.ms, end: t0 });
      if (job.strokeTime) performance.measure("stroke-to-network", { start: job.strokeTime, end: performance.now() });
      store.set({ latency: { roundTrip: meta.ms, paint } });
    },
    onError(err, job) {
      if (!retryable(err)) { store.set({ error: `forward: ${err.message}` }); return; }
      const retryIn = delays.next();
      store.set({ error: null, stale: { attempt: delays.attempt, retryIn, message: err.message } });
      if (retryTimer !== null) clearTimer(retryTimer);
      retryTimer = setTimer(() => {
        retryTimer = null;
        // A newer drawing already on its way is the retry; else send the latest one again.
        const again = lastJob ?? job;
        again.strokeTime = 0;   // an outage is not stroke latency (bench/page.py reads it)
        if (!forward.busy && !forward.hasPending) forward.submit(again);
      }, retryIn);
    },
  });

  const explain = latestWins((job, signal) => api.explain(job.body, job.layer, job.unit, { signal }), {
    mode: "abort",
    onResult(explanation, job) {
      const s = store.get();
      const f = focusUnit(s);
      // Only the answer for what is focused now, on the drawing shown now, is worth showing.
      if (f && f.layer === job.layer && f.unit.every((u, i) => u === job.unit[i]) && s.trace?.body === job.body) {
        store.set({ explanation: { ...explanation, body: job.body } });
      }
    },
    onError(err) {
      // The server gone: the forward's retry brings a fresh trace, and that re-asks (below).
      if (!retryable(err)) store.set({ error: `explain: ${err.message}` });
    },
  });

  function follow(s) {
    const f = focusUnit(s);
    const kind = f && s.trace?.byName.get(f.layer)?.kind;
    if (!f || !s.trace || kind === "input") {
      explain.cancel();
      if (s.explanation) store.set({ explanation: null });
      return;
    }
    const e = s.explanation;
    if (e && e.layer === f.layer && e.unit.every((u, i) => u === f.unit[i]) && e.body === s.trace.body) return;
    explain.submit({ body: s.trace.body, layer: f.layer, unit: f.unit });
  }
  store.subscribe(follow, ["hover", "pinned"]);
  // A new trace while drawing: explain the focused unit again only once the drawing rests (no
  // forward waiting), so the pinned unit's numbers do not double the server's work per stroke.
  // After a tick, because the forward scheduler frees its slot just after delivering.
  store.subscribe(() => setTimeout(() => {
    if (!forward.busy && !forward.hasPending) follow(store.get());
  }, 0), ["trace"]);

  return {
    submit(body, strokeTime = 0) {
      if (typeof body === "function") {
        lastJob = { make: body, strokeTime };
      } else {
        store.set({ drawing: body });
        lastJob = { body, strokeTime };
      }
      forward.submit(lastJob);
    },
    stats: { forward: forward.stats, explain: explain.stats },
    // Nothing in flight or waiting: the trace on screen is the latest drawing's (tests wait on it).
    get idle() { return !forward.busy && !forward.hasPending && !explain.busy && !explain.hasPending; },
  };
}
