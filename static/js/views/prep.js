// The preprocessing strip: drawing (crop box) -> cropped -> fitted 20×20 -> centred 28×28
// (centre of mass marked) -> the 32×32 input, so a student sees why an off-centre or small
// digit still reads the same. renderPrep(el, trace, drawing) where drawing is
// {canvas, width, height}: the pad canvas and the size of the image that was sent.

import { sequential, lut, fillRGBA } from "../color.js";
import { prepWords, rgbImage, isPicture } from "./modelinput.js";
import { inputRange } from "../lab/source.js";
import { scratchCanvas } from "../scratch.js";

const SIDE = 48;
const FOCUS = "#7b2cbf";
const MARK = "#e66101";

function step(label, title) {
  const wrap = document.createElement("figure");
  wrap.className = "prep-step";
  wrap.style.margin = "0";
  const c = document.createElement("canvas");
  c.width = SIDE * 2;
  c.height = SIDE * 2;
  c.setAttribute("role", "img");
  c.setAttribute("aria-label", title);
  const cap = document.createElement("figcaption");
  cap.textContent = label;
  const skip = document.createElement("span");   // stands in for the canvas of a skipped step
  skip.className = "prep-skip";
  skip.textContent = "skipped";
  skip.hidden = true;
  wrap.append(c, skip, cap);
  return { wrap, c, skip, ctx: c.getContext("2d") };
}

function paintRGB(ctx, fed, input) {
  const [, h, w] = fed.shape;
  const tmp = scratchCanvas(w, h);
  tmp.ctx.putImageData(rgbImage(fed.values, fed.shape, input), 0, 0);
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(tmp.canvas, 0, 0, ctx.canvas.width, ctx.canvas.height);
}

const GRAY = sequential(0, 1);
const GRAY_TABLE = lut(GRAY);
// The steps before the input are pictures in [0, 1]; the input step is the network's input,
// which a normalising model's mean/std move off [0, 1]: it is painted over its own range.
function inputGray(model) {
  const { lo, hi, normalised } = inputRange(model, { channel: 0 });
  return normalised ? sequential(lo, hi) : GRAY;
}
function paintValues(ctx, values, [h, w], scale = GRAY) {
  const tmp = scratchCanvas(w, h);
  fillRGBA(tmp.image.data, values, scale, scale === GRAY ? GRAY_TABLE : lut(scale));
  tmp.ctx.putImageData(tmp.image, 0, 0);
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(tmp.canvas, 0, 0, ctx.canvas.width, ctx.canvas.height);
}

let parts = null;
let inputStep = null;   // the last input step, to repaint under a moving outline
let outlined = false;   // the input thumbnail carries an outline (outlineInput(null) removes it)

