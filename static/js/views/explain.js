// The numbers panel: how one unit's value was made, from an /api/explain answer.
//
// renderExplain(el, explanation, state, options) fills `el` (any block element) with the
// kind-specific account: conv (every input channel's window × kernel, products, subtotals,
// + bias), pool (the window, winner marked), activation (max(0, x)), dense (strongest terms,
// "+ N smaller terms", + bias) and softmax (the formula with its numbers).
// state: the shared store's state (reads trace for stage shapes and folded activation values).
// options.activation: {name, function, value} to add the folded ReLU line; options.pinned.
// Reusable by any view (the 3D view uses it too); it never fetches.

import { fixed, rounding, convTerms, denseTerms, softmaxTerms, argmaxAbs } from "../numbers.js";
import { diverging, lut, lutIndex } from "../color.js";
import { unravel } from "../tensor.js";
import { colourNames, mapName, pixelWords } from "../channels.js";
import { softmaxOf } from "./prediction.js";

const D = 3;   // decimals shown for every term

function h(tag, attrs = {}, ...children) {
  const n = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") n.className = v;
    else if (k === "text") n.textContent = v;
    else if (k.startsWith("on")) n.addEventListener(k.slice(2), v);
    else n.setAttribute(k, v);
  }
  for (const c of children.flat()) if (c != null) n.append(c.nodeType ? c : document.createTextNode(String(c)));
  return n;
}

const appendSome = (el, ...nodes) => el.append(...nodes.filter(Boolean));
const num = (v, cls = "", d = D) => h("span", { class: `n ${cls}`.trim(), "data-value": String(v) }, fixed(v, d));
const unitName = (layer, unit) => `${layer}[${unit.join(", ")}]`;

// A small numeric grid (rows × cols) with optional marked cells.
function grid(values, [rows, cols], { mark = -1, label = "" } = {}) {
  const t = h("table", { class: "grid", "aria-label": label });
  for (let y = 0; y < rows; y++) {
    const tr = h("tr");
    for (let x = 0; x < cols; x++) {
      const i = y * cols + x;
      tr.append(h("td", { class: i === mark ? "win" : "", "data-value": String(values[i]) }, fixed(values[i], D)));
    }
    t.append(tr);
  }
  return t;
}

// A tiny heatmap canvas of a rows×cols block on a given scale.
function heat(values, [rows, cols], scale) {
  const c = h("canvas", { width: cols, height: rows, "aria-hidden": "true" });
  const img = new ImageData(cols, rows);
  const table = lut(scale);
  values.forEach((v, i) => img.data.set(table.subarray(lutIndex(scale, v) * 4, lutIndex(scale, v) * 4 + 4), i * 4));
  c.getContext("2d").putImageData(img, 0, 0);
  return c;
}

// The unit and its value. Folded, the node shows the activation's value, so the header shows
// both and ends on what the node shows: "fc1[3] (dense) + relu3 = relu(2.310) = 2.310".
function header(e, options) {
  const a = options.activation;
  const value = a
    ? [` (${e.kind}) + ${a.name} = ${fnName(a)}`, num(e.value, "value"), ") = ", num(a.value, "big activated")]
    : [` (${e.kind}) = `, num(e.value, "big value")];
  return h("p", { class: "eq" }, h("strong", {}, unitName(e.layer, e.unit)), ...value,
    // A phone has no Esc key: say what the finger does.
    options.pinned ? h("span", { class: "pinned" }, options.compact ? "  · pinned (tap it again to release)" : "  · pinned (Esc to release)") : null);
}

// The activation by name, for the header: "relu(", LeCun's "1.7159·tanh(0.6667·" in full.
const fnName = (a) => (a.function === "relu" ? "relu(" : fnOpen(a));

function roundingNote(terms, total) {
  const r = rounding(terms, total, D);
  return r ? h("p", { class: "note" }, `Every number is rounded to ${10 ** -D}; added as shown they make ${fixed(r.shown, D)}, the exact total is ${fixed(r.exact, 6)}.`) : null;
}

