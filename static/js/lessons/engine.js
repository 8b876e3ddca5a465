// The lesson engine: what a step of a lesson (static/lessons/*.json) asks for, and its text with
// the live numbers filled in. Pure: no DOM, no fetch, no store (lessons/runner.js does those).
//
// A lesson file is {id, number, title, question, model, steps: [step, ...]} with 3–8 steps;
// `model` is the id of the model the lesson was written for (its texts' counts, "16 filters on 6
// maps", are that net's), and what "default" means in its steps. A step is
//   {title, view, data, text, task, labels?}
//   view   what the step sets: {tab, model ("default" = the lesson's model, or an id), fold, drawing ({sample: [c, i]}
//          or "yours"), pin (a unit spec, or null), lab ({kernel, stride, ...})}
//   data   named numbers to fetch: {name: {explain: {layer, unit: spec}} |
//          {gradient: {target: "learn" | "runner-up" | k, rate: "learn" | number, weight: {layer}}} |
//          {lab: {}}}   (lab: the Lab tab's own /api/convolve answer)
//   text   one or two sentences with {path|format} placeholders (FORMATS below); a path starts
//          with a data name, or stage.<name> (the model's record), trace (prediction,
//          probabilities), pinned (layer, unit, name), learn (the Learn tab's target, rate, steps)
//   task   what the student does before Next: {do, prompt, ...} (taskDone below)
// A unit spec: [c, y, x] | "pinned" | {pick: "max" | "min", map?} (on the trace shown) |
// {at: <data name>, map} (that unit's position in another map) | {class: "prediction"}.
//
// Numbers are never typed into a lesson: every number the student reads comes from a path.

import { convTerms, fixed, MINUS } from "../numbers.js";
import { offset, unravel } from "../tensor.js";
import { focusUnit, sameUnit } from "../state.js";

export const MIN_STEPS = 3, MAX_STEPS = 8;
export const TASKS = ["hover", "pin", "draw", "sample", "tab", "model", "lab", "learn-target", "learn-step", "learn-rate", "expand"];

