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
  if (el.dataset.state === "prediction" && el.dataset.shown === `${p}|${name}`) {
    const pctEl = el.querySelector(".p-pct");
    if (pctEl.textContent !== ` ${pct}`) pctEl.textContent = ` ${pct}`;
    return `Prediction ${name}, ${pct}`;
  }
  el.dataset.shown = `${p}|${name}`;
  const strong = document.createElement("strong");
  strong.dataset.prediction = String(p);
  strong.textContent = name;
  const label = Object.assign(document.createElement("span"), { className: "p-label", textContent: "Prediction " });
  const pctEl = Object.assign(document.createElement("span"), { className: "p-pct", textContent: ` ${pct}` });
  el.replaceChildren(label, strong, pctEl);
  el.dataset.state = "prediction";
  return `Prediction ${name}, ${pct}`;
}