// "f(" and ")" around the input, with LeCun's scale and slope when the stage has them:
// 1.7159·tanh(0.6667·x) for the Harley model, plain tanh(x) otherwise.
function fnOpen(a) {
  if (a.function === "relu") return "max(0, ";
  // LeakyReLU (imported models): x above 0, α·x below; written with its own α.
  if (a.function === "leaky_relu") return `leaky_relu[α = ${+(a.alpha ?? 0.01).toFixed(4)}](`;
  const k = (v) => String(+v.toFixed(4));
  return `${a.scale != null && a.scale !== 1 ? `${k(a.scale)}·` : ""}${a.function}(${a.slope != null && a.slope !== 1 ? `${k(a.slope)}·` : ""}`;
}

function activationLine(a, value) {
  if (!a) return null;
  return h("p", { class: "eq" }, `then ${a.name}: ${fnOpen(a)}`, num(value), ") = ", num(a.value, "big"));
}

// The source's map c by name: the input's colour channels of a photo ("red channel (map 0)",
// channels.js), "map c" of any other stage.
function mapNamer(e, state) {
  const src = state?.trace?.byName?.get(e.source.layer) ?? state?.model?.layers?.find((l) => l.name === e.source.layer);
  return src?.kind === "input" ? (c) => mapName(state?.model, c) : (c) => `map ${c}`;
}

function renderConv(el, e, options, rerender, name = (c) => `map ${c}`, colours = null, stage = null) {
  const t = convTerms(e);
  const C = t.channels.length;
  const [kh, kw] = t.channels[0].shape;
  const key = `${e.layer}:${e.unit.join(",")}`;
  if (el.dataset.key !== key) el.dataset.channel = String(t.channels[argmaxAbs(t.channels.map((c) => c.subtotal))].c);
  el.dataset.key = key;
  const open = t.channels.find((c) => String(c.c) === el.dataset.channel) ?? t.channels[0];
  const srcScale = diverging(Math.max(1e-6, ...t.channels.flatMap((c) => c.window.map(Math.abs))));
  const wScale = diverging(Math.max(1e-6, ...t.channels.flatMap((c) => c.weight.map(Math.abs))));
  const pScale = diverging(Math.max(1e-6, ...t.channels.flatMap((c) => c.products.map(Math.abs))));
  const reads = C < t.of
    ? `only ${C} of the ${t.of} maps of ${e.source.layer} (${t.channels.map((c) => c.c).join(", ")}: its column of LeCun's connection table; the others have no weights here)`
    : colours && C === colours.length ? `all ${C} colour channels of ${e.source.layer} (${colours.join(", ")})`
    : C > 1 ? `all ${C} maps of ${e.source.layer}` : `the one map of ${e.source.layer}`;
  el.append(h("p", { class: "note" },
    `One filter reads ${reads}: each ${kh}×${kw} window is multiplied element-wise by this filter's kernel for that ${colours ? "channel" : "map"}, and every product is added, plus one bias.`));
  // At the border the kernel hangs over the padding: those products are 0 × w, so the window
  // and kernel shown are the part over the map (the engine's clipped window). Say so, or a
  // 3×3 filter shown as 2×3 reads as a mistake.
  const k = stage?.kernel;
  if (k && (kh < k || kw < k)) {
    el.append(h("p", { class: "note clipped" }, `The ${k}×${k} kernel hangs over the padding here (${e.layer} pads its input by ${stage.padding ?? 0}${stage.stride > 1 ? `, stride ${stage.stride}` : ""}): those products are 0, so only its ${kh}×${kw} part over the map is shown.`));
  }
  const chans = h("div", { class: "channels", role: "group", "aria-label": "Input channels" });
  for (const c of t.channels) {
    chans.append(h("button", {
      class: "channel", "aria-pressed": String(c === open), "data-channel": String(c.c),
      "aria-label": `${name(c.c)}: subtotal ${fixed(c.subtotal, D)}`,
      onclick: () => { el.dataset.channel = String(c.c); rerender(); el.querySelector(`[data-channel="${c.c}"]`)?.focus(); },
    }, h("span", { class: "minis" }, heat(c.window, c.shape, srcScale), heat(c.weight, c.shape, wScale), heat(c.products, c.shape, pScale)),
    h("span", {}, `${name(c.c)}: `, num(c.subtotal))));
  }
  el.append(chans);
  el.append(h("div", { class: "row" },
    h("div", { class: "block" }, h("span", {}, `${e.source.layer} ${name(open.c)}, window`), grid(open.window, [kh, kw], { label: "window values" })),
    h("div", { class: "block" }, h("span", {}, "× kernel"), grid(open.weight, [kh, kw], { label: "kernel weights" })),
    h("div", { class: "block" }, h("span", {}, "= products"), grid(open.products, [kh, kw], { label: "products" })),
    h("div", { class: "block" }, h("span", {}, `sum of the ${kh * kw} products`), num(open.subtotal, "big")),
  ));
  const terms = t.channels.map((c) => c.subtotal);
  const eq = h("p", { class: "eq" }, C > 1 ? `Σ over ${C} ${colours ? "channels" : "maps"}: ` : "");
  terms.forEach((v, i) => eq.append(i ? " + " : "", num(v)));
  eq.append("  + bias ", num(t.bias), " = ", num(e.sum, "big sum"));
  el.append(eq);
  appendSome(el, roundingNote([...terms, t.bias], e.sum), activationLine(options.activation, e.value));
}

