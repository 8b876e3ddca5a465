// The phone's stage bar: every stage of the network as a chip in one horizontally scrolling
// row (the current one filled), previous / next buttons, and a line naming the current stage
// with its shape and what a tap does there. Views never fetch; this one only calls back.
//
// renderStageBar(el, {columns, state, layout, onStage(key), onStep(±1), onUnzoom()})

import { mapName } from "../channels.js";

function button(text, attrs, onclick) {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = text;
  for (const [k, v] of Object.entries(attrs)) b.setAttribute(k, v);
  b.addEventListener("click", onclick);
  return b;
}

export function renderStageBar(el, { columns, state, layout, onStage, onStep, onUnzoom }) {
  if (!columns.length) { el.replaceChildren(); return; }
  const i = Math.max(0, columns.findIndex((c) => c.key === state.stage));
  const ci = state.stage == null ? Math.min(1, columns.length - 1) : i;
  const cur = columns[ci];
  let chips = el.querySelector(".stage-chips");
  const keys = columns.map((c) => c.key).join(",");
  if (!chips || chips.dataset.keys !== keys) {
    chips = document.createElement("div");
    chips.className = "stage-chips";
    chips.setAttribute("role", "tablist");
    chips.setAttribute("aria-label", "Stages of the network");
    chips.dataset.keys = keys;
    for (const c of columns) {
      chips.append(button(c.label, { role: "tab", "data-stage": c.key, "aria-selected": "false", title: `${c.label} ${c.sublabel} ${c.shape.join("×")}`.trim() }, () => onStage(c.key)));
    }
    const prev = button("‹", { class: "stage-step", "data-step": "-1", "aria-label": "Previous stage" }, () => onStep(-1));
    const next = button("›", { class: "stage-step", "data-step": "1", "aria-label": "Next stage" }, () => onStep(1));
    const info = document.createElement("p");
    info.className = "stage-info";
    el.replaceChildren(prev, chips, next, info);
  }
  for (const b of chips.children) {
    const on = b.dataset.stage === cur.key;
    b.setAttribute("aria-selected", String(on));
    // Centre the current chip in its row (scrollIntoView would scroll the page as well).
    if (on && b.dataset.shown !== "1") chips.scrollTo({ left: b.offsetLeft - chips.offsetLeft - (chips.clientWidth - b.offsetWidth) / 2 });
    b.dataset.shown = on ? "1" : "";
  }
  el.querySelector('[data-step="-1"]').disabled = ci === 0;
  el.querySelector('[data-step="1"]').disabled = ci === columns.length - 1;
  const info = el.querySelector(".stage-info");
  const what = `${cur.label}${cur.sublabel ? ` ${cur.sublabel}` : ""} · ${cur.shape.join("×")}`;
  const zoomed = layout?.zoom ?? null;
  // A photo's input maps are its colour channels (channels.js): "red channel (map 0)".
  const hint = zoomed != null ? `${cur.kind === "input" ? mapName(state.model, zoomed) : `map ${zoomed}`} · tap a cell` : layout?.zoomable ? "tap a map to zoom in" : "tap a unit";
  info.replaceChildren(Object.assign(document.createElement("strong"), { textContent: what }), ` · ${hint} · swipe for the next stage`);
  if (zoomed != null) info.prepend(button("◂ all maps", { class: "unzoom" }, onUnzoom), " ");
}
