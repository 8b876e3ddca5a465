// Which screen the page is on, and the phone's own controls. Boot-time wiring, like main.js,
// kept here so main.js only calls initScreens().
//
// `compact` (store): a phone, portrait (≤ 600 px wide) or landscape (≤ 500 px high), or a touch
// tablet (a coarse pointer, < 1200 px wide: 768×1024, 1024×768) — the network shows one stage at
// a time (stagelayout.js) with a stage bar (views/stagebar.js) and the explain panel is a bottom
// sheet (a side column in landscape). A finger cannot hit the desktop layout's 3 px conv cells on
// a tablet; a mouse can, so a narrow desktop window keeps the whole network. Also keeps `stage` (the current
// column's key) following the focused unit, and `zoom` (the zoomed map) valid.
//
// initScreens(store, net, els) with els = {stageBar, sheetHandle, body}

import { displayColumns } from "./layout.js";
import { renderStageBar } from "./views/stagebar.js";
import { focusUnit } from "./state.js";

export const COMPACT_QUERY = "(max-width: 600px), (max-height: 500px), (pointer: coarse) and (max-width: 1199px)";

export function initScreens(store, net, { stageBar, sheetHandle, body = document.body }) {
  const mq = window.matchMedia(COMPACT_QUERY);
  const apply = () => {
    body.classList.toggle("compact", mq.matches);
    store.set({ compact: mq.matches });
    requestAnimationFrame(() => net.resize());
  };
  mq.addEventListener("change", apply);

  const columns = () => {
    const s = store.get();
    const st = s.trace?.layers ?? s.model?.layers;
    return st ? displayColumns(st, { foldActivations: s.foldActivations !== false }) : [];
  };
  const goTo = (key) => store.set({ stage: key, zoom: null });
  const step = (d) => {
    const cols = columns();
    const s = store.get();
    const i = Math.max(0, cols.findIndex((c) => c.key === s.stage));
    const next = cols[Math.max(0, Math.min(cols.length - 1, (s.stage == null ? 1 : i) + d))];
    if (next) goTo(next.key);
  };
  net.onSwipe = step;

  store.subscribe((s) => { if (s.compact) net.render(); }, ["stage", "zoom"]);   // first: the bar reads its layout
  let drawnFor = null;   // the layout the bar last described (a new trace only matters when that changed)
  const bar = (s) => {
    if (!s.compact) return;
    drawnFor = net.layout;
    renderStageBar(stageBar, { columns: columns(), state: s, layout: net.layout, onStage: goTo, onStep: step, onUnzoom: () => store.set({ zoom: null }) });
  };
  store.subscribe(bar, ["compact", "stage", "zoom", "model", "foldActivations"]);
  store.subscribe((s) => { if (net.layout !== drawnFor) bar(s); }, ["trace"]);   // the first layout after boot or a resize

  // The stage follows a unit focused from elsewhere (keyboard Tab, the connection table).
  store.subscribe((s) => {
    if (!s.compact) return;
    const f = focusUnit(s);
    const col = f && net.view?.index.get(f.layer)?.column;
    const key = col != null ? net.view.layout.columns[col].key : null;
    if (key && key !== (s.stage ?? net.view.layout.columns[net.view.layout.current]?.key)) store.set({ stage: key, zoom: null });
  }, ["hover", "pinned"]);

  // The bottom sheet: collapsed to a few lines, or opened over the stage (the header and its
  // prediction stay visible either way).
  const setSheet = (open) => {
    body.classList.toggle("sheet-open", open);
    sheetHandle.setAttribute("aria-expanded", String(open));
    sheetHandle.textContent = open ? "▾ Show the network" : "▴ Show all the numbers";
  };
  sheetHandle.addEventListener("click", () => setSheet(!body.classList.contains("sheet-open")));
  setSheet(false);
  apply();
}
