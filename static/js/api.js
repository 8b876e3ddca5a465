// The only module that talks to the server (the contract in /work/shared/contract/api.md).
// Every value array of a response is turned into a Float32Array here, once, so views index
// typed arrays and never re-parse.

export class ApiError extends Error {
  constructor(status, detail) {
    super(`${status}: ${detail}`);
    this.status = status;
    this.detail = detail;
  }
}

// The model the page shows is recorded in its URL (?model=lenet-harley, set by the selector in
// views/models.js). Every request carries it, so all tabs talk to the same model without
// passing it around; no ?model= is the server's default model, as in the original contract.
export function withModel(path, search = globalThis.location?.search ?? "") {
  const model = new URLSearchParams(search).get("model");
  if (!model || /[?&]model=/.test(path)) return path;
  return `${path}${path.includes("?") ? "&" : "?"}model=${encodeURIComponent(model)}`;
}

async function request(path, { body, signal, method = body ? "POST" : "GET" } = {}) {
  const response = await fetch(withModel(path), {
    method,
    signal,
    headers: body ? { "Content-Type": "application/json" } : undefined,
    body: body ? JSON.stringify(body) : undefined,
  });
  if (!response.ok) {
    let detail = response.statusText;
    try { detail = (await response.json()).detail ?? detail; } catch { /* not JSON */ }
    throw new ApiError(response.status, typeof detail === "string" ? detail : JSON.stringify(detail));
  }
  return response.json();
}

const typed = (values) => (values instanceof Float32Array ? values : Float32Array.from(values));

// A forward response with typed values and a by-name index:
// {prediction, probabilities, layers, preprocessing, byName, body}.
export function toTrace(response, body) {
  const layers = response.layers.map((l) => ({ ...l, values: typed(l.values) }));
  const preprocessing = response.preprocessing
    ? { ...response.preprocessing, steps: (response.preprocessing.steps ?? []).map((s) => ({ ...s, values: typed(s.values) })) }
    : null;
  return { ...response, layers, preprocessing, byName: new Map(layers.map((l) => [l.name, l])), body };
}

export const health = (opts) => request("/api/health", opts);
export const model = (opts) => request("/api/model", opts);
export const models = (opts) => request("/api/models", opts);   // [{id, label, ..., default}]
export const weights = (opts) => request("/api/model/weights", opts);
export const join = (opts) => request("/api/join", opts);

// body: {image: dataURL} or {pixels, width, height}, optional preprocess.
export async function forward(body, { signal } = {}) {
  return toTrace(await request("/api/forward", { body, signal }), body);
}

// Where one unit's value comes from; `source.values` typed like a record's.
export async function explain(body, layer, unit, { signal } = {}) {
  const e = await request("/api/explain", { body: { ...body, layer, unit }, signal });
  return { ...e, source: { ...e.source, values: typed(e.source.values) } };
}

// A test-set digit as a forward body ({pixels, width, height}).
export const sample = (digit, index = 0, opts) => request(`/api/samples?digit=${digit}&index=${index}`, opts);

// Lab (issue 7): one map convolved with one kernel (POST /api/convolve); maps typed like a
// record's values. `model` picks a served model for learned filters (GET /api/models ids).
const LAB_MAPS = ["padded", "output", "relu", "pooled", "products"];
export async function convolve(body, { signal, model } = {}) {
  const query = model ? `?model=${encodeURIComponent(model)}` : "";
  const r = await request(`/api/convolve${query}`, { body, signal });
  for (const key of LAB_MAPS) if (r[key]) r[key] = { ...r[key], values: typed(r[key].values) };
  return { ...r, kernel: { ...r.kernel, values: typed(r.kernel.values) } };
}
export const kernels = (opts) => request("/api/kernels", opts);