function renderPool(el, e, options, name = (c) => `map ${c}`) {
  const shape = e.source.shape.slice(-2);
  const [c0, y0, x0] = e.source.window.map((r) => r[0]);
  const mark = e.argmax ? (e.argmax[1] - y0) * shape[1] + (e.argmax[2] - x0) : -1;
  const values = Array.from(e.source.values);
  el.append(h("p", { class: "note" }, `${e.op} pooling over a ${shape.join("×")} window of ${e.source.layer} ${name(c0)}${e.argmax ? "; the winner is outlined" : ""}.`));
  el.append(h("div", { class: "row" }, grid(values, shape, { mark, label: "pool window" }),
    h("p", { class: "eq" }, `${e.op}(`, ...values.flatMap((v, i) => [i ? ", " : "", num(v)]), ") = ", num(e.value, "big pooled"))));
}

function renderActivation(el, e) {
  el.append(h("p", { class: "eq" }, `${e.layer} = ${fnOpen(e)}x) with x = ${e.source.layer}: `,
    [fnOpen(e), num(e.input), ") = "], num(e.value, "big")));
  if (e.function === "leaky_relu") el.append(h("p", { class: "note" }, `x > 0 passes unchanged; otherwise it is multiplied by α = ${e.alpha}.`));
}

// A table of terms: `fields` are [heading, cell(item), class(item)?]. Across (the desktop): one
// column per item, so the table stays a few rows high however many terms are shown. Down (a
// phone or tablet's narrow panel, state.compact): one row per item, so it fits the width.
function termsTable(fields, items, { across = true } = {}) {
  const td = ([, cell, cls], item, tag = "td") => h(tag, cls ? { class: cls(item) } : {}, cell(item));
  if (across) {
    return h("table", { class: "terms" },
      fields.map((f, k) => h("tr", {}, h(k ? "td" : "th", {}, f[0]), items.map((item) => td(f, item, k ? "td" : "th")))));
  }
  return h("table", { class: "terms down" },
    h("tr", {}, fields.map((f) => h("th", {}, f[0]))),
    items.map((item) => h("tr", {}, fields.map((f, k) => td(f, item, k ? "td" : "th")))));
}

function renderDense(el, e, state, options) {
  const t = denseTerms(e);
  const srcIndex = state.trace?.layers.findIndex((l) => l.name === e.source.layer) ?? -1;
  const src = srcIndex >= 0 ? state.trace.layers[srcIndex] : null;
  const before = src?.kind === "flatten" && srcIndex > 0 ? state.trace.layers[srcIndex - 1] : null;
  const where = (i) => (before ? `${before.name}[${unravel(before.shape, i).join(",")}]` : `${e.source.layer}[${i}]`);
  el.append(h("p", { class: "note" }, `Every one of the ${e.source.values.length} inputs is multiplied by its weight and added, plus a bias. The ${t.top.length} strongest terms:`));
  const table = termsTable([["input", (x) => where(x.index)], ["value", (x) => num(x.input)], ["× weight", (x) => num(x.weight)], ["= term", (x) => num(x.product)]],
    t.top, { across: !state?.compact });
  el.append(table);
  const eq = h("p", { class: "eq" });
  t.top.forEach((x, i) => eq.append(i ? " + " : "", num(x.product)));
  eq.append(` + (${t.restCount} smaller terms together: `, num(t.rest), ") + bias ", num(t.bias), " = ", num(e.sum, "big sum"));
  el.append(eq);
  appendSome(el, roundingNote([...t.top.map((x) => x.product), t.rest, t.bias], e.sum), activationLine(options.activation, e.value));
  // A model that ends here without a softmax stage: its probabilities are the server's softmax
  // of these outputs (views/prediction.js softmaxOf names the same stage on the prediction line).
  if (softmaxOf(state?.model) === e.layer) {
    const i = e.unit[0], n = e.source && state.trace?.byName.get(e.layer)?.shape[0], p = state.trace?.probabilities?.[i];
    el.append(h("p", { class: "note" }, `${e.layer} is this model's last stage (it has no softmax of its own): the prediction's probabilities are softmax(${e.layer}): p(${state.model?.classes?.[i] ?? i}) = exp(z${i} − max z) / Σⱼ exp(zⱼ − max z) over its ${n} outputs${p == null ? "" : ` = ${(p * 100).toFixed(1)}%`}.`));
  }
}

