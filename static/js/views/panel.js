// What the numbers panel shows for the current focus: a hint, the pending unit (value from the
// trace, instantly), an input pixel, or the full account once /api/explain answers.
// renderPanel(el, state, networkView, hint = HINTS.network)

import { renderExplain, renderPending, renderInputUnit } from "./explain.js";
import { focusUnit, sameUnit } from "../state.js";
import { offset } from "../tensor.js";

// The hint names the keys of the view the panel sits under: in 3D the arrows turn the camera.
export const HINTS = {
  network: "Hover, tap or focus any unit (arrow keys move, Tab changes stage, Enter pins) to see exactly how its value was made.",
  "3d": "Hover or tap any unit to see exactly how its value was made (click pins it, double-click flies to it; arrow keys turn the camera, Shift+arrows pan, + and − zoom).",
};

function valueAt(trace, layer, unit) {
  const l = trace?.byName.get(layer);
  return l ? l.values[offset(l.shape, unit)] : null;
}

// The activation folded into the focused unit's column, if any: {name, function, value}.
function folded(view, trace, f) {
  const col = view?.layout?.columns[view.index.get(f.layer)?.column];
  if (!col || col.shown === f.layer) return null;
  const stage = trace.byName.get(col.shown);
  if (stage?.kind !== "activation") return null;
  return { name: stage.name, function: stage.function, scale: stage.scale, slope: stage.slope, alpha: stage.alpha, value: valueAt(trace, stage.name, f.unit) };
}

export function renderPanel(el, state, view, hint = HINTS.network) {
  const f = focusUnit(state);
  if (!f || !state.trace) {
    // Already showing this hint (every stroke update comes here): leave the DOM alone.
    if (el.dataset.hint === hint && el.firstElementChild?.className === "hint") return;
    const p = document.createElement("p");
    p.className = "hint";
    p.textContent = hint;
    el.replaceChildren(p);
    delete el.dataset.layer;
    el.dataset.hint = hint;
    return;
  }
  delete el.dataset.hint;
  const value = valueAt(state.trace, f.layer, f.unit);
  const stage = state.trace.byName.get(f.layer);
  if (stage?.kind === "input") return renderInputUnit(el, f, value, state.model, stage.shape);
  const e = state.explanation;
  const activation = folded(view, state.trace, f);
  if (!e || !sameUnit(e, f)) return renderPending(el, f, value, activation);
  renderExplain(el, e, state, { activation, pinned: sameUnit(state.pinned, f) });
}