// --- checking a lesson file --------------------------------------------------------------------
const DIGIT_LIKE = /(?<![{|\w.])\d*\.\d+|(?<![{|\w.[])\b\d{2,}\b/;   // numbers written by hand

export function checkLesson(lesson) {
  const errors = [];
  if (!lesson || typeof lesson !== "object") return ["not an object"];
  for (const k of ["id", "title", "question", "model"]) if (typeof lesson[k] !== "string" || !lesson[k]) errors.push(`${k} missing`);
  const steps = lesson.steps;
  if (!Array.isArray(steps) || steps.length < MIN_STEPS || steps.length > MAX_STEPS) {
    errors.push(`steps: ${MIN_STEPS}–${MAX_STEPS} expected, got ${Array.isArray(steps) ? steps.length : "none"}`);
    return errors;
  }
  steps.forEach((s, i) => {
    const at = `step ${i + 1}`;
    if (typeof s.text !== "string" || !s.text) errors.push(`${at}: text missing`);
    if (!s.task || !TASKS.includes(s.task.do)) errors.push(`${at}: task.do must be one of ${TASKS.join(", ")}`);
    if (s.task && typeof s.task.prompt !== "string") errors.push(`${at}: task.prompt missing`);
    const outside = (s.text ?? "").replace(/\{[^}]*\}/g, "");
    if (DIGIT_LIKE.test(outside)) errors.push(`${at}: a number typed into the text (${outside.match(DIGIT_LIKE)[0]}): use a placeholder`);
    for (const [, path] of (s.text ?? "").matchAll(/\{([^}|]+)(?:\|[^}]*)?\}/g)) {
      const root = path.split(/[.[]/)[0];
      if (!["stage", "trace", "pinned", "learn", ...Object.keys(s.data ?? {})].includes(root)) errors.push(`${at}: {${path}} names no data`);
    }
  });
  return errors;
}

// --- the models a lesson needs --------------------------------------------------------------------
// The lesson's own model and every model a step switches to by id, in order of first use. A server
// started with only other models (`convscope serve --model mine.npz`) cannot run the lesson: the
// picker says which are missing instead of running texts written for another net.
export function lessonModels(lesson) {
  const ids = lesson?.model ? [lesson.model] : [];
  for (const s of lesson?.steps ?? []) {
    for (const id of [s.view?.model, s.task?.do === "model" ? s.task.value : null]) {
      if (id && id !== "default" && !ids.includes(id)) ids.push(id);
    }
  }
  return ids;
}

// The ids of `needed` that the server does not serve ([] while the model list is not known yet).
export function missingModels(needed, served) {
  if (!Array.isArray(served)) return [];
  const have = new Set(served.map((m) => m.id));
  return (needed ?? []).filter((id) => !have.has(id));
}

// How a teacher serves the shipped models beside their own (app/cli.py: a folder is every model in it).
export const KEEP_SHIPPED = "convscope serve --model models --model YOURS.npz";

// Why a lesson cannot run here, for a link that opens it (and the picker's aria-label).
export function missingModelsText(missing) {
  return `needs ${missing.join(" and ")}, which this server does not serve (start it with \`${KEEP_SHIPPED}\` to keep the shipped models beside your own)`;
}

// --- paths and units ---------------------------------------------------------------------------
export function parsePath(path) {
  return String(path).split(".").flatMap((p) => p.split(/\[|\]/).filter(Boolean)).map((t) => (/^\d+$/.test(t) ? Number(t) : t));
}
export function lookup(obj, path) {
  let v = obj;
  for (const t of parsePath(path)) {
    if (v == null) return undefined;
    v = t === "length" ? v.length : v[t];
  }
  return v;
}

function argExtreme(layer, pick, map) {
  const { values, shape } = layer;
  const per = shape.length === 3 ? shape[1] * shape[2] : values.length;
  const from = map == null || shape.length !== 3 ? 0 : map * per;
  const to = map == null || shape.length !== 3 ? values.length : from + per;
  let best = from;
  for (let i = from + 1; i < to; i++) if (pick === "min" ? values[i] < values[best] : values[i] > values[best]) best = i;
  return unravel(shape, best);
}

// A unit spec -> {layer, unit} on the trace shown (null when it cannot be resolved yet).
export function resolveUnit(layerName, spec, { trace, pinned, resolved = {} }) {
  if (spec === "pinned") return pinned && (!layerName || pinned.layer === layerName) ? { layer: pinned.layer, unit: [...pinned.unit] } : null;
  const layer = trace?.byName.get(layerName);
  if (!layer) return null;
  if (Array.isArray(spec)) return spec.length === layer.shape.length && spec.every((u, i) => u >= 0 && u < layer.shape[i]) ? { layer: layerName, unit: [...spec] } : null;
  if (spec?.pick) return { layer: layerName, unit: argExtreme(layer, spec.pick, spec.map) };
  if (spec?.at) {
    const other = resolved[spec.at];
    if (!other) return null;
    const unit = [...other.unit];
    if (spec.map != null) unit[0] = spec.map;
    return unit.every((u, i) => u < layer.shape[i]) ? { layer: layerName, unit } : null;
  }
  if (spec?.class === "prediction") return { layer: layerName, unit: [trace.prediction] };
  return null;
}

// The runner-up class: the target that makes a gradient worth looking at.
export function runnerUp(probabilities) {
  let first = 0, second = -1;
  for (let i = 1; i < probabilities.length; i++) if (probabilities[i] > probabilities[first]) first = i;
  for (let i = 0; i < probabilities.length; i++) if (i !== first && (second < 0 || probabilities[i] > probabilities[second])) second = i;
  return second;
}

// The requests a step's data needs in this state: [{name, kind, args}], or {waiting: reason}.
export function dataRequests(step, state) {
  const out = [];
  const resolved = {};
  for (const [name, spec] of Object.entries(step.data ?? {})) {
    if (spec.explain) {
      const u = resolveUnit(spec.explain.layer, spec.explain.unit, { trace: state.trace, pinned: state.pinned, resolved });
      if (!u) return { waiting: `${name}: no ${spec.explain.layer} unit yet` };
      resolved[name] = u;
      out.push({ name, kind: "explain", args: u });
    } else if (spec.gradient) {
      const g = spec.gradient;
      const target = g.target === "learn" ? state.learn?.target : g.target === "runner-up" ? (state.trace ? runnerUp(state.trace.probabilities) : null) : g.target;
      const rate = g.rate === "learn" ? state.learn?.rate : g.rate;
      if (target == null || rate == null) return { waiting: `${name}: no target or learning rate yet` };
      out.push({ name, kind: "gradient", args: { target, learning_rate: rate, steps: 1, ...(g.weight ? { weight: g.weight } : {}) } });
    } else if (spec.lab) {
      if (!state.labResult) return { waiting: `${name}: the Lab has no answer yet` };
      out.push({ name, kind: "lab", args: {} });
    }
  }
  return { requests: out };
}

// --- the numbers' context -----------------------------------------------------------------------
// Conv explain answers gain `terms`: the per-map subtotals the panel shows (numbers.js regroups
// the engine's own window × weight terms), so a lesson can say "{c.terms.subtotals|list}".
function withTerms(e) {
  if (e?.kind !== "conv") return e;
  const t = convTerms(e);
  return { ...e, terms: { count: t.channels.length, maps: t.channels.map((c) => c.c), subtotals: t.channels.map((c) => c.subtotal) } };
}

export function lessonContext(state, answers = {}) {
  const ctx = {
    stage: Object.fromEntries((state.model?.layers ?? []).map((l) => [l.name, l])),
    trace: state.trace ? { prediction: state.trace.prediction, probabilities: Array.from(state.trace.probabilities) } : undefined,
    pinned: state.pinned ? { layer: state.pinned.layer, unit: state.pinned.unit, name: `${state.pinned.layer}[${state.pinned.unit.join(", ")}]`, value: valueAt(state.trace, state.pinned) } : undefined,
    learn: state.learn,
    classes: state.model?.classes,
  };
  for (const [name, a] of Object.entries(answers)) ctx[name] = withTerms(a);
  return ctx;
}

function valueAt(trace, f) {
  const l = trace?.byName.get(f.layer);
  return l ? l.values[offset(l.shape, f.unit)] : undefined;
}

// --- filling the text -----------------------------------------------------------------------------
const sig = (v, n = 4) => {
  if (v === 0) return "0";
  const a = Math.abs(v);
  const s = a >= 1e-3 && a < 1e5 ? a.toPrecision(n) : a.toExponential(n - 1);   // 1.234×10⁻⁵, not 0.00001234
  const t = /e/.test(s) ? s.replace(/e([+-])(\d+)/, (m, sign, e) => `×10${sign === "-" ? "⁻" : ""}${[...e].map((d) => "⁰¹²³⁴⁵⁶⁷⁸⁹"[d]).join("")}`) : s;
  return v < 0 ? MINUS + t : t;
};

// format -> (value, ctx) -> shown text, for one number
const NUMBER = {
  int: (v) => String(Math.round(v)),
  g: (v) => sig(v, 4),
  pct: (v) => `${(v * 100).toFixed(1)}%`,
  class: (v, ctx) => String(ctx.classes?.[v] ?? v),
};
const numberFormat = (fmt) => {
  if (fmt == null || fmt === "") return (v) => fixed(v, 3);
  if (/^\d$/.test(fmt)) return (v) => fixed(v, Number(fmt));
  return NUMBER[fmt] ?? null;
};

// text -> {parts: [{text} | {text, path, value}], missing: [paths]}. Every shown number is a part
// that carries its path and exact value, so the page (and its tests) can check it against the
// API answer it came from.
export function fillText(text, ctx) {
  const parts = [], missing = [];
  let last = 0;
  for (const m of text.matchAll(/\{([^}|]+)(?:\|([^}]*))?\}/g)) {
    if (m.index > last) parts.push({ text: text.slice(last, m.index) });
    last = m.index + m[0].length;
    const [path, fmt = ""] = [m[1].trim(), (m[2] ?? "").trim()];
    const v = lookup(ctx, path);
    if (v === undefined || v === null) { missing.push(path); parts.push({ text: "…", path, pending: true }); continue; }
    const list = /^(list|shape|unit)(\d?)$/.exec(fmt);
    if (fmt === "count") {
      parts.push({ text: String(v.length), path: `${path}.length`, value: v.length });
    } else if (list) {
      const items = Array.from(v);
      const each = list[1] === "list" ? numberFormat(list[2] || "3") : (x) => String(x);
      const sep = list[1] === "shape" ? "×" : ", ";
      items.forEach((x, i) => {
        if (i) parts.push({ text: sep });
        parts.push(typeof x === "number" ? { text: each(x, ctx), path: `${path}[${i}]`, value: x } : { text: String(x) });
      });
    } else if (typeof v === "number") {
      const f = numberFormat(fmt);
      parts.push(f ? { text: f(v, ctx), path, value: v, ...(fmt === "class" ? { label: true } : {}) } : { text: String(v), path, value: v });
    } else {
      parts.push({ text: String(v) });
    }
  }
  if (last < text.length) parts.push({ text: text.slice(last) });
  return { parts, missing };
}

