// HTML labels floating over the 3D canvas: each plane's name, shape and colour range above it,
// and the class names under the output rows. HTML rather than textured quads: crisp at any
// zoom, selectable fonts, and ~30 elements cost nothing to move once per frame.
import { project } from "./math.js";

const fmt = (v) => (Math.abs(v) >= 100 || v === 0 ? String(Math.round(v)) : String(+v.toPrecision(2)));

// Labels keep this many px apart: boxes that merely touched read as one run-on label
// ("pool2 16×5×5 [-2 … 2]" sitting on "fc1 120 [-2 … 2]").
export const LABEL_GAP = 4;

// Does screen box [x0, y0, x1, y1] come within `gap` px of any box already shown?
export function clashes(box, shown, gap = LABEL_GAP) {
  return shown.some((o) => box[0] < o[2] + gap && o[0] < box[2] + gap && box[1] < o[3] + gap && o[1] < box[3] + gap);
}

// Style writes only when something changed: each one invalidates style for the overlay.
function show(item, on) {
  if (item.on === on) return;
  item.on = on;
  item.el.style.display = on ? "" : "none";
}

export function createLabels(overlay) {
  let items = []; // {el, at: [x, y, z], plane?}
  let projector = false;
  // The focused unit's name and value, next to it: the eye is on the canvas, not the panel.
  const tip = document.createElement("div");
  tip.className = "view3d-tip";
  tip.style.cssText = "position:absolute;left:0;top:0;white-space:nowrap;display:none;z-index:1;"
    + "background:#ffd600;color:#111;padding:1px 5px;border-radius:3px;font-weight:600;";
  let tipAt = null;

  function make(text, cls, at) {
    const el = document.createElement("div");
    el.className = cls;
    el.textContent = text;
    el.style.cssText = "position:absolute;left:0;top:0;white-space:nowrap;transform:translate(-50%,-100%);"
      // a plain dark pill, not a blurred text-shadow: the overlay repaints on every camera move
      // (no will-change either: 30 compositor layers cost more than they save in software)
      + "background:rgba(20,22,27,.82);padding:0 3px;border-radius:3px;";
    overlay.append(el);
    return { el, at };
  }

  return {
    setLayout(layout) {
      overlay.replaceChildren(tip);
      items = [];
      for (const plane of layout.planes) {
        const item = make(`${plane.label} ${plane.shape.join("×")}`, "view3d-label", [0, plane.top + 1.5, plane.z]);
        item.plane = plane;
        item.base = item.el.textContent;
        items.push(item);
        if (!plane.labels) continue;
        plane.labels.forEach((text, i) => {
          const r = Math.floor(i / plane.perRow);
          const x = plane.left + ((i % plane.perRow) + 0.5) * plane.pitch;
          const y = plane.top - (r + 1) * plane.pitch - 0.2;
          const it = make(text, "view3d-class", [x, y, plane.z]);
          it.el.style.transform = "translate(-50%,0)";
          it.below = true;
          it.group = plane.name;
          items.push(it);
        });
      }
    },
    // Colour range of each plane's scale after the name ("−2 … 2"), as the 2D legend reads it.
    setScales(scales) {
      for (const item of items) {
        if (!item.plane) continue;
        const s = scales.get(item.plane.name);
        item.el.textContent = s ? `${item.base}  [${s.scale.domain.map(fmt).join(" … ")}]` : item.base;
        item.w = 0; // re-measure: the text changed
      }
    },
    // The focused unit's tip: text at world point `at`, or null to hide it.
    setTip(text, at) {
      tipAt = at;
      tip.textContent = text ?? "";
      tip.style.display = at ? "" : "none";
    },
    // Move every label to its anchor's screen position. Nearer labels win: one that would
    // overlap a nearer one is hidden, so the far end of the stack does not become a smear.
    place(viewProj, width, height) {
      // Projector mode changes the font: measure every label again.
      const big = document.body.classList.contains("projector");
      if (big !== projector) { projector = big; for (const item of items) item.w = 0; }
      const shown = [];
      const crowded = new Set();   // planes whose class names do not all fit
      const t = tipAt && project(viewProj, tipAt, width, height);
      tip.style.display = t && t.depth < 1 ? "" : "none";
      if (t) {
        tip.style.transform = `translate(${t.x.toFixed(0)}px,${t.y.toFixed(0)}px) translate(12px,-130%)`;
        shown.push([t.x + 12, t.y - 30, t.x + 12 + tip.offsetWidth, t.y]); // labels give way to it
      }
      for (const item of items) {
        const p = project(viewProj, item.at, width, height);
        item.p = p && p.depth < 1 && p.x > -50 && p.x < width + 50 && p.y > -20 && p.y < height + 20 ? p : null;
      }
      const order = items.filter((it) => it.p).sort((a, b) => a.p.depth - b.p.depth);
      for (const item of items) if (!item.p) show(item, false);
      for (const item of order) {
        if (!item.w) {
          show(item, true);
          item.w = item.el.offsetWidth;
          item.h = item.el.offsetHeight;
        }
        const x0 = item.p.x - item.w / 2;
        const y0 = item.below ? item.p.y : item.p.y - item.h;
        const box = [x0, y0, x0 + item.w, y0 + item.h];
        const clash = clashes(box, shown);
        show(item, !clash);
        if (clash) {
          if (item.group) crowded.add(item.group);
          continue;
        }
        shown.push(box);
        const shift = item.below ? "translate(-50%,0)" : "translate(-50%,-100%)";
        const transform = `translate(${item.p.x.toFixed(0)}px,${item.p.y.toFixed(0)}px) ${shift}`;
        if (transform !== item.transform) item.el.style.transform = item.transform = transform;
      }
      // A plane's class names all or none: a lone "9" under ten rows reads as a mistake.
      if (crowded.size) for (const item of items) if (crowded.has(item.group)) show(item, false);
    },
  };
}
