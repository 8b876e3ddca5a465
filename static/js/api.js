// The only module that talks to the server (the contract in /work/shared/contract/api.md).
// Every value array of a response is turned into a Float32Array here, once, so views index
// typed arrays and never re-parse.

import { decodeForward, MEDIA_TYPE as WIRE_TYPE } from "./wire.js";
import { retryDelay, sleep } from "./retry.js";

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

async function send(path, { body, signal, method = body ? "POST" : "GET", accept } = {}) {
  const headers = {};
  if (body) headers["Content-Type"] = "application/json";
  if (accept) headers.Accept = accept;
  const payload = body ? JSON.stringify(body) : undefined;
  let response;
  for (let attempt = 0; ; attempt++) {
    response = await fetch(withModel(path), { method, signal, headers, body: payload });
    const wait = retryDelay(response.status, response.headers.get("Retry-After"), attempt);
    if (wait == null) break;
    await response.body?.cancel();     // the refusal's detail is not needed: ask again
    await sleep(wait, signal);         // busy server (retry.js)
  }
  if (!response.ok) {
    let detail = response.statusText;
    try { detail = (await response.json()).detail ?? detail; } catch { /* not JSON */ }
    throw new ApiError(response.status, typeof detail === "string" ? detail : JSON.stringify(detail));
  }
  return response;
}

const request = async (path, opts) => (await send(path, opts)).json();

const typed = (values) => (values instanceof Float32Array ? values : Float32Array.from(values));

// A forward response with typed values and a by-name index:
// {prediction, probabilities, layers, preprocessing, byName, body}.
export function toTrace(response, body) {
  const layers = response.layers.map((l) => ({ ...l, values: typed(l.values) }));
  const preprocessing = response.preprocessing
    ? { ...response.preprocessing, steps: (response.preprocessing.steps ?? []).map((s) => ({ ...s, values: typed(s.values) })) }
    : null;
  const probabilities = typed(response.probabilities);
  return { ...response, layers, probabilities, preprocessing, byName: new Map(layers.map((l) => [l.name, l])), body };
}

export const health = (opts) => request("/api/health", opts);
export const model = (opts) => request("/api/model", opts);
export const models = (opts) => request("/api/models", opts);   // [{id, label, ..., default}]
export const weights = (opts) => request("/api/model/weights", opts);
export const join = (opts) => request("/api/join", opts);

// body: {image: dataURL} or {pixels, width, height}, optional preprocess.
// The page's forward goes over the binary wire (wire.js: the same float32 values, ~18 KB
// instead of ~35 KB gzipped JSON per stroke); ?wire=json in the page's URL asks for the JSON
// answer instead (to compare, or against a server without the binary answer). A server that
// answers JSON anyway is read as JSON.
const WIRE = new URLSearchParams(globalThis.location?.search ?? "").get("wire") === "json" ? "json" : "binary";
export async function forward(body, { signal } = {}) {
  if (WIRE === "json") return toTrace(await request("/api/forward", { body, signal }), body);
  const response = await send("/api/forward", { body, signal, accept: WIRE_TYPE });
  const binary = (response.headers.get("Content-Type") ?? "").startsWith(WIRE_TYPE);
  return toTrace(binary ? decodeForward(await response.arrayBuffer()) : await response.json(), body);
}

// Where one unit's value comes from; `source.values` typed like a record's.
export async function explain(body, layer, unit, { signal } = {}) {
  const e = await request("/api/explain", { body: { ...body, layer, unit }, signal });
  return { ...e, source: { ...e.source, values: typed(e.source.values) } };
}

// A test-set digit as a forward body ({pixels, width, height}).
// opts.model: a served model's id instead of the page's (the teacher's page: the class's model).
export const sample = (digit, index = 0, opts = {}) =>
  request(`/api/samples?digit=${digit}&index=${index}${opts.model ? `&model=${encodeURIComponent(opts.model)}` : ""}`, opts);

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

// Learn (issue 6): one digit's loss, gradients and `steps` SGD steps on a copy of the model
// (POST /api/gradient), and the recorded training run (GET /api/history, POST
// /api/history/forward for the drawing at every snapshot). Value arrays typed once here.
const typeAll = (obj, keys) => { for (const k of keys) if (obj && obj[k]) obj[k] = typed(obj[k]); return obj; };
// `weight: {layer, index?}` also writes one conv weight's gradient out (weight_terms, lessons).
export async function gradient(body, { target, learning_rate, steps = 1, dense_weights = "outer", weight }, { signal } = {}) {
  const r = await request("/api/gradient", { body: { ...body, target, learning_rate, steps, dense_weights, ...(weight ? { weight } : {}) }, signal });
  for (const f of [r.before, r.after]) typeAll(f, ["probabilities"]);
  r.stage_gradients = r.stage_gradients.map((s) => ({ ...s, values: typed(s.values) }));
  for (const p of Object.values(r.parameter_gradients)) {
    typeAll(p, ["weight", "bias"]);
    if (p.outer) typeAll(p.outer, ["rows", "cols"]);
  }
  for (const k of Object.values(r.kernels)) typeAll(k, ["before", "after"]);
  return r;
}
export async function history(opts) {
  const h = await request("/api/history", opts);
  h.kernels.values = typed(h.kernels.values);
  for (const s of h.seeds) typeAll(s, ["init", "final"]);
  return h;
}
export async function historyForward(body, { snapshots, stages } = {}, { signal } = {}) {
  const r = await request("/api/history/forward", { body: { ...body, snapshots, stages }, signal });
  for (const s of r.snapshots) {
    s.probabilities = typed(s.probabilities);
    s.layers = s.layers.map((l) => ({ ...l, values: typed(l.values) }));
  }
  return r;
}

// Lessons (issue 15): their texts are static data files, one per lesson, listed by index.json.
export const lessonIndex = (opts) => request("/static/lessons/index.json", opts);
export const lesson = (file, opts) => request(`/static/lessons/${encodeURIComponent(file)}`, opts);
