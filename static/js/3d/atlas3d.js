// The units as textured sheets: one quad per map (or per block of 1-D nodes) whose texels are the
// units' colours, all packed into one atlas texture. Pure: no DOM, no WebGL.
//
// Why: software WebGL (SwiftShader, this project's test and bench renderer) pays per triangle.
// ~70 sheet quads cost a fraction of 15,668 unit quads (bench/page3d.py prints both), yet every
// unit is still drawn as its own square: the fragment shader finds the cell under each pixel,
// reads that unit's texel and leaves the gap between 1-D nodes empty. Geometry and picking are
// exactly the layout's, so what the student hovers is what is drawn.
import { unravel } from "../tensor.js";

export const ATLAS_WIDTH = 512;

// sheets: [{x0, y0 (atlas texel origin), cols, rows, corners: [left, top, right, bottom], z,
// fill (square side / pitch), pitch}]; texelOf: Int32Array (unit instance index -> atlas texel).
export function buildAtlas(layout, width = ATLAS_WIDTH) {
  const sheets = [];
  for (const plane of layout.planes) {
    if (plane.type === "grid") {
      const [C, H, W] = plane.shape;
      for (let c = 0; c < C; c++) {
        const left = plane.left + (c % plane.cols) * (W + plane.gap);
        const top = plane.top - Math.floor(c / plane.cols) * (H + plane.gap);
        sheets.push({ plane, c, cols: W, rows: H, corners: [left, top, left + W, top - H], z: plane.z,
          fill: plane.size / plane.pitch, pitch: plane.pitch });
      }
    } else {
      const w = plane.perRow * plane.pitch;
      const h = plane.rows * plane.pitch;
      sheets.push({ plane, c: 0, cols: plane.perRow, rows: plane.rows, z: plane.z,
        corners: [plane.left, plane.top, plane.left + w, plane.top - h], fill: plane.size / plane.pitch, pitch: plane.pitch });
    }
  }
  // Shelf packing: left to right, a new shelf when the row is full. Maps of one stage share a
  // size, so shelves come out nearly full.
  let x = 0;
  let y = 0;
  let shelf = 0;
  for (const s of sheets) {
    if (s.cols > width) throw new Error(`a sheet of ${s.cols} texels does not fit an atlas ${width} wide`);
    if (x + s.cols > width) { x = 0; y += shelf; shelf = 0; }
    s.x0 = x;
    s.y0 = y;
    x += s.cols;
    shelf = Math.max(shelf, s.rows);
  }
  const height = y + shelf;
  const texelOf = new Int32Array(layout.count);
  const byPlane = new Map();
  for (const s of sheets) {
    if (!byPlane.has(s.plane)) byPlane.set(s.plane, []);
    byPlane.get(s.plane).push(s);
  }
  for (const plane of layout.planes) {
    const own = byPlane.get(plane);
    for (let k = 0; k < plane.count; k++) {
      let s, tx, ty;
      if (plane.type === "grid") {
        const [c, yy, xx] = unravel(plane.shape, k);
        s = own[c]; tx = xx; ty = yy;
      } else {
        s = own[0]; tx = k % plane.perRow; ty = Math.floor(k / plane.perRow);
      }
      texelOf[plane.start + k] = (s.y0 + ty) * width + s.x0 + tx;
    }
  }
  return { width, height, sheets, texelOf };
}

// Per-unit RGBA (instance order) -> atlas texels; texels of no unit stay transparent.
export function scatterColors(atlas, rgba, out = new Uint8Array(atlas.width * atlas.height * 4)) {
  const src = new Uint32Array(rgba.buffer, rgba.byteOffset, rgba.length / 4);
  const dst = new Uint32Array(out.buffer, out.byteOffset, out.length / 4);
  const { texelOf } = atlas;
  for (let u = 0; u < texelOf.length; u++) dst[texelOf[u]] = src[u];
  return out;
}

// Vertex arrays for the sheet quads (two triangles each): xyz, uv (cells from the top-left
// corner), sheet (x0, y0, cols, rows) and cell (fill, pitch).
export function sheetVertices(atlas) {
  const n = atlas.sheets.length * 6;
  const position = new Float32Array(n * 3);
  const uv = new Float32Array(n * 2);
  const sheet = new Float32Array(n * 4);
  const cell = new Float32Array(n * 2);
  atlas.sheets.forEach((s, i) => {
    const [l, t, r, b] = s.corners;
    const corners = [[l, t, 0, 0], [r, t, s.cols, 0], [r, b, s.cols, s.rows], [l, t, 0, 0], [r, b, s.cols, s.rows], [l, b, 0, s.rows]];
    corners.forEach(([x, y, u, v], k) => {
      const o = i * 6 + k;
      position.set([x, y, s.z], o * 3);
      uv.set([u, v], o * 2);
      sheet.set([s.x0, s.y0, s.cols, s.rows], o * 4);
      cell.set([s.fill, s.pitch], o * 2);
    });
  });
  return { position, uv, sheet, cell, count: n };
}
