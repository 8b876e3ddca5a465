// The connection table as a small matrix (LeCun 1998, Table I): rows are the maps of the stage
// below (pool1), columns the filters of the conv that reads them (conv2); a filled cell means
// "this filter reads this map". Linked to hover both ways: focusing a conv2 unit marks its
// column, and pointing at a column focuses that filter's centre unit in the network view.
// Hidden for models without a table.
//
// renderConnections(el, state, {onFocus(focus | null)})

import { connectionTable, focusedFilter, tableRuns } from "../connections.js";
import { focusUnit } from "../state.js";

function build(el, t, onFocus) {
  const [, H, W] = t.stage.shape;
  const table = document.createElement("table");
  table.className = "conn-table";
  const caption = document.createElement("caption");
  caption.textContent = `Which ${t.source.name} maps each ${t.stage.name} filter reads`;
  table.append(caption);
  const head = table.createTHead().insertRow();
  head.append(Object.assign(document.createElement("th"), { textContent: "map \\ filter", className: "corner" }));
  for (let f = 0; f < t.filters; f++) {
    head.append(Object.assign(document.createElement("th"), { textContent: String(f), scope: "col" }));
  }
  const body = table.createTBody();
  for (let m = 0; m < t.maps; m++) {
    const row = body.insertRow();
    row.append(Object.assign(document.createElement("th"), { textContent: String(m), scope: "row" }));
    for (let f = 0; f < t.filters; f++) {
      const cell = row.insertCell();
      cell.dataset.filter = String(f);
      cell.dataset.map = String(m);
      if (t.reads(f, m)) cell.className = "on";
      cell.title = `${t.stage.name} filter ${f} ${t.reads(f, m) ? "reads" : "does not read"} ${t.source.name} map ${m}`;
    }
  }
  // Pointing at a column focuses that filter's centre unit: the network view then shows it.
  table.addEventListener("pointerover", (e) => {
    const f = e.target.closest("[data-filter]")?.dataset.filter;
    if (f !== undefined) onFocus({ layer: t.stage.name, unit: [Number(f), H >> 1, W >> 1] });
  });
  table.addEventListener("pointerleave", () => onFocus(null));
  const note = document.createElement("p");
  note.className = "note";
  const runs = tableRuns(t);
  const pairs = runs.reduce((n, r) => n + (r.to - r.from + 1) * r.count, 0);
  const part = (r, i) => `${i ? "" : "Filters "}${r.from === r.to ? r.from : `${r.from}–${r.to}`} read${r.from === r.to ? "s" : ""} ${r.count === t.maps ? `all ${r.count}` : r.count}${i ? "" : " maps"}`;
  note.textContent = `${runs.map(part).join(", ")}: ${pairs} of ${t.maps * t.filters} map-filter pairs, so fewer weights, and filters that see different maps learn different features (LeCun et al. 1998).`;
  el.replaceChildren(Object.assign(document.createElement("h2"), { textContent: "Connection table" }), table, note);
}

export function renderConnections(el, state, { onFocus }) {
  const layers = state.model?.layers;
  const t = connectionTable(layers);
  el.hidden = !t;
  if (!t) { el.replaceChildren(); delete el.dataset.key; return; }
  const key = `${state.model.name}:${t.stage.name}`;
  if (el.dataset.key !== key) {
    build(el, t, onFocus);
    el.dataset.key = key;
  }
  const f = focusedFilter(layers, focusUnit(state));
  el.dataset.filter = f ?? "";
  for (const cell of el.querySelectorAll("td, thead th")) {
    const cf = cell.dataset.filter ?? cell.textContent;
    cell.classList.toggle("focus", f !== null && cf === String(f) && !cell.classList.contains("corner"));
  }
}
