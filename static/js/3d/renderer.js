// WebGL renderer for the 3D view: every unit as a coloured square, in a handful of draw calls.
//
// Passes, in order: map backings (plain triangles), units (ONE draw call), connection lines,
// then highlight rings (hollow squares drawn without depth test, so a source window stays
// visible behind other planes). WebGL2 where available, else WebGL1; both run the same GLSL ES
// 1.00 shaders (shaders3d.js). createRenderer returns {error} when there is no WebGL at all, and
// the page keeps its 2D view.
//
// How the units are drawn (`mode`), measured in this project's target renderer, headless
// Chromium on SwiftShader (ANGLE -> Vulkan), for the 15,668 units of the unfolded reference net
// (bench/page3d.py prints all three side by side):
//  - "atlas" (default): one quad per map / node block (~70 quads) textured with the units'
//    colours from one atlas texture (atlas3d.js); the fragment shader draws each unit's square.
//    A forward response re-uploads only the atlas (one texSubImage2D).
//  - "expanded": one plain drawArrays of every unit's own quad, pre-expanded (94k vertices);
//    a response re-uploads the per-vertex colour buffer. About 2-3x slower than the atlas here.
//  - "instanced": one instanced quad per unit (WebGL2 or ANGLE_instanced_arrays). SwiftShader
//    pays per instance: ~285 ms per frame, 15-20x slower than "expanded". A GPU would not care.
import { buildAtlas, scatterColors, sheetVertices } from "./atlas3d.js";
import { CELL_FS, CELL_VS, FLAT_VS, FS, INSTANCED_VS, SHEET_FS, SHEET_VS } from "./shaders3d.js";

// Two triangles of a unit square centred on the unit, in units of its size.
const QUAD = new Float32Array([-0.5, -0.5, 0.5, -0.5, 0.5, 0.5, -0.5, -0.5, 0.5, 0.5, -0.5, 0.5]);

// A hollow square (ring) from half-size `inner` to `outer`: four sides, two triangles each.
function ring(inner, outer) {
  const v = [];
  const side = (ax, ay, bx, by, cx, cy, dx, dy) => v.push(ax, ay, bx, by, cx, cy, ax, ay, cx, cy, dx, dy);
  side(-outer, -outer, outer, -outer, inner, -inner, -inner, -inner); // bottom
  side(outer, -outer, outer, outer, inner, inner, inner, -inner); // right
  side(outer, outer, -outer, outer, -inner, inner, inner, inner); // top
  side(-outer, outer, -outer, -outer, -inner, -inner, -inner, inner); // left
  return new Float32Array(v);
}
// Inside a pitch-1 cell with 0.9 squares the ring covers the unit's edge and most of the gap.
const RING = ring(0.42, 0.62);

// Each unit's mesh placed at its centre and scaled by its size: xyz per vertex in `positions`,
// and (corner x, corner y, size) per vertex in `cells` for the edge shading.
export function expandMesh(mesh, inst) {
  const n = inst.length / 4;
  const mv = mesh.length / 2;
  const positions = new Float32Array(n * mv * 3);
  const cells = new Float32Array(n * mv * 3);
  for (let u = 0, o = 0; u < n; u++) {
    const x = inst[u * 4], y = inst[u * 4 + 1], z = inst[u * 4 + 2], s = inst[u * 4 + 3];
    for (let v = 0; v < mv; v++, o += 3) {
      positions[o] = x + mesh[v * 2] * s;
      positions[o + 1] = y + mesh[v * 2 + 1] * s;
      positions[o + 2] = z;
      cells[o] = mesh[v * 2];
      cells[o + 1] = mesh[v * 2 + 1];
      cells[o + 2] = s;
    }
  }
  return { positions, cells };
}

// Each unit's RGBA repeated for every vertex of its mesh (4-byte words copied as one).
export function expandColors(rgba, verticesPerUnit, out = new Uint8Array(rgba.length * verticesPerUnit)) {
  const src = new Uint32Array(rgba.buffer, rgba.byteOffset, rgba.length / 4);
  const dst = new Uint32Array(out.buffer, out.byteOffset, out.length / 4);
  for (let u = 0, o = 0; u < src.length; u++) {
    const c = src[u];
    for (let v = 0; v < verticesPerUnit; v++) dst[o++] = c;
  }
  return out;
}

