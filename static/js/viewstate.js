// The page's view state, both ways: reads it from the store into the URL hash (urlstate.js)
// as it changes, and applies a view (from a link or a lesson step) to the page. Not a view:
// it draws nothing; it writes the store and asks main.js's hooks to switch model or load a
// drawing.
//
// createViewState({store, live, pad, hooks: {switchModel(id), loadSampleAt(c, i), loadInk(ink)}})
//   -> {apply(view) -> Promise<notes[]>, current() -> view, linkNow() -> Promise<href>, follow(),
//       origin(body), markSample(body, [c, i]), markInk(body, ink), settled()}
//
// A drawing's origin (a test digit's id, or ink decoded from a link) is remembered by its
// pixel array, which the copies main.js makes when the model changes keep.

import { encodeHash, downsampleInk, quantiseInk, inkBody, INK_SIDE } from "./urlstate.js";
import { fitSettings } from "./lab/settings.js";
import { isPicture } from "./views/modelinput.js";

const SYNC_MS = 250;   // after the drawing rests: the hash is rewritten at most this often

// Resolves when test(state) holds. Checked on every store change and every POLL_MS as well:
// part of "settled" (live.idle) changes without a store write.
const POLL_MS = 40;
export function waitFor(store, test, keys = null, timeout = 45000) {
  return new Promise((resolve, reject) => {
    let off = () => {}, poll = 0, timer = 0;
    const finish = (ok) => {
      off();
      clearInterval(poll);
      clearTimeout(timer);
      if (ok) resolve(store.get()); else reject(new Error("the page did not settle in time"));
    };
    if (test(store.get())) { resolve(store.get()); return; }
    timer = setTimeout(() => finish(false), timeout);
    poll = setInterval(() => { if (test(store.get())) finish(true); }, POLL_MS);
    off = store.subscribe((s) => { if (test(s)) finish(true); }, keys);
  });
}

// A unit named in a view exists in the trace on screen (a link can name anything).
export function validUnit(trace, pin) {
  const layer = trace?.byName.get(pin.layer);
  return !!layer && layer.shape.length === pin.unit.length && pin.unit.every((u, i) => Number.isInteger(u) && u >= 0 && u < layer.shape[i]);
}

