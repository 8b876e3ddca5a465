// Boot and wiring only: create the store, the views and the live link to the server, and
// connect them. Behaviour lives in the modules named below.

import * as api from "./api.js";
import { createStore, focusUnit } from "./state.js";
import { offset } from "./tensor.js";
import { startLive } from "./live.js";
import { initTabs } from "./tabs.js";
import { createPad } from "./views/pad.js";
import { createNetworkView } from "./views/network.js";
import { renderPanel } from "./views/panel.js";
import { renderPrep } from "./views/prep.js";
import { renderLegend } from "./views/legend.js";
import { colourNames } from "./channels.js";
import { renderJoin } from "./views/join.js";
import { renderBackProjection } from "./views/backproject.js";
import { renderModels, chosenModel, modelUrl } from "./views/models.js";
import { renderConnections } from "./views/connections.js";
import { mountArithmetic } from "./views/arithmetic.js";
import { foldLabel } from "./layout.js";
import { renderModelInput, isPicture, pickPicture, imageOf } from "./views/modelinput.js";
import { stageFloor } from "./ranges.js";
import { renderPrediction, fitPill } from "./views/prediction.js";
import { createAnnouncer } from "./announce.js";
import { stageFloors } from "./color.js";
import { attachScrollCue } from "./views/scrollcue.js";
import { initPresenter } from "./presenter.js";
import { initScreens } from "./screen.js";
import { createViewState } from "./viewstate.js";
import { mountShare } from "./views/share.js";
import { mountLessons } from "./views/lessons.js";
import { mountCamera } from "./views/camera.js";

const $ = (id) => document.getElementById(id);
// Written on every stroke update: leave the DOM alone when nothing changed (a write, even of the
// same text, re-lays the page out before the next pointer event can be hit-tested).
const setText = (el, text) => { if (el.textContent !== text) el.textContent = text; };
const setHidden = (el, hidden) => { if (el.hidden !== hidden) el.hidden = hidden; };
// The drawing goes as a gray + alpha PNG of the whole pad (white ink, alpha = ink; png.js): it
// keeps the pad's full resolution for cropping and the server reads it in ~0.13 ms
// (app/padpng.py). bench/page.py compares it end to end with the old RGBA toDataURL PNG
// (?send=rgba) and a 112×112 pixel array (?send=pixels).
const SEND = ((asked) => (["pixels", "rgba"].includes(asked) ? asked : "png"))(new URLSearchParams(location.search).get("send"));
// The size of the image a body carried (crop boxes and receptive fields are in its pixels): a
// pixel array says it; an image is the pad at full resolution. Read from the trace on screen,
// so it always matches the record it annotates, whatever was sent since.
const imageSize = (body) => (body?.pixels ? { width: body.width, height: body.height } : { width: pad.canvas.width, height: pad.canvas.height });

// A colour model reads the pad's RGB (an opaque picture, sent as JPEG), not its ink alone.
const bodyMode = () => (isPicture(store.get().model) ? "jpeg" : SEND);
// The phone's panel hint names its own gestures (views/panel.js's names keys and hover).
const PHONE_HINT = "Tap any unit to see exactly how its value was made; tap it again to let go. Tap a map to zoom in, swipe for the next stage.";
const store = createStore({ foldActivations: true, projector: false, tab: "network", explanation: null, latency: null, error: null });
const live = startLive(store, api);
const announcer = createAnnouncer((text) => { $("prediction-live").textContent = text; });

