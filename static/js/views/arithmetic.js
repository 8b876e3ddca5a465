// "Why 400 → 120?" under the network view: every stage's size arithmetic, from the model's own
// layer record (sizes.js), so a student can follow 32 → 28 → 14 → 10 → 5 and see that 400 is
// forced by the maps while 120 and 100 were chosen.
//
// mountArithmetic(anchor, store): a strip inserted right after `anchor`, redrawn on model change.

import { stageArithmetic } from "../sizes.js";

const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c]));

export function renderArithmetic(el, model) {
  const stages = model?.layers;
  if (!stages?.length) { el.hidden = true; return; }
  const a = stageArithmetic(stages);
  const chips = a.rows
    .filter((r) => r.kind !== "activation" && r.kind !== "softmax")
    .map((r) => {
      const cls = r.kind === "flatten" ? "chip flatten" : r.note ? "chip dense" : "chip";
      const star = r.note && r.kind === "dense" && !r.note.startsWith("not") ? "<sup>*</sup>" : "";
      const warn = r.agrees ? "" : ' <span class="warn" title="the recorded shape differs from the formula">≠</span>';
      return `<li class="${cls}" data-stage="${esc(r.name)}" title="${esc(r.note ?? "")}"><b>${esc(r.name)}</b> ${esc(r.text)}${star}${warn}</li>`;
    }).join('<li class="arrow" aria-hidden="true">→</li>');
  const chosen = a.rows.filter((r) => r.kind === "dense" && r.note && !r.note.startsWith("not")).map((r) => r.to[0]);
  // The title asks about the first dense layer: "Why 400 → 120?" (120 chosen), or for a model
  // whose one dense layer is its output, "Why 1690 → 10?" (10 forced: one unit per class).
  const title = `Why ${a.inputs ?? ""} → ${a.firstUnits ?? ""}?`;
  const note = chosen.length
    ? `<sup>*</sup> ${chosen.map(esc).join(" and ")} ${chosen.length > 1 ? "are design choices" : "is a design choice"}: the maps fix the ${esc(a.inputs ?? "")} inputs through (W − F + 2P) / S + 1 at every stage, but how many units follow is picked by the designer (LeCun's LeNet-5 used 120 and 84; other widths train too). The last layer has one unit per class.`
    : `No width here was left to choose: the maps fix the ${esc(a.inputs ?? "")} inputs through (W − F + 2P) / S + 1 at every stage, and the only dense layer has one unit per class (${esc(a.firstUnits ?? "")}).`;
  el.hidden = false;
  el.setAttribute("aria-label", `${title.replace("?", "")}: the size of every stage`);
  el.innerHTML = `
    <h3>${esc(title)} <span class="chain">${esc(a.chainText)}</span></h3>
    <ol class="chips">${chips}</ol>
    <p class="note">${note}</p>`;
}

export function mountArithmetic(anchor, store) {
  if (!document.querySelector('link[href$="/static/css/sizes.css"]')) {
    document.head.insertAdjacentHTML("beforeend", '<link rel="stylesheet" href="/static/css/sizes.css">');
  }
  const el = document.createElement("section");
  el.id = "sizes";
  el.className = "sizes";
  anchor.after(el);
  renderArithmetic(el, store.get().model);
  store.subscribe((s) => renderArithmetic(el, s.model), ["model"]);
  return el;
}
