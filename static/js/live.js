// Keeps the store in step with the server: drawings go to /api/forward, the focused unit to
// /api/explain, both latest-wins (schedule.js). Not a view: it draws nothing.
//
// startLive(store, api) -> {submit(body | () => body, strokeTime)}
// A function (sync or async) is called only when its request is actually sent, so encoding the pad
// is skipped for every drawing that a newer one replaces while a request is in flight.
// Writes trace, latency, explanation and error into the store.

import { latestWins } from "./schedule.js";
import { focusUnit } from "./state.js";

export function startLive(store, api) {
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
      store.set({ trace, error: null });   // views repaint synchronously here
      const paint = performance.now() - t0;
      performance.measure("trace-apply", { start: t0, end: t0 + paint });   // every view, not only the network
      performance.measure("forward-roundtrip", { start: job.sentAt ?? t0 - meta.ms, end: t0 });
      if (job.strokeTime) performance.measure("stroke-to-network", { start: job.strokeTime, end: performance.now() });
      store.set({ latency: { roundTrip: meta.ms, paint } });
    },
    onError: (err) => store.set({ error: `forward: ${err.message}` }),
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
    onError: (err) => store.set({ error: `explain: ${err.message}` }),
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
        forward.submit({ make: body, strokeTime });
        return;
      }
      store.set({ drawing: body });
      forward.submit({ body, strokeTime });
    },
    stats: { forward: forward.stats, explain: explain.stats },
    // Nothing in flight or waiting: the trace on screen is the latest drawing's (tests wait on it).
    get idle() { return !forward.busy && !forward.hasPending && !explain.busy && !explain.hasPending; },
  };
}