// --- tasks -----------------------------------------------------------------------------------------
// What the page looked like when the step began, for "did the student do it since".
export function snapshot(s) {
  return { drawing: s.drawing, focus: focusUnit(s), pinned: s.pinned, tab: s.tab, modelId: s.modelId, lab: s.lab, learn: s.learn };
}

const layers = (t) => (Array.isArray(t.layer) ? t.layer : t.layer ? [t.layer] : null);

// dom: {expanded(selector) -> bool} for tasks on the page's own controls.
// "hover" is met when the unit in focus (the pinned one, else the hovered one) moves to another
// unit of the named stages: a click, a tap, the arrow keys, or a hover when nothing is pinned.
export function taskDone(task, start, s, { dom = null, defaultModel = null } = {}) {
  const f = focusUnit(s);
  switch (task.do) {
    case "hover": {
      if (!f || (layers(task) && !layers(task).includes(f.layer)) || sameUnit(f, start.focus)) return false;
      if (task.where === "zero") return valueAt(s.trace, f) === 0;
      if (task.where === "other-map") return f.unit[0] !== (start.focus?.unit?.[0] ?? -1);
      return true;
    }
    case "pin":
      return !!s.pinned && (!layers(task) || layers(task).includes(s.pinned.layer)) && !sameUnit(s.pinned, start.pinned)
        && (task.where !== "other-map" || s.pinned.unit[0] !== start.pinned?.unit?.[0]);
    case "draw":
      return !!s.drawing?.image && s.drawing !== start.drawing && s.trace?.body === s.drawing;
    case "sample":
      return !!s.drawing?.pixels && s.drawing !== start.drawing && s.trace?.body === s.drawing;
    case "tab":
      return s.tab === task.value;
    case "model":
      return s.modelId === (task.value === "default" ? defaultModel : task.value) && s.model?.modelId === s.modelId;
    case "lab": {
      const now = s.lab?.[task.key], was = start.lab?.[task.key];
      return now !== undefined && now !== was && (task.prefix == null || String(now).startsWith(task.prefix));
    }
    case "learn-target":
      return s.learn?.target != null && s.learn.target !== start.learn?.target && (task.not !== "prediction" || s.learn.target !== s.trace?.prediction);
    case "learn-step":
      return (s.learn?.steps ?? 0) > (start.learn?.steps ?? 0);
    case "learn-rate":
      return s.learn?.rate != null && s.learn.rate !== start.learn?.rate;
    case "expand":
      return !!dom?.expanded(task.target);
    default:
      return false;
  }
}