const pad = createPad($("pad"), {
  onChange(strokeTime) {
    setHidden($("pad-hint"), !pad.blank);
    live.submit(async () => {   // encoded only when it is sent (latest wins)
      const t0 = performance.now();
      const body = await pad.body(bodyMode());
      performance.measure("encode", { start: t0, end: performance.now() });
      return body;
    }, strokeTime);
  },
});
$("pad-clear").onclick = () => pad.clear();
// A colour model's picture: chosen, dropped, pasted or photographed onto the pad, then sent
// like a stroke (a File or Blob, or the camera's frame as a canvas).
async function usePicture(blob) {
  if (!blob) return;
  await pickPicture(blob, pad.canvas).catch((err) => store.set({ error: `picture: ${err.message}` }));
  pad.markDrawn();
}
// Emptied once read, so choosing the same file again still loads it.
$("pad-file").onchange = (e) => { usePicture(e.target.files?.[0]); e.target.value = ""; };
const camera = mountCamera({
  button: $("pad-camera"), fileLabel: $("pad-camera-take"), fileInput: $("pad-camera-file"), note: $("pad-camera-note"),
  dialog: $("camera-dialog"), video: $("camera-video"), take: $("camera-take"), cancel: $("camera-cancel"), status: $("camera-status"),
  swap: $("camera-switch"), mirror: $("camera-mirror"), name: $("camera-name"),
  shape: pad.canvas,
}, { store, onPicture: usePicture });
$("pad").addEventListener("dragover", (e) => e.preventDefault());
$("pad").addEventListener("drop", (e) => { e.preventDefault(); usePicture(imageOf(e.dataTransfer)); });
document.addEventListener("paste", (e) => { if (isPicture(store.get().model)) usePicture(imageOf(e.clipboardData)); });
$("pad-undo").onclick = () => pad.undo();
$("pad-brush").oninput = (e) => pad.setBrush(Number(e.target.value));
$("pad-eraser").onclick = (e) => {
  const on = e.currentTarget.getAttribute("aria-pressed") !== "true";
  e.currentTarget.setAttribute("aria-pressed", String(on));
  pad.setEraser(on);
};
// "Load" walks through the shipped test digits of the chosen class; past the last one the
// server answers 422 and the walk starts again at 0.
const nextSample = new Map();
async function loadSample(digit) {
  const index = nextSample.get(digit) ?? 0;
  try {
    await loadSampleAt(digit, index);
  } catch (err) {
    if (index === 0 || err.status !== 422) throw err;
    nextSample.set(digit, 0);
    return loadSample(digit);
  }
}
async function loadSampleAt(digit, index) {
  const body = await api.sample(digit, index);
  nextSample.set(digit, index + 1);
  views.markSample(body, [digit, index]);   // a link names it by its id (urlstate.js)
  showPixels(body);
}
function showPixels(body) {
  pad.loadPixels(body.pixels, body.width, body.height);
  $("pad-hint").hidden = true;
  live.submit(body);   // the pixels themselves, exactly
}
$("sample-load").onclick = () => loadSample(Number($("sample-digit").value)).catch((err) => store.set({ error: `samples: ${err.message}` }));

const net = createNetworkView({ canvas: $("net"), overlay: $("net-overlay") }, store);
initScreens(store, net, { stageBar: $("stage-bar"), sheetHandle: $("sheet-handle") });
new ResizeObserver(() => net.resize()).observe($("net-wrap"));
// "Why 400 → 120?": size arithmetic under the view, one line until opened, so the numbers
// panel keeps its room at 1280×720.
const sizes = mountArithmetic($("net-wrap"), store);
const toggleSizes = () => sizes.setAttribute("aria-expanded", String(sizes.getAttribute("aria-expanded") !== "true"));
sizes.setAttribute("aria-expanded", "false");
sizes.tabIndex = 0;
sizes.addEventListener("click", toggleSizes);
sizes.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); toggleSizes(); } });

$("fold-relu").onchange = (e) => store.set({ foldActivations: e.target.checked, hover: null, pinned: null });
store.subscribe((s) => { $("fold-relu").checked = s.foldActivations; }, ["foldActivations"]);   // links and lessons set it too
$("projector").onchange = (e) => store.set({ projector: e.target.checked });
attachScrollCue($("explain"));
initPresenter(store, $("projector"));