export function createViewState({ store, live, pad, hooks }) {
  const origins = new WeakMap();      // pixels array -> {sample: [c, i]} | {ink}
  let writing = null, applying = 0;
  let live_url = false;   // the URL is only rewritten once the link it came with has been read

  const origin = (body) => (body?.pixels ? origins.get(body.pixels) ?? null : null);
  const markSample = (body, sample) => origins.set(body.pixels, { sample });

  // Resolves when the trace on screen is the latest drawing's, through the chosen model.
  const settled = () => waitFor(store, (s) => !!(s.trace && s.trace.body === s.drawing && (!s.modelId || s.model?.modelId === s.modelId) && live.idle), null)
    .then(() => new Promise((r) => setTimeout(r, 0)))
    .then(() => (live.idle ? store.get() : settled()));

  // The pad's drawing as the ink a link carries (56×56, 16 shades).
  function padInk() {
    const { width, height } = pad.canvas;
    const rgba = pad.canvas.getContext("2d").getImageData(0, 0, width, height).data;
    const alpha = new Uint8Array(width * height);
    for (let i = 0; i < alpha.length; i++) alpha[i] = rgba[i * 4 + 3];
    return { width: INK_SIDE, height: INK_SIDE, pixels: quantiseInk(downsampleInk(alpha, width, height, INK_SIDE)) };
  }

  // A picture model's pad holds a photo: a link cannot carry one (it would be a white square
  // of 56×56 ink), so its view goes without the drawing and the reader picks their own image.
  // (A drawing's body is an `image` too, the pad's PNG: the model says which it is.)
  const pictureOnPad = (s = store.get()) => isPicture(s.model) && !pad.blank;

  function drawingView(s) {
    if (pictureOnPad(s)) return null;
    const o = origin(s.drawing);
    if (o?.sample) return { sample: o.sample };
    if (o?.ink) return { ink: o.ink };
    if (s.drawing && !pad.blank) return { ink: padInk() };
    return null;
  }

  function current() {
    const s = store.get();
    const view = { tab: s.tab, fold: s.foldActivations !== false };
    if (s.pinned) view.pin = { layer: s.pinned.layer, unit: [...s.pinned.unit] };
    if (s.lab && s.tab === "lab") view.lab = s.lab;
    if (s.learn && s.tab === "learn") view.learn = { ...s.learn };
    if (s.lesson) view.lesson = { id: s.lesson.id, step: s.lesson.step };
    const d = drawingView(s);
    if (d) view.drawing = d.sample ? { sample: d.sample } : { ink: d.ink };
    return view;
  }

  async function write() {
    const hash = await encodeHash(current());
    const url = new URL(location.href);
    url.hash = hash;
    if (url.href !== location.href) history.replaceState(history.state, "", hash ? url.href : url.href.replace(/#$/, ""));
    return location.href;
  }
  function schedule() {
    if (applying || !live_url) return;
    clearTimeout(writing);
    writing = setTimeout(() => {
      if (!live.idle || applying) { schedule(); return; }
      write().catch((err) => store.set({ error: `link: ${err.message}` }));
    }, SYNC_MS);
  }
  store.subscribe(schedule, ["tab", "foldActivations", "pinned", "lab", "learn", "lesson", "trace", "modelId"]);

  // Show exactly what the link will reopen: a pad drawing becomes its 56×56 ink (loaded onto
  // the pad and sent), so the numbers on screen are the ones the link's reader will see.
  async function linkNow() {
    const s = store.get();
    const o = origin(s.drawing);
    if (!o && s.drawing && !pad.blank && !pictureOnPad(s)) {
      const ink = padInk();
      await hooks.loadInk(ink);
    }
    await settled();
    return write();
  }

  async function apply(view) {
    const notes = [];
    applying++;
    try {
      const s0 = store.get();
      if (view.model && view.model !== s0.modelId) {
        if (s0.models && !s0.models.some((m) => m.id === view.model)) notes.push(`no model ${view.model}`);
        else await hooks.switchModel(view.model);
      }
      if (view.fold !== undefined && view.fold !== (store.get().foldActivations !== false)) {
        store.set({ foldActivations: view.fold, hover: null, pinned: null });
      }
      if (view.drawing?.sample) {
        const [c, i] = view.drawing.sample;
        try { await hooks.loadSampleAt(c, i); } catch (err) { notes.push(`test digit ${c}:${i} could not load (${err.message})`); }
      } else if (view.drawing?.ink) {
        await hooks.loadInk(view.drawing.ink);
      }
      await settled();
      if (view.tab) store.set({ tab: view.tab });
      if (view.lab) {
        // The map and a learned filter must be this model's: "input:2" on a one-channel model,
        // or conv1 filter 9 of a 6-filter conv1, is dropped with a note like a bad class.
        const s = store.get(), fit = fitSettings(view.lab, s.model, s.trace);
        if (fit.note) notes.push(fit.note); else store.set({ lab: fit.lab });
      }
      if (view.learn) {
        const model = store.get().model, classes = model?.classes?.length ?? 10, limits = model?.limits?.learn;
        if (view.learn.target >= classes) notes.push(`no class ${view.learn.target} in this model (it has ${classes})`);
        else if (limits && view.learn.rate > limits.max_learning_rate) notes.push(`learning rate ${view.learn.rate} is above this model's ${limits.max_learning_rate}`);
        else if (limits && view.learn.steps > limits.max_steps) notes.push(`${view.learn.steps} Learn steps are more than this model's ${limits.max_steps}`);
        else store.set({ learn: { ...view.learn } });
      }
      if (view.pin !== undefined) {
        const s = store.get();
        if (view.pin === null) store.set({ pinned: null, hover: null });
        else if (validUnit(s.trace, view.pin)) {
          const pin = { layer: view.pin.layer, unit: [...view.pin.unit] };
          store.set({ pinned: pin, hover: pin });
        } else notes.push(`no unit ${view.pin.layer}[${view.pin.unit.join(", ")}] in this model`);
      }
      await settled();
    } finally {
      applying--;
    }
    schedule();
    return notes;
  }

  // Called once the page has read the link it was opened with: from now on the URL follows.
  function follow() { live_url = true; schedule(); }

  return { apply, current, linkNow, pictureOnPad, follow, origin, markSample, markInk: (body, ink) => origins.set(body.pixels, { ink }), settled, inkBody };
}
