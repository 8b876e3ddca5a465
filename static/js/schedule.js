// Latest-wins request scheduling. Pure: no DOM, no fetch (the task is passed in).
//
// While a student draws, the pad produces a new drawing every animation frame, far faster than a
// round trip. Sending each one would pile requests up and repaint stale results out of order.
// Instead: at most one request is in flight; anything submitted meanwhile replaces the single
// pending slot, so when the request returns the LATEST drawing goes next and the ones in between
// are never sent. Results are delivered in submission order only (an older result never
// overwrites a newer one), so the view never flickers back.
//
// mode "queue"  (forward): let the in-flight request finish, then send the latest pending one.
// mode "abort"  (explain): abort the in-flight request at once and send the new one; a hover
//               that has moved on makes the old answer worthless.

export function latestWins(task, { mode = "queue", onResult = () => {}, onError = () => {}, now = () => performance.now() } = {}) {
  let seq = 0;            // number of the last submission
  let delivered = 0;      // number of the newest submission whose result was delivered
  let current = null;     // {seq, controller} of the request in flight
  let pending = null;     // {seq, input} waiting for the in-flight request
  const stats = { sent: 0, skipped: 0, aborted: 0, delivered: 0 };

  function start(job) {
    const controller = new AbortController();
    current = { seq: job.seq, controller };
    stats.sent += 1;
    const t0 = now();
    Promise.resolve()
      .then(() => task(job.input, controller.signal))
      .then(
        (result) => {
          if (job.seq > delivered && !controller.signal.aborted) {
            delivered = job.seq;
            stats.delivered += 1;
            onResult(result, job.input, { seq: job.seq, ms: now() - t0 });
          }
        },
        (error) => {
          if (!controller.signal.aborted && error?.name !== "AbortError") onError(error, job.input);
        },
      )
      .finally(() => {
        if (current && current.seq === job.seq) current = null;
        if (!current && pending) {
          const next = pending;
          pending = null;
          start(next);
        }
      });
  }

  return {
    // Ask for `input` to be run; returns its submission number.
    submit(input) {
      seq += 1;
      const job = { seq, input };
      if (!current) {
        start(job);
      } else if (mode === "abort") {
        stats.aborted += 1;
        if (pending) stats.skipped += 1;
        pending = job;
        current.controller.abort();   // its finally() starts `pending`
      } else {
        if (pending) stats.skipped += 1;
        pending = job;
      }
      return seq;
    },
    // Drop everything: abort the request in flight and forget the pending one.
    cancel() {
      if (pending) stats.skipped += 1;
      pending = null;
      if (current) {
        stats.aborted += 1;
        current.controller.abort();
      }
      delivered = seq;   // nothing submitted so far may be delivered any more
    },
    get busy() { return current !== null; },
    get hasPending() { return pending !== null; },
    stats,
  };
}
