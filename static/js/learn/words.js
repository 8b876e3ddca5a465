// The Learn tab's words for one model, from its record (GET /api/model): what the student gave
// it (a drawing, or an image for a colour model), the model's own prompt, and what to say when
// no training run was recorded. Pure: the views set these as text.

import { isPicture } from "../views/modelinput.js";

export function learnWords(model) {
  const noun = isPicture(model) ? "image" : "drawing";
  // The pad's own prompt ("Draw a digit here", "Pick, drop or paste an image"), pointed at the
  // pad, wherever the screen puts it (beside this on a laptop, above it on a phone).
  const prompt = (model?.input?.prompt ?? "Draw a digit here").replace(/\s+here$/i, "");
  return {
    noun,
    title: `One step of backpropagation on your ${noun}`,
    prompt: `${prompt} on the pad`,
    caption: `your ${noun}`,
    inputLabel: `Your ${noun} as the network sees it`,
  };
}

// Why "Watch it train" has nothing to replay, or null when the model has a recorded run
// (`history` true) or the server does not say (then the page asks and shows what it answers).
export function noHistory(model) {
  if (model?.history !== false) return null;
  if (model.imported) return "This model was imported, so it has no recorded training run to replay; the shipped models have one.";
  return "No training run was recorded for this model (convscope train records one beside the .npz).";
}

// The seeds comparison needs a second recorded run (engine/seeds.py writes one).
export const NO_SEEDS = "Only one training run was recorded for this model, so there is no second seed's filters to set beside its own.";

// A conv's kernels as the grid shows them (learn/model.js filterGrid): one column per filter,
// one row per input channel; `names` are the channels' (R, G, B) when they have names.
export function kernelTitle(name, filters, channels, names = null) {
  if (channels === 1) return `${name}'s ${filters} filters`;
  const rows = names ? `${channels} colour channels ${names.join(", ")}` : `${channels} input maps`;
  return `${name}'s ${filters} filters (columns) × ${rows} (rows)`;
}
