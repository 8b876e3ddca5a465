// WebGL renderer for the 3D view: every unit as an instanced square, in a handful of draw calls.
//
// Passes, in order: map backings (plain triangles), units (ONE instanced draw for all ~15,000
// squares: per-instance position + size, and colour in its own buffer so a new forward
// response re-uploads only colours), connection lines, then highlight rings (instanced hollow
// squares drawn without depth test, so a source window stays visible behind other planes).
// WebGL2 where available, else WebGL1 + ANGLE_instanced_arrays; both run the same GLSL ES 1.00
// shaders. createRenderer returns {error} when neither exists, and the page keeps its 2D view.

const UNIT_VS = `
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

const FS = `
precision mediump float;
varying vec4 v_color;
void main() { gl_FragColor = v_color; }`;

// Two triangles of a unit square centred on the instance.
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
const RING = ring(0.42, 0.6);

export function createRenderer(canvas, { background = [0.16, 0.17, 0.2, 1] } = {}) {
  const attrs = { antialias: true, preserveDrawingBuffer: true, alpha: false };
  let gl = canvas.getContext("webgl2", attrs);
  let instancing;
  if (gl) {
    instancing = { divisor: (l, d) => gl.vertexAttribDivisor(l, d), draw: (m, f, n, k) => gl.drawArraysInstanced(m, f, n, k) };
  } else {
    gl = canvas.getContext("webgl", attrs) || canvas.getContext("experimental-webgl", attrs);
    const ext = gl && gl.getExtension("ANGLE_instanced_arrays");
    if (!ext) return { error: gl ? "this browser's WebGL lacks instancing (ANGLE_instanced_arrays)" : "WebGL is not available in this browser" };
    instancing = { divisor: (l, d) => ext.vertexAttribDivisorANGLE(l, d), draw: (m, f, n, k) => ext.drawArraysInstancedANGLE(m, f, n, k) };
  }
  const version = typeof WebGL2RenderingContext !== "undefined" && gl instanceof WebGL2RenderingContext ? 2 : 1;
  const unitProg = program(gl, UNIT_VS, FS);
  const flatProg = program(gl, FLAT_VS, FS);
  const loc = (p, names) => Object.fromEntries(names.map((n) => [n, n.startsWith("u_") ? gl.getUniformLocation(p, n) : gl.getAttribLocation(p, n)]));
  const U = loc(unitProg, ["a_corner", "a_inst", "a_color", "u_viewProj"]);
  const F = loc(flatProg, ["a_position", "a_color", "u_viewProj"]);
  const buf = (data, usage = gl.STATIC_DRAW) => {
    const b = gl.createBuffer();
    gl.bindBuffer(gl.ARRAY_BUFFER, b);
    gl.bufferData(gl.ARRAY_BUFFER, data, usage);
    return b;
  };
  const quad = buf(QUAD);
  const ringMesh = buf(RING);
  const units = { inst: gl.createBuffer(), color: gl.createBuffer(), count: 0 };
  const highlight = { inst: gl.createBuffer(), color: gl.createBuffer(), count: 0 };
  const panels = { pos: gl.createBuffer(), color: gl.createBuffer(), count: 0 };
  const lines = { pos: gl.createBuffer(), color: gl.createBuffer(), count: 0 };
  const stats = { drawCalls: 0 };

  function attrib(location, buffer, size, type, normalized, divisor) {
    if (location < 0) return;
    gl.bindBuffer(gl.ARRAY_BUFFER, buffer);
    gl.enableVertexAttribArray(location);
    gl.vertexAttribPointer(location, size, type, normalized, 0, 0);
    instancing.divisor(location, divisor);
  }
  function release(...locations) {
    for (const l of locations) if (l >= 0) { instancing.divisor(l, 0); gl.disableVertexAttribArray(l); }
  }

  function drawInstanced(mesh, vertexCount, set, viewProj) {
    if (!set.count) return;
    gl.useProgram(unitProg);
    gl.uniformMatrix4fv(U.u_viewProj, false, viewProj);
    attrib(U.a_corner, mesh, 2, gl.FLOAT, false, 0);
    attrib(U.a_inst, set.inst, 4, gl.FLOAT, false, 1);
    attrib(U.a_color, set.color, 4, gl.UNSIGNED_BYTE, true, 1);
    instancing.draw(gl.TRIANGLES, 0, vertexCount, set.count);
    release(U.a_corner, U.a_inst, U.a_color);
    stats.drawCalls++;
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

  const upload = (buffer, data, usage) => {
    gl.bindBuffer(gl.ARRAY_BUFFER, buffer);
    gl.bufferData(gl.ARRAY_BUFFER, data, usage);
  };

  return {
    version,
    gl,
    stats,
    // positions: Float32Array (x, y, z, size) per unit; fixed until the layout changes.
    setUnits(positions) {
      units.count = positions.length / 4;
      upload(units.inst, positions, gl.STATIC_DRAW);
      upload(units.color, new Uint8Array(units.count * 4), gl.DYNAMIC_DRAW);
    },
    // colors: Uint8Array RGBA per unit. The only upload a new forward response needs.
    setColors(colors) {
      gl.bindBuffer(gl.ARRAY_BUFFER, units.color);
      gl.bufferSubData(gl.ARRAY_BUFFER, 0, colors);
    },
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
      highlight.count = inst.length / 4;
      upload(highlight.inst, inst, gl.DYNAMIC_DRAW);
      upload(highlight.color, colors, gl.DYNAMIC_DRAW);
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
    draw(viewProj) {
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
      drawInstanced(quad, 6, units, viewProj);
      gl.enable(gl.BLEND);
      gl.blendFunc(gl.SRC_ALPHA, gl.ONE_MINUS_SRC_ALPHA);
      gl.disable(gl.DEPTH_TEST);
      drawFlat(gl.LINES, lines, viewProj);
      drawInstanced(ringMesh, RING.length / 2, highlight, viewProj);
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
