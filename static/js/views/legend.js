// The colour legend: the ramp of one stage's scale with its end and middle values.
// renderLegend(el, scale, stageLabel, kind)

import { legendTicks, cssColor } from "../color.js";
import { fixed } from "../numbers.js";

export function renderLegend(el, scale, label, kind) {
  if (!scale) { el.replaceChildren(); return; }
  const [lo, hi] = scale.domain;
  const stops = [0, 0.25, 0.5, 0.75, 1].map((t) => `${cssColor(scale.color(lo + (hi - lo) * t))} ${t * 100}%`);
  const ramp = document.createElement("div");
  ramp.className = "ramp";
  ramp.style.background = `linear-gradient(to right, ${stops.join(", ")})`;
  const ticks = document.createElement("div");
  ticks.className = "ticks";
  const d = Math.abs(hi) >= 10 ? 0 : Math.abs(hi) >= 1 ? 1 : 2;
  for (const t of legendTicks(scale)) {
    const s = document.createElement("span");
    s.textContent = fixed(t, d);
    ticks.append(s);
  }
  const col = document.createElement("div");
  col.append(ramp, ticks);
  const name = document.createElement("span");
  name.textContent = scale.kind === "diverging"
    ? `${label}: blue < 0 < orange (one scale per stage, shared by its maps)`
    : kind === "softmax" ? `${label}: probability 0 – 1` : `${label}: 0 (paper) – 1 (ink)`;
  el.replaceChildren(col, name);
}