// The Network tab's own views (the network canvas, its legend and numbers panel) are hidden
// while another tab is open — 3D and Learn borrow only the drawing side, so a stroke there
// still brings a trace per update. Their repaint waits until the tab is shown again.
const networkShown = (s) => (s.tab ?? "network") === "network";
let networkBehind = false;   // something they show changed while hidden
store.subscribe((s) => { if (networkShown(s)) net.render(); else networkBehind = true; }, ["trace", "model", "foldActivations", "floors"]);
store.subscribe((s) => {
  renderPrep($("prep-strip"), s.trace, { canvas: pad.canvas, model: s.model, ...imageSize(s.trace?.body) });
  const spoken = renderPrediction($("prediction"), s);
  fitPill($("prediction"), document.querySelector(".app-header"));
  // Heard once per drawing, when the answers stop coming (announce.js), not on every stroke.
  if (spoken && s.trace.body === s.drawing && !pad.drawing) announcer.update(s.trace.body, spoken);
  else if (pad.drawing) announcer.cancel();   // mid-stroke: whatever was waiting is stale
}, ["trace", "model", "stale"]);
const fitPrediction = () => fitPill($("prediction"), document.querySelector(".app-header"));
store.subscribe(fitPrediction, ["compact"]);
window.addEventListener("resize", fitPrediction);
// A failed forward: the drawing shown is not the one on the pad; say so until an answer comes.
store.subscribe((s) => {
  $("view-network").classList.toggle("is-stale", !!s.stale);
  $("stale-banner").hidden = !s.stale;
  if (s.stale) $("stale-banner").textContent = `Not your current drawing — reconnecting… (next try in ${(s.stale.retryIn / 1000).toFixed(1)} s)`;
}, ["stale"]);
function renderNetworkSide(s) {
  net.renderOverlay();
  renderPanel($("explain"), s, net.view, s.compact ? PHONE_HINT : undefined);
  const f = focusUnit(s);
  const shown = f && net.view?.layout.columns[net.view.index.get(f.layer)?.column]?.shown;
  // Nothing focused: the first stage after the input (conv1, or relu1 when folded) keeps a legend.
  // On a phone, the stage on screen.
  const col = shown ? net.view?.layout.columns.find((c) => c.shown === shown) : net.view?.layout.columns[net.view.compact ? net.view.layout.current : 1];
  renderLegend($("legend"), net.scaleOf(col?.shown), col ? `${col.label} ${col.sublabel}`.trim() : "", col?.kind, { floor: stageFloor(s.trace?.layers, col?.shown), colours: colourNames(s.model) });
}
store.subscribe((s) => {
  if (!networkShown(s) || !networkBehind) return;
  networkBehind = false;
  queueMicrotask(() => { net.render(); renderNetworkSide(store.get()); });   // once tabs.js has unhidden it
}, ["tab"]);
store.subscribe((s) => {
  if (networkShown(s)) renderNetworkSide(s);
  else networkBehind = true;
  renderBackProjection($("pad-overlay"), s, s.trace ? imageSize(s.trace.body) : null);
  const f = focusUnit(s);
  // Screen readers hear the focused unit and its value, not the whole panel on every move.
  const v = f && s.trace?.byName.get(f.layer);
  setText($("focus-status"), v ? `${f.layer} ${f.unit.join(", ")}: ${v.values[offset(v.shape, f.unit)].toFixed(3)}${s.pinned ? ", pinned" : ""}` : "");
}, ["hover", "pinned", "explanation", "trace", "foldActivations", "floors", "stage", "zoom", "compact"]);
store.subscribe((s) => {
  document.body.classList.toggle("projector", s.projector);
  requestAnimationFrame(() => net.resize());
}, ["projector"]);
store.subscribe((s) => {
  const l = s.latency;
  setText($("latency"), l ? `${l.roundTrip.toFixed(0)} ms · paint ${l.paint.toFixed(1)} ms` : "–");
}, ["latency"]);
store.subscribe((s) => { $("status").textContent = s.error ?? ""; }, ["error"]);
// The model's own activation names it ("Fold tanh" for Harley's net); one checkbox serves every tab.
store.subscribe((s) => { $("fold-label").textContent = foldLabel(s.model?.layers); }, ["model"]);
store.subscribe((s) => renderModels($("model-slot"), s, { onSelect: switchModel }), ["models", "modelId", "model", "modelNote"]);
store.subscribe((s) => renderConnections($("connections"), s, { onFocus: (f) => store.set({ hover: f }) }), ["model", "hover", "pinned"]);

