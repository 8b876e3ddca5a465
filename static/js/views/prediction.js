// The prediction line under the network (and, on a phone, pinned in the header): the class and
// its probability, or "draw a digit" when the pad holds too little ink for the answer to be
// anything but the biases (honest.js), greyed while the server is not answering.
//
// renderPrediction(el, state) -> the text a screen reader should hear for it ("" for none).

import { traceIsBlank } from "../honest.js";
import { isPicture } from "./modelinput.js";

// What to ask for, from the model's input declaration (views/modelinput.js's words), else
// from its classes: "a digit", "a piece of clothing".
const ARTICLES = { digit: "a digit", clothing: "a piece of clothing", image: "an image", drawing: "a drawing" };
export function drawWhat(model) {
  const subject = model?.input?.subject;
  if (subject) return ARTICLES[subject] ?? `a ${subject}`;
  const classes = model?.classes ?? [];
  return classes.length && classes.every((c) => /^\d$/.test(c)) ? "a digit" : "a drawing";
}

// The probabilities of a model that ends without a softmax stage (bn_dropout ends on fc2) are
// the server's softmax of its last stage: the line says so, "softmax of fc2".
export function softmaxOf(model) {
  const last = model?.layers?.[model.layers.length - 1];
  return last && last.kind !== "softmax" ? last.name : null;
}

// On a phone the prediction is a pill in the header's corner. A long class name ("bell pepper",
// "school bus") is set smaller, step by step, until the pill clears what shares its row (the
// tabs), instead of sliding over them. Measured, not guessed: names and tabs differ by model.
// Last resort: the percentage under the name (the pill is tall enough for two short lines).
const PILL_SIZES = [["", false], ["1.4em", false], ["1.2em", false], ["1.2em", true], ["1.05em", true], ["0.9em", true]];
export function fitPill(el, header) {
  const strong = el.querySelector("strong");
  if (!strong) { el.classList.remove("stacked"); return; }
  if (!document.body.classList.contains("compact")) { strong.style.fontSize = ""; el.classList.remove("stacked"); return; }
  for (const [size, stacked] of PILL_SIZES) {
    strong.style.fontSize = size;
    el.classList.toggle("stacked", stacked);
    const p = el.getBoundingClientRect();
    const blocked = [...header.children].concat([...header.querySelectorAll(".tabs > *")]).some((n) => {
      if (n === el || n.contains(el)) return false;
      const r = n.getBoundingClientRect();
      return r.width > 0 && r.bottom > p.top && r.top < p.bottom && r.right > p.left - 4 && r.left < p.right;
    });
    if (!blocked) return;
  }
}

export function renderPrediction(el, state) {
  const t = state.trace;
  el.classList.toggle("stale", !!state.stale);
  if (!t) { el.replaceChildren(); delete el.dataset.state; return ""; }
  if (traceIsBlank(t)) {
    // a colour model is given a picture (chosen, pasted or photographed), not a drawing
    const ask = `${isPicture(state.model) ? "Pick" : "Draw"} ${drawWhat(state.model)}`;
    if (el.dataset.state === "blank" && el.dataset.shown === ask) return "";
    el.dataset.shown = ask;
    const prompt = document.createElement("span");
    prompt.className = "draw-prompt";
    prompt.textContent = ask;
    el.replaceChildren(prompt);
    el.dataset.state = "blank";
    return "";
  }
  const p = t.prediction;
  const name = String(state.model?.classes?.[p] ?? p);
  const pct = `${(t.probabilities[p] * 100).toFixed(1)}%`;
  // Every stroke update lands here: the same answer leaves the DOM alone, a new percentage
  // changes one text node.
  if (el.dataset.state === "prediction" && el.dataset.shown === `${p}|${name}|${softmaxOf(state.model)}`) {
    const pctEl = el.querySelector(".p-pct");
    if (pctEl.textContent !== ` ${pct}`) pctEl.textContent = ` ${pct}`;
    return `Prediction ${name}, ${pct}`;
  }
  el.dataset.shown = `${p}|${name}|${softmaxOf(state.model)}`;
  const strong = document.createElement("strong");
  strong.dataset.prediction = String(p);
  strong.textContent = name;
  const label = Object.assign(document.createElement("span"), { className: "p-label", textContent: "Prediction " });
  const pctEl = Object.assign(document.createElement("span"), { className: "p-pct", textContent: ` ${pct}` });
  const via = softmaxOf(state.model);
  el.replaceChildren(label, strong, pctEl);
  if (via) {
    el.append(Object.assign(document.createElement("span"), { className: "p-via", textContent: ` (softmax of ${via})` }));
    el.title = `This model has no softmax stage: the probabilities are softmax(${via}), computed by the server`;
  } else el.removeAttribute("title");
  el.dataset.state = "prediction";
  return `Prediction ${name}, ${pct}`;
}
