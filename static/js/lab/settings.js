// The Lab's settings as one small object that the store, a link (urlstate.js) and a lesson step
// share: {kernel, stride, padding, activation, pool, window, source}, with the kernel as its
// select key ("classic:edge_all", "learned:conv1:3") or "custom:k:v,v,...". Pure.
//
// labSettings(choice, custom, controls, source) -> settings      (from the Lab's own state)
// fromSettings(settings) -> {choice, custom | null, controls, source}  (back into it)
// sameSettings(a, b) -> bool
// fitSettings(settings, model, trace) -> {lab} | {note}   (a link's or lesson's settings for the
//   model on screen: the map's alias resolved ("input" = channel 0 of an RGB model), a learned
//   filter paired with the map's channel; a map or filter the model lacks is a note instead)

import { choiceKey, parseChoiceKey, learnedLayers, fitLearned } from "./kernel.js";
import { labSources, findSource } from "./source.js";
import { customKernel } from "../urlstate.js";

export function labSettings(choice, custom, controls, source) {
  const kernel = choice.type === "custom" ? customKernel(custom.k, custom.values) : choiceKey(choice);
  return { kernel, stride: controls.stride, padding: controls.padding, activation: controls.activation, pool: controls.pool.op, window: controls.pool.window, source };
}

export function fromSettings(s) {
  let choice, custom = null;
  if (s.kernel.startsWith("custom:")) {
    const [, k, values] = s.kernel.split(":");
    custom = { k: Number(k), values: values.split(",").map(Number) };
    choice = { type: "custom" };
  } else {
    choice = parseChoiceKey(s.kernel, {});
  }
  return { choice, custom, controls: { stride: s.stride, padding: s.padding, activation: s.activation, pool: { op: s.pool, window: s.window } }, source: s.source };
}

const KEYS = ["kernel", "stride", "padding", "activation", "pool", "window", "source"];
export const sameSettings = (a, b) => !!a && !!b && KEYS.every((k) => a[k] === b[k]);

export function fitSettings(s, model, trace) {
  const sources = labSources(model, trace);
  const source = findSource(sources, s.source);
  if (!source) return { note: `no Lab map ${s.source} in this model (it has ${sources.map((x) => x.value).join(", ") || "none yet"})` };
  let kernel = s.kernel;
  if (kernel.startsWith("learned:")) {
    const wanted = parseChoiceKey(kernel, {});
    const fit = fitLearned(wanted, model, source.channel);
    if (!fit) {
      const layers = learnedLayers(model);
      const stage = layers.find((l) => l.name === wanted.layer);
      return { note: stage ? `no ${stage.name} filter ${wanted.filter} in this model (it has 0..${stage.filters - 1})`
        : `no learned ${wanted.layer} filters in this model's Lab (it has ${layers.map((l) => l.name).join(", ") || "none"})` };
    }
    kernel = choiceKey(fit);
  }
  return { lab: { ...s, source: source.value, kernel } };
}
