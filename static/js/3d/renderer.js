// WebGL renderer for the 3D view: every unit as a coloured square, in a handful of draw calls.
//
// Passes, in order: map backings (plain triangles), units (ONE draw call for all ~15,600
// squares), connection lines, then highlight rings (hollow squares drawn without depth test, so
// a source window stays visible behind other planes). WebGL2 where available, else WebGL1; both
// run the same GLSL ES 1.00 shaders. createRenderer returns {error} when there is no WebGL at all,
// and the page keeps its 2D view.
//
// Why the units are not instanced by default: measured in this project's target, headless
// Chromium on SwiftShader (ANGLE → Vulkan), one instanced draw of 15,668 quads took ~285 ms per
// frame against ~19 ms for the same quads pre-expanded into one plain drawArrays (bench/page3d.py
// prints both). SwiftShader pays per instance; a GPU does not care either way at 94k vertices.
// So a batch expands each unit's mesh once (positions are static while drawing) and a new
// forward response re-uploads only the colour buffer (6 vertices × 4 bytes per unit, ~0.4 ms).
// `{instanced: true}` keeps the instanced path (WebGL2 or ANGLE_instanced_arrays) for comparison.

const INSTANCED_VS = `
attribute vec2 a_corner;   // mesh vertex, in units of the instance's size
attribute vec4 a_inst;     // x, y, z, size
attribute vec4 a_color;
uniform mat4 u_viewProj;
varying vec4 v_color;
void main() {
  vec3 p = a_inst.xyz + vec3(a_corner * a_inst.w, 0.0);
  gl_Position = u_viewProj * vec4(p, 1.0);
  v_color = a_color;
}`;

const FLAT_VS = `
attribute vec3 a_position;
attribute vec4 a_color;
uniform mat4 u_viewProj;
varying vec4 v_color;
void main() {
  gl_Position = u_viewProj * vec4(a_position, 1.0);
  v_color = a_color;
}`;

// Units (expanded path): a_cell is the vertex's corner within its square (±0.5) and the square's
// world size, so the fragment shader knows how many pixels the square covers and draws a 1-px
// dark edge only once squares are big enough to show it (fading in from 6 to 12 px). Far away
// the maps stay smooth images instead of a moiré of gaps; close up every unit reads as a cell.
const CELL_VS = `
attribute vec3 a_position;
attribute vec4 a_color;
attribute vec3 a_cell;
uniform mat4 u_viewProj;
uniform float u_pxScale;   // pixels per world unit at distance 1 (viewport height / 2 / tan(fovy/2))
varying vec4 v_color;
varying vec2 v_uv;
varying float v_px;
void main() {
  gl_Position = u_viewProj * vec4(a_position, 1.0);
  v_color = a_color;
  v_uv = a_cell.xy;
  v_px = a_cell.z * u_pxScale / gl_Position.w;
}`;

const CELL_FS = `
precision mediump float;
varying vec4 v_color;
varying vec2 v_uv;
varying float v_px;
uniform vec3 u_edge;
void main() {
  float fromEdge = (0.5 - max(abs(v_uv.x), abs(v_uv.y))) * v_px;
  float show = clamp((v_px - 6.0) / 6.0, 0.0, 1.0);
  float edge = (1.0 - clamp(fromEdge, 0.0, 1.0)) * show;
  gl_FragColor = vec4(mix(v_color.rgb, u_edge, edge * 0.85), v_color.a);
}`;

const FS = `
precision mediump float;
varying vec4 v_color;
void main() { gl_FragColor = v_color; }`;

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

export function createRenderer(canvas, { background = [0.16, 0.17, 0.2, 1], instanced = false } = {}) {
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
  const useInstancing = instanced && !!instancing;
  const instProg = program(gl, INSTANCED_VS, FS);
  const flatProg = program(gl, FLAT_VS, FS);
  const cellProg = program(gl, CELL_VS, CELL_FS);
  const loc = (p, names) => Object.fromEntries(names.map((n) => [n, n.startsWith("u_") ? gl.getUniformLocation(p, n) : gl.getAttribLocation(p, n)]));
  const I = loc(instProg, ["a_corner", "a_inst", "a_color", "u_viewProj"]);
  const F = loc(flatProg, ["a_position", "a_color", "u_viewProj"]);
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

  const units = batch(QUAD, useInstancing, true);
  const rings = batch(RING, useInstancing, false);
  const panels = flatSet();
  const lines = flatSet();

  return {
    version,
    instanced: useInstancing,
    gl,
    stats,
    // positions: Float32Array (x, y, z, size) per unit; fixed until the layout changes.
    setUnits: (positions) => units.setUnits(positions),
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
