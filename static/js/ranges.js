// What values a stage can hold, from the record's kinds alone. Pure: no DOM.
//
// A ReLU (or sigmoid) never gives a negative value, and what only picks or averages its values
// (max/avg pooling, flatten) keeps that floor: relu1 and pool1 of the reference net can hold no
// negatives, so their legends must not promise blue. Everything else (conv, dense, tanh, …) can
// be either sign.

const FLOOR_OF_FUNCTION = { relu: 0, sigmoid: 0 };
const PASSES_VALUES = new Set(["pool", "flatten"]);   // their values are the source's (or means)

// The lowest value stage `name` can take: 0 or -Infinity.
export function stageFloor(stages, name) {
  const i = (stages ?? []).findIndex((s) => s.name === name);
  if (i < 0) return -Infinity;
  const s = stages[i];
  if (s.kind === "input" || s.kind === "softmax") return 0;
  if (s.kind === "activation") return FLOOR_OF_FUNCTION[s.function] ?? -Infinity;
  if (PASSES_VALUES.has(s.kind) && i > 0) return stageFloor(stages, stages[i - 1].name);
  return -Infinity;
}
