// The Lab's maps (the "Map" select): which 2-D maps of the page's record it can convolve, what
// they are called, their values, and what their colours mean. Pure: no DOM, no fetch.
//
// Everything comes from the model's own record: the trace's input stage (its shape [C, H, W]
// and values), the model's input declaration (`/api/model` `input`: mean, std, subject) and the
// preprocessing steps the forward answer actually carries. A one-channel model offers
//   "input"    network input (H×W)
//   "centred"  centred digit (h×w)       only when the preprocessing has a `centred` step
// a model reading C > 1 channels one map per channel:
//   "input:c"  input channel c · red (H×W)    (red/green/blue when C = 3, else "channel c")
//
// labSources(model, trace) -> [{value, label, short, channel, channels, shape: [H, W]}]
// findSource(sources, value) -> a source or null (the links' aliases: "input" is channel 0 of
//                               any model, "input:0" the input of a one-channel model)
// sourceMap(trace, source) -> {values, shape: [H, W]} | null   the source's own values (a
//                               subarray); null when the trace is not of this shape (yet)
// channelWords(c, C) -> "red channel" | "channel c"
// inputRange(model, source) -> {lo, hi, normalised, mean, std}   the range its colours span
// colourWords(model, source) -> the hint's sentence on what the map's colours mean

import { RGB } from "../channels.js";   // the colour names every view uses

export const channelName = (c, C) => (C === 3 ? RGB[c] : `channel ${c}`);
export const channelWords = (c, C) => (C === 3 ? `${RGB[c]} channel` : `channel ${c}`);

const inputStage = (trace) => trace?.layers?.find((l) => l.kind === "input") ?? null;
const spatial = (shape) => (shape.length === 3 ? shape.slice(1) : shape);
const size = ([h, w]) => `${h}×${w}`;

// The input's [C, H, W]: the model's record (its input stage, else its declaration), else the
// trace's input stage. The model's first: while the page switches models the trace on screen
// may still be the previous model's.
export function inputShape(model, trace) {
  const shape = model?.layers?.find((l) => l.kind === "input")?.shape ?? model?.input?.shape ?? inputStage(trace)?.shape;
  if (!shape) return null;
  return shape.length === 3 ? shape : [1, ...shape];
}

export function labSources(model, trace) {
  const shape = inputShape(model, trace);
  if (!shape) return [];
  const [C, H, W] = shape;
  if (C > 1) {
    return Array.from({ length: C }, (_, c) => ({
      value: `input:${c}`, channel: c, channels: C, shape: [H, W],
      label: `input channel ${c}${C === 3 ? ` · ${RGB[c]}` : ""} (${size([H, W])})`,
      short: `input channel ${c}${C === 3 ? ` (${RGB[c]})` : ""}`,
    }));
  }
  const out = [{ value: "input", channel: 0, channels: 1, shape: [H, W], label: `network input (${size([H, W])})`, short: "input" }];
  const centred = trace?.preprocessing?.steps?.find((s) => s.name === "centred");
  if (centred) {
    const subject = model?.input?.subject ?? "digit";
    out.push({ value: "centred", channel: 0, channels: 1, shape: spatial(centred.shape), label: `centred ${subject} (${size(spatial(centred.shape))})`, short: "input" });
  }
  return out;
}

export function findSource(sources, value) {
  const exact = sources.find((s) => s.value === value);
  if (exact) return exact;
  if (value === "input") return sources.find((s) => s.value === "input:0") ?? null;
  if (value === "input:0") return sources.find((s) => s.value === "input") ?? null;
  return null;
}

export function sourceMap(trace, source) {
  if (!trace || !source) return null;
  if (source.value === "centred") {
    const step = trace.preprocessing?.steps?.find((s) => s.name === "centred");
    return step ? { values: step.values, shape: spatial(step.shape) } : null;
  }
  const layer = inputStage(trace);
  const [h, w] = source.shape, n = h * w;
  if (!layer || layer.values.length !== source.channels * n) return null;
  const at = source.channel * n;
  return { values: layer.values.subarray ? layer.values.subarray(at, at + n) : layer.values.slice(at, at + n), shape: [h, w] };
}

// The preprocessing steps are pictures in [0, 1]; the input is (x − mean) / std per channel,
// which for a model with a mean and std leaves [0, 1]: then its colours span the channel's own
// range, (0 − mean) / std (none of this colour, black) to (1 − mean) / std (full, white).
export function inputRange(model, source) {
  const c = source?.channel ?? 0;
  const mean = source?.value === "centred" ? 0 : model?.input?.mean?.[c] ?? 0;
  const std = source?.value === "centred" ? 1 : model?.input?.std?.[c] ?? 1;
  const normalised = mean !== 0 || std !== 1;
  return { lo: (0 - mean) / std, hi: (1 - mean) / std, normalised, mean, std };
}

const two = (v) => (Math.abs(v) < 0.005 ? "0" : v.toFixed(2).replace("-", "\u2212"));
const three = (v) => String(+v.toFixed(3));

export function colourWords(model, source) {
  const r = inputRange(model, source);
  const rest = "the other maps are blue below 0, white at 0, orange above 0.";
  if (!r.normalised) return `Colours: the input runs black (0) to white (1); ${rest}`;
  const name = source.channels === 3 ? RGB[source.channel] : null;
  const none = name ? `no ${name}` : "0 before normalising", full = name ? `full ${name}` : "1 before normalising";
  return `Colours: this model normalises its input, (x − ${three(r.mean)}) / ${three(r.std)}, so ${source.short} runs from ${two(r.lo)} (black: ${none}) to ${two(r.hi)} (white: ${full}), and 0, which padding adds, is the mean ${name ?? "value"} ${three(r.mean)}, a grey; ${rest}`;
}
