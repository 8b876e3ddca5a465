// HTML labels floating over the 3D canvas: each plane's name, shape and colour range above it,
// and the class names under the output rows. HTML rather than textured quads: crisp at any
// zoom, selectable fonts, and ~30 elements cost nothing to move once per frame.
import { project } from "./math.js";
import { stageFloor } from "../ranges.js";
import { rangeText } from "../channels.js";

const fmt = (v) => (Math.abs(v) >= 100 || v === 0 ? String(Math.round(v)) : String(+v.toPrecision(2)));

// Labels keep this many px apart: boxes that merely touched read as one run-on label
// ("pool2 16×5×5 [-2 … 2]" sitting on "fc1 120 [-2 … 2]").
export const LABEL_GAP = 4;

// Does screen box [x0, y0, x1, y1] come within `gap` px of any box already shown?
export function clashes(box, shown, gap = LABEL_GAP) {
  return shown.some((o) => box[0] < o[2] + gap && o[0] < box[2] + gap && box[1] < o[3] + gap && o[1] < box[3] + gap);
}

// Where a plane's name may go, in order of preference: centred above it, centred below it,
// over its left corner, over its right corner, beside its right or left edge. ax/ay: the share of the label's width/height
// that lies left of/above its anchor. A label that clashes in one spot tries the next, so the
// overview keeps every plane's name instead of dropping the ones behind a longer neighbour.
export function labelSpots(plane) {
  const mid = plane.left + plane.width / 2, above = plane.top + 1.5, below = plane.top - plane.height - 1.5;
  return [
    { at: [mid, above, plane.z], ax: 0.5, ay: 1 },
    { at: [mid, below, plane.z], ax: 0.5, ay: 0 },
    { at: [plane.left, above, plane.z], ax: 0, ay: 1 },
    { at: [plane.left + plane.width, above, plane.z], ax: 1, ay: 1 },
    { at: [plane.left + plane.width + 1.5, plane.top - plane.height / 2, plane.z], ax: 0, ay: 0.5 },
    { at: [plane.left - 1.5, plane.top - plane.height / 2, plane.z], ax: 1, ay: 0.5 },
  ];
}

// Screen box of a w×h label whose anchor projects to p.
export const boxAt = (p, w, h, spot) => {
  const x0 = p.x - spot.ax * w, y0 = p.y - spot.ay * h;
  return [x0, y0, x0 + w, y0 + h];
};

// Is world point `at` hidden from `eye` by a plane other than `own`? True when the sight line
// crosses that plane's rectangle before reaching the point (planes are opaque squares; seen
// face-on from the Front preset, the input hides the names of every plane behind it).
export function occluded(eye, at, planes, own = null) {
  const dz = at[2] - eye[2];
  if (Math.abs(dz) < 1e-9) return false;
  return planes.some((q) => {
    if (q === own) return false;
    const t = (q.z - eye[2]) / dz;
    if (!(t > 0 && t < 1 - 1e-9)) return false;
    const x = eye[0] + (at[0] - eye[0]) * t, y = eye[1] + (at[1] - eye[1]) * t;
    return x >= q.left && x <= q.left + q.width && y <= q.top && y >= q.top - q.height;
  });
}

// Style writes only when something changed: each one invalidates style for the overlay.
function show(item, on) {
  if (item.on === on) return;
  item.on = on;
  item.el.style.display = on ? "" : "none";
}

