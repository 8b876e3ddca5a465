// What the input's channels are called and the range each is drawn on, from the model's input
// declaration (`/api/model` `input`). Pure: no DOM. One description for every view: the 2D
// network and its numbers panel, the 3D labels and tooltip, the phone's stage bar, the Lab.
//
// A colour picture (three channels, resized from a photo: `preprocess: "resize"`) has channels
// a teacher calls red, green and blue; any other input (a digit, a 3-map input that is not a
// photo) keeps "map c".
//
// colourNames(model)            -> ["red", "green", "blue"] | null
// mapName(model, c)             -> "red channel (map 0)" | "map 0"   (the input's map c)
// mapTag(model, c)              -> "red" | "0"                        (a map's corner tag)
// channelRange(input, c)        -> [lo, hi]: (0 − mean) / std … (1 − mean) / std
// channelRanges(input, C)       -> [[lo, hi], …] per channel, or null when not normalised
// rangeText(ranges, fmt)        -> "−2.1 … 2.6" over every channel

export const RGB = ["red", "green", "blue"];

export function colourNames(model) {
  const input = model?.input;
  return input?.channels === 3 && input?.preprocess === "resize" ? RGB : null;
}

export function mapName(model, c) {
  const names = colourNames(model);
  return names?.[c] ? `${names[c]} channel (map ${c})` : `map ${c}`;
}

export const mapTag = (model, c) => colourNames(model)?.[c] ?? String(c);

export function channelRange(input, c) {
  const mean = input?.mean?.[c] ?? input?.mean?.[0] ?? 0;
  const std = input?.std?.[c] ?? input?.std?.[0] ?? 1;
  return [(0 - mean) / std, (1 - mean) / std];
}

// The declared pixel range 0..1 before normalising: each channel's own range after it. A model
// without mean/std (or 0 and 1) has none: its input is drawn on the stage's [0, 1] scale.
export function channelRanges(input, C) {
  const normalised = (input?.mean ?? []).some((m) => m !== 0) || (input?.std ?? []).some((s) => s !== 1);
  if (!normalised || !(C > 0)) return null;
  return Array.from({ length: C }, (_, c) => channelRange(input, c));
}

export function rangeText(ranges, fmt = (v) => String(+v.toFixed(1))) {
  const lo = Math.min(...ranges.map((r) => r[0])), hi = Math.max(...ranges.map((r) => r[1]));
  return `${fmt(lo)} … ${fmt(hi)}`;
}

const three = (v) => String(+v.toFixed(3)).replace("-", "\u2212");

// What one input pixel is, in words, for the numbers panel: the input's size from its `shape`
// [C, H, W], the channel's colour and the value before normalising when the model normalises.
// "A pixel of the red channel (map 0) of the 64×64 input, (x − 0.485) / 0.229 with x = 0.9 of
// full red." / "A pixel of the preprocessed 28×28 input: 0 is paper, 1 is full ink."
export function pixelWords(model, shape, unit, value) {
  const [C, H, W] = shape.length === 3 ? shape : [1, ...shape];
  const c = shape.length === 3 ? unit[0] : 0;
  const names = colourNames(model);
  const ranges = channelRanges(model?.input, C);
  const where = `${H}×${W} input`;
  if (!ranges) {
    const of = C > 1 ? `${mapName(model, c)} of the preprocessed ${where}` : `the preprocessed ${where}`;
    return names ? `A pixel of ${of}: 0 is none of the colour, 1 is full ${names[c]}.` : `A pixel of ${of}: 0 is paper, 1 is full ink.`;
  }
  const mean = model.input.mean[c] ?? model.input.mean[0], std = model.input.std[c] ?? model.input.std[0];
  const x = value * std + mean;
  const full = names ? `of full ${names[c]}` : "before normalising (0 is paper, 1 full ink)";
  return `A pixel of ${C > 1 ? `${mapName(model, c)} of ` : ""}the ${where}, normalised: (x − ${three(mean)}) / ${three(std)} with x = ${three(x)} ${full}.`;
}
