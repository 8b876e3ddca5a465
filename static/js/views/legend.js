// The colour legend: the ramp of one stage's scale with its end and middle values.
// renderLegend(el, scale, stageLabel, kind, {floor}): `floor` is the lowest value the stage can
// hold (ranges.js): 0 after a ReLU, so its legend shows only white → orange, the part of the
// diverging scale that can occur, instead of promising blue that never appears.

import { legendTicks, legendDecimals, cssColor } from "../color.js";
import { fixed } from "../numbers.js";

export function renderLegend(el, scale, label, kind, { floor = -Infinity } = {}) {
  if (!scale) { el.replaceChildren(); delete el.dataset.drawn; return; }
  const [lo, hi] = scale.kind === "diverging" && floor >= 0 ? [0, scale.domain[1]] : scale.domain;
  // Scales move in steps (color.js), so most stroke updates draw the same legend: kept as is.
  const drawn = JSON.stringify([scale.kind, lo, hi, label, kind]);
  if (el.dataset.drawn === drawn && el.childElementCount) return;
  el.dataset.drawn = drawn;
  const stops = [0, 0.25, 0.5, 0.75, 1].map((t) => `${cssColor(scale.color(lo + (hi - lo) * t))} ${t * 100}%`);
  const ramp = document.createElement("div");
  ramp.className = "ramp";
  ramp.dataset.domain = `${lo},${hi}`;
  ramp.style.background = `linear-gradient(to right, ${stops.join(", ")})`;
  const ticks = document.createElement("div");
  ticks.className = "ticks";
  // Enough decimals to show the real bounds (±0.005 is not "0.00 0.00 0.00").
  const d = legendDecimals(hi);
  for (const t of legendTicks({ domain: [lo, hi] })) {
    const s = document.createElement("span");
    s.textContent = fixed(t, d);
    ticks.append(s);
  }
  const col = document.createElement("div");
  col.append(ramp, ticks);
  const name = document.createElement("span");
  name.textContent = scale.kind === "diverging" && lo >= 0
    ? `${label}: 0 (white) to orange; never negative here (one scale per stage, shared by its maps)`
    : scale.kind === "diverging"
    ? `${label}: blue < 0 < orange (one scale per stage, shared by its maps)`
    : kind === "softmax" ? `${label}: probability 0 – 1` : `${label}: 0 (paper) – 1 (ink)`;
  el.replaceChildren(col, name);
}
