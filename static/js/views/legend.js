// The colour legend: the ramp of one stage's scale with its end and middle values.
// renderLegend(el, scale, stageLabel, kind, {floor, colours}): `colours` the input's channel
// names (channels.js colourNames) when they are red, green, blue; `floor` is the lowest value the stage can
// hold (ranges.js): 0 after a ReLU, so its legend shows only white → orange, the part of the
// diverging scale that can occur, instead of promising blue that never appears.

import { legendTicks, legendDecimals, cssColor, sequential } from "../color.js";
import { fixed } from "../numbers.js";

export function renderLegend(el, scale, label, kind, { floor = -Infinity, colours = null } = {}) {
  if (!scale) { el.replaceChildren(); delete el.dataset.drawn; return; }
  // A normalised input is drawn per channel on its own range (color.js scaleForInput): the
  // ramp reads in the picture's own terms, 0 (none) to 1 (full) before normalising.
  const [lo, hi] = scale.channels ? [0, 1] : scale.kind === "diverging" && floor >= 0 ? [0, scale.domain[1]] : scale.domain;
  // Scales move in steps (color.js), so most stroke updates draw the same legend: kept as is.
  const drawn = JSON.stringify([scale.kind, lo, hi, label, kind, colours]);
  if (el.dataset.drawn === drawn && el.childElementCount) return;
  el.dataset.drawn = drawn;
  const ramp0 = scale.channels ? sequential(0, 1) : scale;   // black to white, as every channel is drawn
  const stops = [0, 0.25, 0.5, 0.75, 1].map((t) => `${cssColor(ramp0.color(lo + (hi - lo) * t))} ${t * 100}%`);
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
    : kind === "softmax" ? `${label}: probability 0 – 1`
    : scale.channels ? `${label}: ${colours ? "black = none of that colour, white = full" : "black = 0, white = 1 before normalising"} (each channel on its own normalised range)`
    : colours ? `${label}: black = none of that colour, white = full (each colour channel drawn on its own)`
    : `${label}: 0 (paper) – 1 (ink)`;
  el.replaceChildren(col, name);
}
