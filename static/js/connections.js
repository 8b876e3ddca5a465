// Connection tables (LeCun 1998, Table I) read from the model's own layer records. Pure: no DOM.
//
// A conv stage may carry `connections`: for each filter, the input maps it reads (the Harley
// model's conv2: filters 0–5 read 3 maps, 6–14 read 4, 15 reads all 6). The network overlay
// lights only those maps, and the matrix view marks the focused filter's column.

// The first conv stage with a connection table, with the maps it reads from:
// {stage, source (the stage below), maps (its channel count), filters, reads(f, m)} or null.
export function connectionTable(layers) {
  if (!layers) return null;
  const i = layers.findIndex((s) => s.kind === "conv" && Array.isArray(s.connections));
  if (i < 1) return null;
  const stage = layers[i];
  const table = stage.connections;
  return {
    stage,
    source: layers[i - 1],
    maps: stage.in_channels ?? layers[i - 1].shape[0],
    filters: table.length,
    reads: (f, m) => table[f].includes(m),
  };
}

// The input maps a unit's value is computed from, when a connection table limits them:
// an array of map indices for a unit of a conv stage with `connections`, else null (all maps).
export function connectedMaps(stage, unit) {
  if (!stage || stage.kind !== "conv" || !Array.isArray(stage.connections)) return null;
  return stage.connections[unit[0]] ?? null;
}

// Which filter of the table's conv the focus is on: a unit of that conv or of an activation
// applied straight to it (same shape, e.g. tanh2 when activations are not folded), else null.
export function focusedFilter(layers, focus) {
  const t = connectionTable(layers);
  if (!t || !focus) return null;
  const i = layers.indexOf(t.stage);
  for (let j = i; j < layers.length; j++) {
    const s = layers[j];
    if (j > i && s.kind !== "activation") break;
    if (s.name === focus.layer) return focus.unit[0];
  }
  return null;
}

// Runs of consecutive filters reading the same number of maps, for a one-line summary:
// Harley's conv2 -> [{from: 0, to: 5, count: 3}, {from: 6, to: 14, count: 4}, {from: 15, to: 15, count: 6}].
export function tableRuns(t) {
  const runs = [];
  for (let f = 0; f < t.filters; f++) {
    let count = 0;
    for (let m = 0; m < t.maps; m++) if (t.reads(f, m)) count++;
    const last = runs[runs.length - 1];
    if (last && last.count === count && last.to === f - 1) last.to = f;
    else runs.push({ from: f, to: f, count });
  }
  return runs;
}
