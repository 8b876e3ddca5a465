// When to ask again after a refusal. The server's cost gate (app/limits.py) answers 503 with
// Retry-After when a worker already runs and queues its fill of gradients, history forwards
// or large convolutions: a class pressing "Step" at once should queue behind each other, not
// see an error. So a 503 (or 429) that says Retry-After is retried, a few times, after that
// many seconds plus a random 0-50 % (students who were refused together do not all come back
// in the same millisecond). Anything else, or one refusal too many, is the caller's error.

export const MAX_RETRIES = 3;
const MAX_WAIT_S = 10;      // a Retry-After from a confused proxy must not freeze the page

// Milliseconds to wait before attempt `attempt + 1`, or null: do not retry.
export function retryDelay(status, retryAfter, attempt, random = Math.random) {
  if ((status !== 503 && status !== 429) || attempt >= MAX_RETRIES || retryAfter == null) return null;
  const seconds = Number(retryAfter);
  if (!Number.isFinite(seconds) || seconds < 0) return null;   // an HTTP date: not ours
  return Math.min(seconds, MAX_WAIT_S) * 1000 * (1 + 0.5 * random());
}

// A timeout that an AbortSignal cancels (rejecting with the signal's reason, like fetch).
export function sleep(ms, signal) {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => { signal?.removeEventListener("abort", stop); resolve(); }, ms);
    const stop = () => { clearTimeout(timer); reject(signal.reason); };
    signal?.addEventListener("abort", stop, { once: true });
  });
}
