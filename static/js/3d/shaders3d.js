// GLSL ES 1.00 shaders of the 3D renderer (valid in WebGL1 and WebGL2). Strings only.

export const INSTANCED_VS = `
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

export const FLAT_VS = `
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
export const CELL_VS = `
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

export const CELL_FS = `
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

export const FS = `
precision mediump float;
varying vec4 v_color;
void main() { gl_FragColor = v_color; }`;

// Sheets (atlas mode): a quad per map whose uv counts cells from its top-left corner. The
// fragment shader finds the cell under the pixel, discards the gap around a 1-D node (fill < 1)
// and texels of no unit (alpha 0), reads the unit's colour from the atlas, and shades the cell's
// edge once cells are big on screen, like CELL_FS. highp: uv and atlas texels need integers
// exact up to a few hundred.
export const SHEET_VS = `
attribute vec3 a_position;
attribute vec2 a_uv;
attribute vec4 a_sheet;    // atlas x0, y0, cols, rows
attribute vec2 a_cell;     // fill (square side / pitch), pitch (world units)
uniform mat4 u_viewProj;
uniform float u_pxScale;
varying vec2 v_uv;
varying vec4 v_sheet;
varying float v_fill;
varying float v_px;
void main() {
  gl_Position = u_viewProj * vec4(a_position, 1.0);
  v_uv = a_uv;
  v_sheet = a_sheet;
  v_fill = a_cell.x;
  v_px = a_cell.y * u_pxScale / gl_Position.w;
}`;

export const SHEET_FS = `
#ifdef GL_FRAGMENT_PRECISION_HIGH
precision highp float;
#else
precision mediump float;
#endif
varying vec2 v_uv;
varying vec4 v_sheet;
varying float v_fill;
varying float v_px;
uniform sampler2D u_atlas;
uniform vec2 u_atlasSize;
uniform vec3 u_edge;
void main() {
  vec2 cell = clamp(floor(v_uv), vec2(0.0), v_sheet.zw - 1.0);
  vec2 f = v_uv - cell - 0.5;
  float halfSide = 0.5 * v_fill;
  float m = max(abs(f.x), abs(f.y));
  if (m > halfSide) discard;
  vec4 c = texture2D(u_atlas, (v_sheet.xy + cell + 0.5) / u_atlasSize);
  if (c.a < 0.5) discard;
  float fromEdge = (halfSide - m) * v_px;
  float show = clamp((v_px * v_fill - 6.0) / 6.0, 0.0, 1.0);
  float edge = (1.0 - clamp(fromEdge, 0.0, 1.0)) * show;
  gl_FragColor = vec4(mix(c.rgb, u_edge, edge * 0.85), 1.0);
}`;