initTabs(store, api);
api.join().then((j) => renderJoin($("join-button"), $("join-popover"), j), () => renderJoin($("join-button"), $("join-popover"), null));
// The chosen model's record, then the current drawing (or the blank pad) through it. Which
// model: the URL's ?model= (api.js adds it to every request; views/models.js sets it).
function loadModel(id) {
  return api.model()
    .then((model) => {
      store.set({ model: { ...model, modelId: id }, trace: null });
      // The pad's words, tools and samples are the model's own (its input declaration).
      renderModelInput(model, { hint: $("pad-hint"), pad: $("pad"), sampleLabel: $("sample-label"), sampleGroup: $("sample-group"), picker: $("pad-picker"), drawTools: [$("pad-eraser"), $("pad-brush").parentElement] });
      $("sample-digit").replaceChildren(...model.classes.map((c, i) => new Option(c, String(i))));
      measureFloors(id);
      const drawing = store.get().drawing;
      if (drawing) return live.submit({ ...drawing });   // a fresh body: no stale explanation matches it
      return pad.body(bodyMode()).then((body) => live.submit(body));   // the blank pad: every stage drawn at rest
    })
    .catch((err) => store.set({ error: `model: ${err.message}` }));
}
// Scale floors (color.js stageFloors) from one shipped test image through this model, so a
// blank pad's bias-level maps are drawn near-white instead of stretched to full colour.
function measureFloors(id) {
  store.set({ floors: null });
  if (store.get().model?.samples === false) return;   // no test images shipped: nothing to measure
  api.sample(0, 0)
    .then((body) => api.forward(body))
    .then((t) => { if (store.get().model?.modelId === id) store.set({ floors: stageFloors(t.layers) }); })
    .catch(() => {});   // no samples shipped: scales follow each drawing, as before
}
function switchModel(id) {
  history.replaceState(history.state, "", modelUrl(location.href, id, store.get().models));
  store.set({ modelId: id, modelNote: null, hover: null, pinned: null, explanation: null });
  return loadModel(id);
}
// Links (#tab=…&pin=…&sample=…, urlstate.js) and lessons set the view through one module.
const views = createViewState({
  store, live, pad,
  hooks: {
    switchModel, loadSampleAt,
    loadInk(ink) { const body = views.inkBody(ink); views.markInk(body, ink); showPixels(body); },
  },
});
api.models()
  .then((listing) => {
    const { id, unknown } = chosenModel(location.search, listing);
    if (unknown !== null) history.replaceState(history.state, "", modelUrl(location.href, id, listing));
    store.set({ models: listing, modelId: id, modelNote: unknown === null ? null : `no model ${JSON.stringify(unknown)}; showing ${id}` });
    return id;
  }, () => null)   // a server without /api/models: its one model, no selector
  .then(loadModel)
  .then(() => lessons.openFromUrl())   // the link's view (and lesson step), once a trace is up
  .catch((err) => share.note([`the link's view: ${err.message}`]))
  .finally(() => {
    views.follow();
    store.set({ linkOpened: true });
    // A link pasted into the address bar of this tab changes only the hash: the page does not
    // reload, so reopen it here (the page's own URL writes use replaceState, which fires no
    // hashchange).
    window.addEventListener("hashchange", () => lessons.openFromUrl().catch((err) => share.note([`the link's view: ${err.message}`])));
  });
const share = mountShare($("share-slot"), { store, views, pad, net });
const lessons = mountLessons($("lessons-slot"), { store, api, views, share, net });

// The class session (only served with --classroom): the student's bar, spotlight and rounds.
if (document.body.dataset.classroom === "on") import("./classroom/student.js").then((m) => { window.convscope.classroom = m.mountStudent({ store, live, pad, side: document.querySelector(".side"), switchModel }); });

// For tests and bench/page.py: the store and live link, read-only by convention.
window.convscope = { store, live, pad, net, views, lessons, camera };
