// Unit colours for the 3D view, on the 2D view's scales. Pure: no DOM, no WebGL.
//
// Each plane is painted from its `shown` stage (the activation when folded), with the same
// per-stage scale the 2D view uses (color.js scaleForStage over the stage's extent), through the
// scale's 256-entry lookup table: one table read per unit, ~15,000 per forward response.
import { lut, lutIndex, scaleForStage, scaleForInput } from "../color.js";
import { extent } from "../tensor.js";

// Colour (RGBA bytes) of every unit into `out` (Uint8Array, 4 per unit). Returns the scales
// used, by plane name, for the legend. Planes whose stage is missing from the trace go grey.
// `input`: the model's input declaration; a normalised input is painted channel by channel on
// its own range (color.js scaleForInput), as the 2D view paints it.
export function paintUnits(layout, trace, out = new Uint8Array(layout.count * 4), input = null) {
  const scales = new Map();
  for (const plane of layout.planes) {
    const record = trace && trace.byName ? trace.byName.get(plane.shown) : null;
    if (!record) {
      out.fill(96, plane.start * 4, (plane.start + plane.count) * 4);
      continue;
    }
    const [lo, hi] = extent(record.values);
    const scale = record.kind === "input" ? scaleForInput(input, record.shape[0], lo, hi) : scaleForStage(record.kind, lo, hi);
    const each = scale.channels ?? [scale];
    const tables = each.map(lut);
    const per = plane.count / each.length;   // units per channel (the plane is channel-major)
    const values = record.values;
    for (let k = 0; k < plane.count; k++) {
      const c = each.length > 1 ? Math.floor(k / per) : 0;
      const table = tables[c];
      const j = lutIndex(each[c], values[k]) * 4;
      const o = (plane.start + k) * 4;
      out[o] = table[j]; out[o + 1] = table[j + 1]; out[o + 2] = table[j + 2]; out[o + 3] = 255;
    }
    scales.set(plane.name, { stage: plane.shown, scale });
  }
  return { colors: out, scales };
}

// Triangles of a dark backing rectangle behind every map (grid planes) or row block (1-D), a
// little larger than the units, so a map reads as one sheet from any angle.
export function backings(layout, rgba = [58, 62, 72, 255]) {
  const rects = [];
  for (const plane of layout.planes) {
    const m = 0.6; // margin around the units, world units
    if (plane.type === "grid") {
      const [C, H, W] = plane.shape;
      for (let c = 0; c < C; c++) {
        const x0 = plane.left + (c % plane.cols) * (W + plane.gap);
        const y0 = plane.top - Math.floor(c / plane.cols) * (H + plane.gap);
        rects.push([x0 - m, y0 + m, x0 + W + m, y0 - H - m, plane.z]);
      }
    } else {
      rects.push([plane.left - m, plane.top + m, plane.left + plane.width + m, plane.top - plane.height - m, plane.z]);
    }
  }
  const positions = new Float32Array(rects.length * 18);
  rects.forEach(([x0, y0, x1, y1, z], r) => {
    positions.set([x0, y0, z, x1, y0, z, x1, y1, z, x0, y0, z, x1, y1, z, x0, y1, z], r * 18);
  });
  const colors = new Uint8Array(rects.length * 24);
  for (let v = 0; v < rects.length * 6; v++) colors.set(rgba, v * 4);
  return { positions, colors };
}