export function renderPrep(el, trace, drawing) {
  if (!parts || !el.contains(parts.drawing.wrap)) {
    parts = {
      drawing: step("drawing", "Your drawing with the ink's bounding box"),
      cropped: step("cropped", "The drawing cropped to the ink"),
      fitted: step("20×20", "Scaled to fit 20×20, keeping its shape"),
      centred: step("28×28", "Placed in 28×28 with its centre of mass at the centre (cross)"),
      input: step("input 32", "Padded to 32×32: what the network reads"),
    };
    parts.note = document.createElement("p");
    parts.note.className = "prep-note";
    parts.note.textContent = "Used as is: not a digit, so it is not cropped, scaled or centred.";
    el.replaceChildren(...Object.values(parts).map((p) => p.wrap ?? p));
  }
  const pre = trace?.preprocessing;
  const S = SIDE * 2;
  // The captions are the model's own pipeline (its input declaration), not always MNIST's.
  const words = prepWords(drawing.model);
  const steps = new Map((pre?.steps ?? []).map((s) => [s.name, s]));
  // Fed as it is (preprocess: false, e.g. a Fashion-MNIST test image): no steps, but the
  // 32×32 input thumbnail still shows what the network reads.
  const fed = trace?.byName?.get("input");
  const asIs = !steps.has("input") && !!fed;
  // The words and the skipped steps change with the model, not with each stroke: the DOM is
  // written only when they change (each write re-laid the page out on every update).
  // A colour model's first step is the picture chosen, not a drawing with an ink box.
  const picture = isPicture(drawing.model);
  const dom = JSON.stringify([words, asIs, picture]);
  if (parts.dom !== dom) {
    parts.dom = dom;
    parts.drawing.wrap.querySelector("figcaption").textContent = picture ? "picture" : "drawing";
    parts.drawing.c.setAttribute("aria-label", picture ? "Your picture, as on the pad" : "Your drawing with the ink's bounding box");
    for (const name of ["cropped", "fitted", "centred", "input"]) {
      parts[name].wrap.hidden = words[name] === null;
      parts[name].wrap.style.display = words[name] === null ? "none" : "";
      if (words[name] !== null) parts[name].wrap.querySelector("figcaption").textContent = words[name];
    }
    parts.input.c.setAttribute("aria-label", words.inputTitle);
    parts.note.textContent = words.asIs;
    // ...and the steps it skipped say so instead of staying empty boxes.
    for (const name of ["cropped", "fitted", "centred"]) {
      parts[name].c.hidden = asIs;
      parts[name].skip.hidden = !asIs;
      parts[name].wrap.toggleAttribute("data-skipped", asIs && words[name] !== null);
      parts[name].wrap.title = asIs ? "Skipped: used as is, not a digit" : "";
    }
    parts.note.hidden = !asIs;
  }
  for (const p of Object.values(parts)) {
    if (!p.ctx) continue;
    p.ctx.setTransform(1, 0, 0, 1, 0, 0);
    p.ctx.clearRect(0, 0, S, S);
  }
  const { canvas, width, height } = drawing;
  parts.drawing.ctx.drawImage(canvas, 0, 0, S, S);
  const box = pre?.crop_box;
  if (box) {
    const [x0, y0, x1, y1] = box;
    const kx = S / width, ky = S / height;
    parts.drawing.ctx.strokeStyle = MARK;
    parts.drawing.ctx.lineWidth = 3;
    parts.drawing.ctx.strokeRect(x0 * kx, y0 * ky, (x1 - x0) * kx, (y1 - y0) * ky);
    // Cropped: the same pixels, scaled to fill the thumbnail keeping their aspect ratio.
    const cx = canvas.width / width, cy = canvas.height / height;
    const bw = (x1 - x0) * cx, bh = (y1 - y0) * cy;
    const k = S / Math.max(bw, bh);
    parts.cropped.ctx.drawImage(canvas, x0 * cx, y0 * cy, bw, bh, (S - bw * k) / 2, (S - bh * k) / 2, bw * k, bh * k);
  }
  if (asIs) steps.set("input", { name: "input", values: fed.values, shape: fed.shape.slice(-2), rgb: fed.shape[0] === 3 ? fed : null });
  for (const name of ["fitted", "centred", "input"]) {
    const s = steps.get(name);
    if (s?.rgb) paintRGB(parts[name].ctx, s.rgb, drawing.model?.input);
    else if (s) paintValues(parts[name].ctx, s.values, s.shape, name === "input" ? inputGray(drawing.model) : GRAY);
  }
  inputStep = steps.get("input") ?? null;
  outlined = false;
  if (inputStep) inputStep.model = drawing.model;
  const com = pre?.centre_of_mass;
  const centred = steps.get("centred");
  if (com && centred && box) {
    const k = S / centred.shape[0];
    const ctx = parts.centred.ctx;
    const y = (com[0] + 0.5) * k, x = (com[1] + 0.5) * k;
    ctx.strokeStyle = MARK;
    ctx.lineWidth = 2;
    ctx.beginPath();
    ctx.moveTo(x - 8, y); ctx.lineTo(x + 8, y);
    ctx.moveTo(x, y - 8); ctx.lineTo(x, y + 8);
    ctx.stroke();
  }
}

// Outline a receptive field (input pixels [[y0,y1],[x0,x1]]) on the input thumbnail.
// rf null: just repaint the thumbnail without an outline.
export function outlineInput(rf, inputSide = 32) {
  if (!parts || !inputStep || (!rf && !outlined)) return;   // nothing drawn over it to remove
  const ctx = parts.input.ctx;
  if (inputStep.rgb) paintRGB(ctx, inputStep.rgb, inputStep.model?.input);
  else paintValues(ctx, inputStep.values, inputStep.shape, inputGray(inputStep.model));
  outlined = !!rf;
  if (!rf) return;
  const k = ctx.canvas.width / inputSide;
  ctx.strokeStyle = FOCUS;
  ctx.lineWidth = 3;
  ctx.strokeRect(rf[1][0] * k, rf[0][0] * k, (rf[1][1] - rf[1][0]) * k, (rf[0][1] - rf[0][0]) * k);
}
