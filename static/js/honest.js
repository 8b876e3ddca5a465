// Honest states: is there anything on the pad worth predicting, and a back-off for a server
// that stopped answering. Pure: no DOM, no fetch, no timers of its own.
//
// A blank pad still goes through the network (every stage is drawn at rest, which is worth
// seeing), but its "prediction" is the bias speaking: a blank MNIST pad says "8 50.6%". So the
// page says "draw a digit" instead whenever the drawing has too little ink to be one.

// How much ink a drawing has and where: {ink, box, width, height} with `ink` the sum of the
// alpha/255 values (pixel-equivalents of full ink) and `box` [x0, y0, x1, y1] half-open, or null.
export function inkStats(alpha, width, height) {
  let ink = 0, x0 = width, y0 = height, x1 = -1, y1 = -1;
  for (let y = 0, i = 0; y < height; y++) {
    for (let x = 0; x < width; x++, i++) {
      const a = alpha[i];
      if (a === 0) continue;
      ink += a;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
    }
  }
  return { ink: ink / 255, box: x1 < 0 ? null : [x0, y0, x1 + 1, y1 + 1], width, height };
}

// inkStats of the alpha channel of RGBA bytes, extracting that channel into `out` in the same
// pass (the pad needs both per stroke; one loop over its 78 400 pixels instead of two).
export function alphaInkStats(rgba, width, height, out) {
  let ink = 0, x0 = width, y0 = height, x1 = -1, y1 = -1;
  for (let y = 0, i = 0; y < height; y++) {
    let rowInk = false;
    for (let x = 0; x < width; x++, i++) {
      const a = rgba[i * 4 + 3];
      out[i] = a;
      if (a === 0) continue;
      ink += a;
      rowInk = true;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
    }
    if (rowInk) { if (y < y0) y0 = y; y1 = y; }
  }
  return { ink: ink / 255, box: x1 < 0 ? null : [x0, y0, x1 + 1, y1 + 1], width, height };
}

// Below these a drawing is a speck, not a digit: less ink than half a percent of the image (one
// tap of the default brush on the 280 px pad is ~0.4 %), or ink spanning under a tenth of the
// image's side (a dot the crop step would blow up to fill the 20×20 box). A "1" drawn with the
// thinnest brush is ~1 % of the pad and most of its height, so it still counts.
export const MIN_INK_FRACTION = 0.005;
export const MIN_SPAN_FRACTION = 0.1;

export function nearlyBlank(stats) {
  if (!stats || !stats.box) return true;
  const [x0, y0, x1, y1] = stats.box;
  const side = Math.max(stats.width, stats.height);
  if (Math.max(x1 - x0, y1 - y0) < MIN_SPAN_FRACTION * side) return true;
  return stats.ink < MIN_INK_FRACTION * stats.width * stats.height;
}

// The ink of a forward body: the pad records it when it encodes the body (it already has the
// alpha in hand); a pixel array ({pixels, width, height}, a test image) is measured here.
const known = new WeakMap();
export function noteInk(body, stats) {
  if (body && typeof body === "object") known.set(body, stats);
  return body;
}
export function inkOf(body) {
  if (!body || typeof body !== "object") return null;
  if (known.has(body)) return known.get(body);
  if (Array.isArray(body.pixels) || ArrayBuffer.isView(body.pixels)) {
    const stats = inkStats(body.pixels, body.width, body.height);
    known.set(body, stats);
    return stats;
  }
  return null;   // an image we did not encode: trust the server's crop box alone
}

// Is the trace on screen the bias speaking? Ink we measured decides; otherwise the server's
// crop box (null for a blank image).
export function traceIsBlank(trace) {
  if (!trace) return true;
  const stats = inkOf(trace.body);
  if (stats) return nearlyBlank(stats);
  const pre = trace.preprocessing;
  return pre ? pre.crop_box == null : false;
}

// Retry delays for a forward that failed because the server is gone or overloaded: doubling
// from `first` ms to `max` ms. A 4xx other than 408/429 is the request's fault: never retried.
export function backoff({ first = 250, max = 5000 } = {}) {
  let attempt = 0;
  return {
    next() { const d = Math.min(max, first * 2 ** attempt); attempt += 1; return d; },
    reset() { attempt = 0; },
    get attempt() { return attempt; },
  };
}
export const retryable = (err) => err?.status == null || err.status >= 500 || err.status === 408 || err.status === 429;