function renderSoftmax(el, e, state) {
  const t = softmaxTerms(e);
  const classes = state.model?.classes;
  el.append(h("p", { class: "eq" }, `p(${classes?.[t.i] ?? t.i}) = exp(z${t.i} − max z) / Σⱼ exp(zⱼ − max z), max z = `, num(t.max)));
  const rows = t.logits.map((z, j) => ({ j, z, x: t.exps[j] }));
  el.append(termsTable([["class", (r) => String(classes?.[r.j] ?? r.j)], ["z (fc output)", (r) => num(r.z)], ["exp(z − max)", (r) => num(r.x, "", 4), (r) => (r.j === t.i ? "win" : "")]],
    rows, { across: !state?.compact }));
  el.append(h("p", { class: "eq" }, "= ", num(t.exps[t.i], "", 4), " / ", num(t.total, "", 4), " = ", num(e.value, "big"), ` (${(e.value * 100).toFixed(1)}%)`));
}

// Shown at once on hover, before the numbers arrive: the unit and its value from the trace
// (folded: both values, as the header will show them).
export function renderPending(el, focus, value, activation = null) {
  const shown = value == null ? ["…"] : activation
    ? [`${activation.name} = ${fnName(activation)}`, num(value, "value"), ") = ", num(activation.value, "big activated")]
    : [num(value, "big value")];
  el.replaceChildren(h("p", { class: "eq" }, h("strong", {}, unitName(focus.layer, focus.unit)), activation && value != null ? " + " : " = ",
    ...shown, h("span", { class: "note" }, "  computing where it comes from…")));
}

// The input stage has no source: say what a pixel is, in the model's own terms (its size, its
// colour channel, its normalisation: channels.js pixelWords).
export function renderInputUnit(el, focus, value, model = null, shape = null) {
  const s = shape ?? model?.input?.shape;
  const words = s ? pixelWords(model, s, focus.unit, value) : "A pixel of the input.";
  el.replaceChildren(h("p", { class: "eq" }, h("strong", {}, unitName(focus.layer, focus.unit)), " = ", num(value, "big value")),
    h("p", { class: "note" }, `${words} The outlined square on the pad is where it came from.`));
  el.dataset.layer = focus.layer;
}

export function renderExplain(el, e, state, options = {}) {
  el.replaceChildren(header(e, { ...options, compact: state?.compact }));
  el.dataset.layer = e.layer;
  el.dataset.unit = e.unit.join(",");
  el.dataset.kind = e.kind;
  const name = mapNamer(e, state);
  const colours = name(0) !== "map 0" ? colourNames(state?.model) : null;
  const stage = state?.model?.layers?.find((l) => l.name === e.layer) ?? null;
  if (e.kind === "conv") renderConv(el, e, options, () => renderExplain(el, e, state, options), name, colours, stage);
  else if (e.kind === "pool") renderPool(el, e, options, name);
  else if (e.kind === "activation") renderActivation(el, e);
  else if (e.kind === "dense") renderDense(el, e, state, options);
  else if (e.kind === "softmax") renderSoftmax(el, e, state);
  else el.append(h("p", { class: "note" }, `${e.kind}: the same value as ${e.source.layer} at this position.`));
  // What `convscope import` changed at this stage (a folded BatchNorm in these weights, a
  // LogSoftmax shown as p): said where its numbers are, or they read as the file's own.
  const told = state?.model?.imported?.stages?.[e.layer];
  if (told) el.append(h("p", { class: "note imported" }, told));
}