export function createLabels(overlay) {
  let items = []; // {el, spots: [{at: [x, y, z], ax, ay}], plane?, group?}
  let planes = [];
  let projector = false;
  // The focused unit's name and value, next to it: the eye is on the canvas, not the panel.
  const tip = document.createElement("div");
  tip.className = "view3d-tip";
  tip.style.cssText = "position:absolute;left:0;top:0;white-space:nowrap;display:none;z-index:1;"
    + "background:#ffd600;color:#111;padding:1px 5px;border-radius:3px;font-weight:600;";
  let tipAt = null;

  function make(text, cls, spots) {
    const el = document.createElement("div");
    el.className = cls;
    el.textContent = text;
    el.style.cssText = "position:absolute;left:0;top:0;white-space:nowrap;transform:translate(-50%,-100%);"
      // a plain dark pill, not a blurred text-shadow: the overlay repaints on every camera move
      // (no will-change either: 30 compositor layers cost more than they save in software)
      + "background:rgba(20,22,27,.82);padding:0 3px;border-radius:3px;";
    overlay.append(el);
    return { el, spots, texts: [text], ws: [], cur: 0 };
  }

  function setText(item, t) {
    if (item.cur !== t) { item.el.textContent = item.texts[t]; item.cur = t; }
  }
  // Width of the item's text t (and its height), measured once per text.
  function measure(item, t) {
    if (item.ws[t] == null) {
      setText(item, t);
      show(item, true);
      item.ws[t] = item.el.offsetWidth;
      item.h = item.el.offsetHeight;
    }
    return item.ws[t];
  }
  function moveTo(item, p, spot) {
    const transform = `translate(${p.x.toFixed(0)}px,${p.y.toFixed(0)}px) translate(${-spot.ax * 100}%,${-spot.ay * 100}%)`;
    if (transform !== item.transform) item.el.style.transform = item.transform = transform;
  }

  return {
    setLayout(layout) {
      overlay.replaceChildren(tip);
      items = [];
      planes = layout.planes;
      for (const plane of layout.planes) {
        const item = make(`${plane.label} ${plane.shape.join("×")}`, "view3d-label", labelSpots(plane));
        item.plane = plane;
        item.base = item.el.textContent;
        item.texts = [item.base, plane.label];
        items.push(item);
        if (!plane.labels) continue;
        plane.labels.forEach((text, i) => {
          const r = Math.floor(i / plane.perRow);
          const x = plane.left + ((i % plane.perRow) + 0.5) * plane.pitch;
          const y = plane.top - (r + 1) * plane.pitch - 0.2;
          const it = make(text, "view3d-class", [{ at: [x, y, plane.z], ax: 0.5, ay: 0 }]);
          it.el.style.transform = "translate(-50%,0)";
          it.own = plane;
          it.group = plane.name;
          items.push(it);
        });
      }
    },
    // Colour range of each plane's scale after the name ("−2 … 2"), as the 2D legend reads it.
    // `colours`: the input's channel names (channels.js) when it is a photo: "input 3×64×64 RGB".
    setScales(scales, stages = null, colours = null) {
      for (const item of items) {
        if (!item.plane) continue;
        const s = scales.get(item.plane.name);
        // After a ReLU nothing is negative: "[0 … 5]", not a promise of blue (ranges.js).
        const [lo, hi] = s ? s.scale.domain : [0, 0];
        const from = s && s.scale.kind === "diverging" && stageFloor(stages, s.stage) >= 0 ? 0 : lo;
        // A normalised input is painted per channel on its own declared range (color.js
        // scaleForInput): say so, with the span those ranges cover, not one rounded stretch.
        const range = !s ? "" : s.scale.channels
          ? `  [${rangeText(s.scale.channels.map((c) => c.domain), fmt).replace(/-/g, "\u2212")}, each channel its own]`
          : `  [${[from, hi].map(fmt).join(" … ")}]`;
        const base = colours && item.plane.kind === "input" ? `${item.base} ${colours.map((c) => c[0].toUpperCase()).join("")}` : item.base;
        item.texts = [base + range, item.plane.label];
        item.ws = []; // re-measure: the text changed
        item.cur = -1;
        setText(item, 0);
      }
    },
    // The focused unit's tip: text at world point `at`, or null to hide it.
    setTip(text, at) {
      tipAt = at;
      tip.textContent = text ?? "";
      tip.style.display = at ? "" : "none";
    },
    // Move every label to its anchor's screen position. Nearer labels win: one that would
    // overlap a nearer one tries its other spots and is hidden when none is free, so the far
    // end of the stack does not become a smear; one whose anchor a nearer plane hides (seen
    // from the eye) is hidden, so the Front preset does not pile every name on the input.
    place(viewProj, width, height, eye = null) {
      // Projector mode changes the font: measure every label again.
      const big = document.body.classList.contains("projector");
      if (big !== projector) { projector = big; for (const item of items) item.ws = []; }
      const shown = [];
      const t = tipAt && project(viewProj, tipAt, width, height);
      tip.style.display = t && t.depth < 1 ? "" : "none";
      if (t) {
        tip.style.transform = `translate(${t.x.toFixed(0)}px,${t.y.toFixed(0)}px) translate(12px,-130%)`;
        shown.push([t.x + 12, t.y - 30, t.x + 12 + tip.offsetWidth, t.y]); // labels give way to it
      }
      const onScreen = (p) => p && p.depth < 1 && p.x > -50 && p.x < width + 50 && p.y > -20 && p.y < height + 20;
      for (const item of items) {
        item.ps = item.spots.map((spot) => {
          const p = project(viewProj, spot.at, width, height);
          return onScreen(p) && !(eye && occluded(eye, spot.at, planes, item.plane ?? item.own)) ? p : null;
        });
        item.p = item.ps.find((p) => p) ?? null;   // its nearest visible spot orders it
      }
      for (const item of items) if (!item.p) show(item, false);
      // A name cut by the canvas edge reads as another word: a spot must hold all of it.
      const inside = (b) => b[0] >= 0 && b[1] >= 0 && b[2] <= width && b[3] <= height;
      // Plane names first, nearest first: each takes its first free spot, in full ("conv2
      // 16×10×10 [0 … 10]") or, where no spot has room for that, by name alone ("conv2").
      const names = items.filter((it) => it.p && !it.group).sort((a, b) => a.p.depth - b.p.depth);
      for (const item of names) {
        let placed = null;
        for (let t = 0; t < item.texts.length && !placed; t++) {
          const w = measure(item, t);
          const k = item.ps.findIndex((p, i) => {
            const box = p && boxAt(p, w, item.h, item.spots[i]);
            return box && inside(box) && !clashes(box, shown);
          });
          if (k >= 0) placed = { t, k, w };
        }
        show(item, !!placed);
        if (!placed) continue;
        setText(item, placed.t);
        const p = item.ps[placed.k], spot = item.spots[placed.k];
        shown.push(boxAt(p, placed.w, item.h, spot));
        item.spot = placed.k;
        moveTo(item, p, spot);
      }
      // Then each plane's class names, all or none: a lone "9" under ten rows reads as a mistake.
      const groups = new Map();
      for (const it of items) if (it.group) groups.set(it.group, [...(groups.get(it.group) ?? []), it]);
      for (const group of groups.values()) {
        const boxes = group.every((it) => it.p) ? group.map((it) => boxAt(it.p, measure(it, 0), it.h, it.spots[0])) : null;
        const fits = boxes && boxes.every((box, i) => !clashes(box, shown) && !clashes(box, boxes.slice(0, i)));
        group.forEach((it) => {
          show(it, !!fits);
          if (fits) moveTo(it, it.p, it.spots[0]);
        });
        if (fits) shown.push(...boxes);
      }
    },
  };
}
