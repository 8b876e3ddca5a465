// A predict-then-reveal round on a student's screen: the digit, the unit's source window and
// weights (never its value), and the answer the round asks for: a number, which cell of a pool
// window wins, or which class the network picks. After the reveal: the student's answer
// against the engine's. Built with text nodes only.
//
// renderRound(host, round, {classes, onAnswer(given) -> Promise}) ; host is emptied first.

import { decodeDigit, formatFocus, verdict } from "./digit.js";
import { drawDigit, el, numberGrid } from "./paint.js";

const ASK = {
  conv: "Multiply each window value by its weight, add them up and the bias. What is the unit's value?",
  activation: "Apply the activation to the input. What comes out?",
  pool: "Which cell of the window wins (the largest)? Click it.",
  poolValue: "What does the pool give for this window?",
  dense: "Σ input × weight + bias: what is the unit's value?",
  softmax: "Which class will the network pick?",
  other: "What is the unit's value?",
};

function question(p) {
  if (p.kind === "pool") return p.answer === "cell" ? ASK.pool : ASK.poolValue;
  return ASK[p.kind] ?? ASK.other;
}

export function renderRound(host, round, { classes = [], onAnswer }) {
  const p = round.prompt;
  const revealed = round.state === "revealed";
  const mine = round.mine?.[p.answer] ?? null;
  const truth = revealed ? round.truth[p.answer] : null;
  const status = el("p", { class: "round-status", role: "status" });
  const send = (given) => {
    status.textContent = "Sending…";
    onAnswer(given).then(() => { status.textContent = "Answer sent: wait for the reveal (you can change it until then)."; },
      (err) => { status.textContent = err.detail ?? err.message; });
  };

  const digit = drawDigit(el("canvas", { class: "round-digit", "aria-label": "the digit" }), decodeDigit(p.image));
  const parts = [el("h2", { text: `Predict ${formatFocus(p)} (${p.kind}) on ${p.origin ?? "this digit"}` }), digit,
    el("p", { class: "round-ask", text: question(p) })];

  const windowLabel = `${p.source.layer} window ${p.source.window.map((r) => `${r[0]}–${r[1] - 1}`).join(", ")}`;
  if (p.answer === "cell") {
    parts.push(el("p", { class: "round-label", text: windowLabel }),
      numberGrid(p.source.values, p.source.shape, { label: windowLabel, picked: revealed ? truth : mine, onPick: revealed ? null : (i) => send({ cell: i }) }));
  } else if (p.answer === "class") {
    parts.push(el("p", { class: "round-label", text: "The logits (fc output) going into softmax:" }),
      numberGrid(p.logits, [p.logits.length], { label: "logits" }),
      el("div", { class: "round-classes", role: "group", "aria-label": "Which class" },
        ...(p.classes ?? classes).map((name, i) => el("button", { type: "button", text: name, "aria-pressed": String(mine === i), disabled: revealed, onclick: () => send({ class: i }) }))));
  } else {
    parts.push(el("p", { class: "round-label", text: windowLabel }), numberGrid(p.source.values, p.source.shape, { label: windowLabel }));
    if (p.weight) parts.push(el("p", { class: "round-label", text: "weights" }), numberGrid(p.weight, p.source.shape, { label: "weights" }));
    if (p.bias != null) parts.push(el("p", { class: "round-label", text: `bias ${p.bias.toFixed(4)}` }));
    if (p.input != null) parts.push(el("p", { class: "round-label", text: `input ${p.input.toFixed(4)} → ${p.function}` }));
    const input = el("input", { type: "number", step: "any", inputmode: "decimal", "aria-label": "your prediction", value: mine ?? "", disabled: revealed });
    parts.push(el("form", { class: "round-answer", onsubmit: (e) => { e.preventDefault(); const v = Number(input.value); if (input.value !== "" && Number.isFinite(v)) send({ value: v }); else status.textContent = "Type a number first."; } },
      input, el("button", { type: "submit", text: "Send answer", disabled: revealed })));
  }
  if (revealed) {
    parts.push(el("p", { class: "round-verdict", "data-verdict": "", text: verdict(p.answer, mine, truth, p.classes ?? classes) }));
  } else if (mine != null) {
    status.textContent = "Answer sent: wait for the reveal (you can change it until then).";
  }
  parts.push(status);
  host.replaceChildren(...parts);
}
