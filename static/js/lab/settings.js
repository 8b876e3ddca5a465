// The Lab's settings as one small object that the store, a link (urlstate.js) and a lesson step
// share: {kernel, stride, padding, activation, pool, window, source}, with the kernel as its
// select key ("classic:edge_all", "learned:conv1:3") or "custom:k:v,v,...". Pure.
//
// labSettings(choice, custom, controls, source) -> settings      (from the Lab's own state)
// fromSettings(settings) -> {choice, custom | null, controls, source}  (back into it)
// sameSettings(a, b) -> bool

import { choiceKey, parseChoiceKey } from "./kernel.js";
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