// --- progress (kept in localStorage by the view) -----------------------------------------------------
export const PROGRESS_KEY = "convscope.lessons.v1";

export function readProgress(text) {
  try {
    const p = JSON.parse(text ?? "{}");
    return p && typeof p === "object" && !Array.isArray(p) ? p : {};
  } catch {
    return {};
  }
}

// The student did step `step` (0-based) of lesson `id` with `total` steps.
export function recordStep(progress, id, step, total) {
  const was = progress[id] ?? { done: [] };
  const done = [...new Set([...(Array.isArray(was.done) ? was.done : []), step])].filter((i) => Number.isInteger(i) && i >= 0 && i < total).sort((a, b) => a - b);
  return { ...progress, [id]: { done, last: step, finished: done.length === total } };
}

export const lessonStatus = (progress, id, total) => {
  const p = progress[id];
  if (!p?.done?.length) return "new";
  return p.finished || p.done.length >= total ? "done" : `${p.done.length} of ${total} steps`;
};

// A step's view holds what it changes from the step before (step 2 of a Lab lesson sets no tab:
// step 1 did). The view a step opened directly needs: every view up to it, later keys winning,
// the Lab's settings merged key by key. inheritedView(lesson, i) -> view (i: 0-based).
export function inheritedView(lesson, i) {
  const v = {};
  for (const step of lesson.steps.slice(0, i + 1)) {
    const own = step.view ?? {};
    const lab = own.lab && v.lab ? { ...v.lab, ...own.lab } : own.lab ?? v.lab;
    Object.assign(v, own);
    if (lab !== undefined) v.lab = lab;
  }
  return v;
}
