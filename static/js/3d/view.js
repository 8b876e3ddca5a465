// The 3D tab as tabs.js mounts it: mount(el, {store}) -> {show, hide}.
//
// Composes the 3D view (view3d.js) with the page's own numbers panel and legend (views/panel.js,
// views/legend.js), so a unit hovered in 3D is explained exactly as in 2D, from the same
// /api/explain answer that live.js writes to the store. While this tab is open it borrows the
// Network tab's drawing side (pad, tools, preprocessing) and gives it back on hide: the very
// same pad element, so the drawing survives switching and the planes update live as you draw.
import { focusUnit } from "../state.js";
import { renderLegend } from "../views/legend.js";
import { colourNames } from "../channels.js";
import { stageFloor } from "../ranges.js";
import { renderPanel, HINTS } from "../views/panel.js";
import { mount3D } from "./view3d.js";

export function mount(el, { store }) {
  el.style.cssText = "display:flex;gap:10px;padding:8px 10px;min-height:0;";
  const side = document.createElement("div"); // the borrowed drawing side goes here
  side.style.cssText = "display:flex;flex:none;min-height:0;";
  const main = document.createElement("div");
  main.style.cssText = "display:flex;flex-direction:column;flex:1;min-width:0;min-height:0;gap:6px;";
  const viewEl = document.createElement("div");
  viewEl.style.cssText = "display:flex;flex-direction:column;flex:1 1 0;min-height:300px;";
  const foot = document.createElement("div");
  foot.className = "net-foot";
  const legend = document.createElement("div");
  legend.className = "legend";
  legend.setAttribute("aria-label", "Colour scale");
  foot.append(legend);
  const panel = document.createElement("section");
  panel.className = "explain";
  // a fixed share of the height: the canvas must not jump when an explanation arrives
  panel.style.cssText = "flex:0 0 40%;overflow:auto;";
  panel.id = "explain-3d";
  panel.setAttribute("aria-live", "polite");
  panel.setAttribute("aria-label", "How the selected unit was computed");
  main.append(viewEl, foot, panel);
  el.replaceChildren(side, main);

  // ?gl=expanded or ?gl=instanced draw the units another way (bench/page3d.py compares them)
  const mode = new URLSearchParams(location.search).get("gl") ?? "atlas";
  const view = mount3D(viewEl, store, { mode });
  let visible = false;
  let borrowed = null; // {node, placeholder} while the drawing side is here

  function renderInfo(s) {
    if (!visible || view.error) return;
    renderPanel(panel, s, view.panelView(), HINTS["3d"]);
    const f = focusUnit(s);
    const plane = f ? view.planeOf(f.layer) : null;
    // Nothing focused: the first conv layer by kind keeps a legend (an imported model names
    // its stages its own way).
    const first = s.model?.layers?.find((l) => l.kind === "conv")?.name;
    const p = plane ?? (first ? view.planeOf(first) : null);
    // named as the 2D legend names the column: "conv1 + relu" when the activation is folded in
    const shown = p?.shown ?? first;
    renderLegend(legend, view.scaleOf(shown), p ? `${p.label} ${p.sublabel ?? ""}`.trim() : first ?? "", p?.kind, { floor: stageFloor(s.trace?.layers, shown), colours: colourNames(s.model) });
  }
  const offs = [
    store.subscribe(renderInfo, ["hover", "pinned", "explanation", "trace", "foldActivations"]),
    store.subscribe(() => { if (visible) view.redraw?.(); }, ["projector"]),   // labels re-measure
  ];

  return {
    show() {
      visible = true;
      const node = document.querySelector("#view-network > .side");
      if (node && !borrowed) {
        const placeholder = document.createComment("drawing side: borrowed by the 3D tab");
        node.before(placeholder);
        side.append(node);
        borrowed = { node, placeholder };
      }
      renderInfo(store.get());
      view.redraw?.();
    },
    hide() {
      visible = false;
      if (borrowed) {
        borrowed.placeholder.replaceWith(borrowed.node);
        borrowed = null;
      }
    },
    destroy() {
      for (const off of offs) off();
      view.destroy();
    },
    view,
  };
}