export function createRenderer(canvas, { background = [0.16, 0.17, 0.2, 1], mode = "atlas" } = {}) {
  // antialias off: SwiftShader's multisampling costs more than it shows on 1-px-ish squares
  const attrs = { antialias: false, preserveDrawingBuffer: true, alpha: false };
  let gl = canvas.getContext("webgl2", attrs);
  let instancing = null;
  if (gl) {
    instancing = { divisor: (l, d) => gl.vertexAttribDivisor(l, d), draw: (m, f, n, k) => gl.drawArraysInstanced(m, f, n, k) };
  } else {
    gl = canvas.getContext("webgl", attrs) || canvas.getContext("experimental-webgl", attrs);
    if (!gl) return { error: "WebGL is not available in this browser" };
    const ext = gl.getExtension("ANGLE_instanced_arrays");
    if (ext) instancing = { divisor: (l, d) => ext.vertexAttribDivisorANGLE(l, d), draw: (m, f, n, k) => ext.drawArraysInstancedANGLE(m, f, n, k) };
  }
  const version = typeof WebGL2RenderingContext !== "undefined" && gl instanceof WebGL2RenderingContext ? 2 : 1;
  // instancing only where asked for and available; anything else unknown draws the atlas
  const unitMode = mode === "instanced" ? (instancing ? "instanced" : "expanded") : mode === "expanded" ? "expanded" : "atlas";
  const useInstancing = unitMode === "instanced";
  const instProg = program(gl, INSTANCED_VS, FS);
  const flatProg = program(gl, FLAT_VS, FS);
  const cellProg = program(gl, CELL_VS, CELL_FS);
  const sheetProg = program(gl, SHEET_VS, SHEET_FS);
  const loc = (p, names) => Object.fromEntries(names.map((n) => [n, n.startsWith("u_") ? gl.getUniformLocation(p, n) : gl.getAttribLocation(p, n)]));
  const I = loc(instProg, ["a_corner", "a_inst", "a_color", "u_viewProj"]);
  const F = loc(flatProg, ["a_position", "a_color", "u_viewProj"]);
  const S = loc(sheetProg, ["a_position", "a_uv", "a_sheet", "a_cell", "u_viewProj", "u_pxScale", "u_atlas", "u_atlasSize", "u_edge"]);
  const C = loc(cellProg, ["a_position", "a_color", "a_cell", "u_viewProj", "u_pxScale", "u_edge"]);
  const stats = { drawCalls: 0 };

  const upload = (buffer, data, usage) => {
    gl.bindBuffer(gl.ARRAY_BUFFER, buffer);
    gl.bufferData(gl.ARRAY_BUFFER, data, usage);
  };
  function attrib(location, buffer, size, type, normalized, divisor) {
    if (location < 0) return;
    gl.bindBuffer(gl.ARRAY_BUFFER, buffer);
    gl.enableVertexAttribArray(location);
    gl.vertexAttribPointer(location, size, type, normalized, 0, 0);
    if (instancing) instancing.divisor(location, divisor);
  }
  function release(...locations) {
    for (const l of locations) if (l >= 0) { if (instancing) instancing.divisor(l, 0); gl.disableVertexAttribArray(l); }
  }

  // Plain geometry: xyz + RGBA per vertex.
  function flatSet() {
    return { pos: gl.createBuffer(), color: gl.createBuffer(), count: 0 };
  }
  function drawFlat(mode, set, viewProj) {
    if (!set.count) return;
    gl.useProgram(flatProg);
    gl.uniformMatrix4fv(F.u_viewProj, false, viewProj);
    attrib(F.a_position, set.pos, 3, gl.FLOAT, false, 0);
    attrib(F.a_color, set.color, 4, gl.UNSIGNED_BYTE, true, 0);
    gl.drawArrays(mode, 0, set.count);
    release(F.a_position, F.a_color);
    stats.drawCalls++;
  }

  // A batch of units sharing one mesh, drawn in one call: expanded or instanced (see header).
  // `cells`: shade cell edges by on-screen size (the units); rings are plain.
  function batch(mesh, inst, cells) {
    const mv = mesh.length / 2;
    const meshBuf = gl.createBuffer();
    upload(meshBuf, mesh, gl.STATIC_DRAW);
    const b = { n: 0, flat: flatSet(), cell: gl.createBuffer(), inst: gl.createBuffer(), color: gl.createBuffer(), scratch: null };
    return {
      setUnits(positions, usage = gl.STATIC_DRAW) {
        b.n = positions.length / 4;
        if (inst) {
          upload(b.inst, positions, usage);
          upload(b.color, new Uint8Array(b.n * 4), gl.DYNAMIC_DRAW);
        } else {
          const expanded = expandMesh(mesh, positions);
          upload(b.flat.pos, expanded.positions, usage);
          if (cells) upload(b.cell, expanded.cells, usage);
          b.flat.count = b.n * mv;
          b.scratch = new Uint8Array(b.n * mv * 4);
          upload(b.flat.color, b.scratch, gl.DYNAMIC_DRAW);
        }
      },
      setColors(rgba) {
        gl.bindBuffer(gl.ARRAY_BUFFER, inst ? b.color : b.flat.color);
        gl.bufferSubData(gl.ARRAY_BUFFER, 0, inst ? rgba : expandColors(rgba, mv, b.scratch));
      },
      draw(viewProj, pxScale) {
        if (!b.n) return;
        if (!inst && !cells) { drawFlat(gl.TRIANGLES, b.flat, viewProj); return; }
        if (!inst) {
          gl.useProgram(cellProg);
          gl.uniformMatrix4fv(C.u_viewProj, false, viewProj);
          gl.uniform1f(C.u_pxScale, pxScale);
          gl.uniform3f(C.u_edge, background[0], background[1], background[2]);
          attrib(C.a_position, b.flat.pos, 3, gl.FLOAT, false, 0);
          attrib(C.a_color, b.flat.color, 4, gl.UNSIGNED_BYTE, true, 0);
          attrib(C.a_cell, b.cell, 3, gl.FLOAT, false, 0);
          gl.drawArrays(gl.TRIANGLES, 0, b.flat.count);
          release(C.a_position, C.a_color, C.a_cell);
          stats.drawCalls++;
          return;
        }
        gl.useProgram(instProg);
        gl.uniformMatrix4fv(I.u_viewProj, false, viewProj);
        attrib(I.a_corner, meshBuf, 2, gl.FLOAT, false, 0);
        attrib(I.a_inst, b.inst, 4, gl.FLOAT, false, 1);
        attrib(I.a_color, b.color, 4, gl.UNSIGNED_BYTE, true, 1);
        instancing.draw(gl.TRIANGLES, 0, mv, b.n);
        release(I.a_corner, I.a_inst, I.a_color);
        stats.drawCalls++;
      },
    };
  }

  // Atlas mode: the sheet quads (static per layout) and the texture of unit colours.
  function sheets() {
    const b = { atlas: null, count: 0, texels: null, texture: gl.createTexture(),
      buf: { position: gl.createBuffer(), uv: gl.createBuffer(), sheet: gl.createBuffer(), cell: gl.createBuffer() } };
    return {
      setLayout(layout) {
        b.atlas = buildAtlas(layout);
        const v = sheetVertices(b.atlas);
        for (const k of Object.keys(b.buf)) upload(b.buf[k], v[k], gl.STATIC_DRAW);
        b.count = v.count;
        b.texels = new Uint8Array(b.atlas.width * b.atlas.height * 4);
        gl.bindTexture(gl.TEXTURE_2D, b.texture);
        gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA, b.atlas.width, b.atlas.height, 0, gl.RGBA, gl.UNSIGNED_BYTE, b.texels);
        // nearest, no mipmaps: each texel is one unit, and any size works in WebGL1 this way
        for (const [k, v2] of [[gl.TEXTURE_MIN_FILTER, gl.NEAREST], [gl.TEXTURE_MAG_FILTER, gl.NEAREST],
          [gl.TEXTURE_WRAP_S, gl.CLAMP_TO_EDGE], [gl.TEXTURE_WRAP_T, gl.CLAMP_TO_EDGE]]) gl.texParameteri(gl.TEXTURE_2D, k, v2);
      },
      setColors(rgba) {
        if (!b.atlas) return;
        scatterColors(b.atlas, rgba, b.texels);
        gl.bindTexture(gl.TEXTURE_2D, b.texture);
        gl.texSubImage2D(gl.TEXTURE_2D, 0, 0, 0, b.atlas.width, b.atlas.height, gl.RGBA, gl.UNSIGNED_BYTE, b.texels);
      },
      draw(viewProj, pxScale) {
        if (!b.count) return;
        gl.useProgram(sheetProg);
        gl.uniformMatrix4fv(S.u_viewProj, false, viewProj);
        gl.uniform1f(S.u_pxScale, pxScale);
        gl.uniform2f(S.u_atlasSize, b.atlas.width, b.atlas.height);
        gl.uniform3f(S.u_edge, background[0], background[1], background[2]);
        gl.activeTexture(gl.TEXTURE0);
        gl.bindTexture(gl.TEXTURE_2D, b.texture);
        gl.uniform1i(S.u_atlas, 0);
        attrib(S.a_position, b.buf.position, 3, gl.FLOAT, false, 0);
        attrib(S.a_uv, b.buf.uv, 2, gl.FLOAT, false, 0);
        attrib(S.a_sheet, b.buf.sheet, 4, gl.FLOAT, false, 0);
        attrib(S.a_cell, b.buf.cell, 2, gl.FLOAT, false, 0);
        gl.drawArrays(gl.TRIANGLES, 0, b.count);
        release(S.a_position, S.a_uv, S.a_sheet, S.a_cell);
        stats.drawCalls++;
      },
    };
  }

  const units = unitMode === "atlas" ? sheets() : quadsOf(batch(QUAD, useInstancing, true));
  const rings = batch(RING, useInstancing, false);
  const panels = flatSet();
  const lines = flatSet();

  return {
    version,
    mode: unitMode,
    gl,
    stats,
    // The units of a layout3D layout; fixed until the layout changes.
    setLayout: (layout) => units.setLayout(layout),
    // colors: Uint8Array RGBA per unit. The only upload a new forward response needs.
    setColors: (colors) => units.setColors(colors),
    // Triangles behind the maps: positions Float32Array xyz per vertex, colors Uint8Array RGBA.
    setPanels(positions, colors) {
      panels.count = positions.length / 3;
      upload(panels.pos, positions, gl.STATIC_DRAW);
      upload(panels.color, colors, gl.STATIC_DRAW);
    },
    // Line segments: positions xyz per end, colors RGBA per end. Empty arrays clear them.
    setLines(positions, colors) {
      lines.count = positions.length / 3;
      upload(lines.pos, positions, gl.DYNAMIC_DRAW);
      upload(lines.color, colors, gl.DYNAMIC_DRAW);
    },
    // Rings around units: inst Float32Array (x, y, z, size), colors Uint8Array RGBA per ring.
    setHighlights(inst, colors) {
      rings.setUnits(inst, gl.DYNAMIC_DRAW);
      if (inst.length) rings.setColors(colors);
    },
    // Size the drawing buffer to the canvas's CSS box × devicePixelRatio; true if it changed.
    resize(dpr) {
      const w = Math.max(1, Math.round(canvas.clientWidth * dpr));
      const h = Math.max(1, Math.round(canvas.clientHeight * dpr));
      if (canvas.width === w && canvas.height === h) return false;
      canvas.width = w;
      canvas.height = h;
      return true;
    },
    // pxScale: pixels per world unit at eye distance 1 (drawing-buffer height / 2 / tan(fovy/2)).
    draw(viewProj, pxScale = 1) {
      stats.drawCalls = 0;
      gl.viewport(0, 0, canvas.width, canvas.height);
      gl.clearColor(...background);
      gl.clear(gl.COLOR_BUFFER_BIT | gl.DEPTH_BUFFER_BIT);
      gl.enable(gl.DEPTH_TEST);
      gl.depthFunc(gl.LEQUAL);
      gl.disable(gl.BLEND);
      gl.enable(gl.POLYGON_OFFSET_FILL);
      gl.polygonOffset(1, 1); // backings sit behind their squares without z-fighting
      drawFlat(gl.TRIANGLES, panels, viewProj);
      gl.disable(gl.POLYGON_OFFSET_FILL);
      units.draw(viewProj, pxScale);
      gl.enable(gl.BLEND);
      gl.blendFunc(gl.SRC_ALPHA, gl.ONE_MINUS_SRC_ALPHA);
      gl.disable(gl.DEPTH_TEST);
      drawFlat(gl.LINES, lines, viewProj);
      rings.draw(viewProj);
    },
  };
}

// A unit quad batch behind the same interface as the sheets.
function quadsOf(b) {
  return { ...b, setLayout: (layout) => b.setUnits(layout.positions) };
}

function program(gl, vsSource, fsSource) {
  const shader = (type, src) => {
    const s = gl.createShader(type);
    gl.shaderSource(s, src);
    gl.compileShader(s);
    if (!gl.getShaderParameter(s, gl.COMPILE_STATUS)) throw new Error(`shader: ${gl.getShaderInfoLog(s)}`);
    return s;
  };
  const p = gl.createProgram();
  gl.attachShader(p, shader(gl.VERTEX_SHADER, vsSource));
  gl.attachShader(p, shader(gl.FRAGMENT_SHADER, fsSource));
  gl.linkProgram(p);
  if (!gl.getProgramParameter(p, gl.LINK_STATUS)) throw new Error(`program: ${gl.getProgramInfoLog(p)}`);
  return p;
}
