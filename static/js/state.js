// The page's one store, shared by every view (Network, 3D, Learn, Lab). Pure: no DOM.
//
// Shared keys (all views read them; only the named owner writes them):
//   model    GET /api/model (name, classes, layers without values)   - written by main.js
//   trace    the latest forward response, values as Float32Array      - written by main.js
//            {prediction, probabilities, layers: [{name, kind, shape, ...params, values}],
//             preprocessing, byName: Map(name -> layer), body (the forward body it came from)}
//   hover    the unit under the pointer/keyboard: {layer, unit} or null
//   pinned   a pinned unit (Enter / click), same form, or null; wins over hover for the panel
//   drawing  the pad's current forward body ({image} or {pixels, width, height}) or null
// View options live here too (foldActivations, projector, tab) so any view can follow them.
// Also written by main.js/live.js: explanation (the /api/explain answer for the focused unit,
// with the `body` it was computed on), latency ({roundTrip, paint} ms), error (a message or
// null), keyboardFocus (the focus came from the keyboard: drawn with a stronger ring).
//
// Usage:  const store = createStore({...});  store.get().trace;  store.set({hover: h});
//         const off = store.subscribe((state, changed) => ..., ["hover", "pinned"]);

export function createStore(initial = {}) {
  let state = { model: null, trace: null, hover: null, pinned: null, drawing: null, ...initial };
  const listeners = new Set();
  return {
    get: () => state,
    // Shallow-merge `patch`; listeners whose keys changed (by identity) are called once,
    // synchronously, with (state, changedKeys).
    set(patch) {
      const changed = Object.keys(patch).filter((k) => state[k] !== patch[k]);
      if (!changed.length) return;
      state = { ...state, ...patch };
      for (const l of [...listeners]) {
        if (!l.keys || changed.some((k) => l.keys.includes(k))) l.fn(state, changed);
      }
    },
    // keys: only call fn when one of these changes (all changes when omitted).
    subscribe(fn, keys = null) {
      const l = { fn, keys };
      listeners.add(l);
      return () => listeners.delete(l);
    },
  };
}

// The unit whose numbers the panel shows: a pinned unit outlives hovering elsewhere.
export const focusUnit = (state) => state.pinned ?? state.hover;

export const sameUnit = (a, b) =>
  a === b || (!!a && !!b && a.layer === b.layer && a.unit.length === b.unit.length && a.unit.every((u, i) => u === b.unit[i]));
