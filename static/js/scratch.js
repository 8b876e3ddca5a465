// One small offscreen canvas (with its context and an ImageData) per size, shared and reused:
// painting a map is "fill the ImageData, put it, draw it scaled", and a new canvas, context and
// ImageData per map and per stroke update were a fifth of the phone's repaint. Callers use it
// synchronously (fill, put, drawImage in one go), so one per size is enough for every view.
//
// scratchCanvas(w, h) -> {canvas, ctx, image}

const scratch = new Map();

export function scratchCanvas(w, h) {
  const key = `${w}x${h}`;
  let s = scratch.get(key);
  if (!s) {
    const canvas = document.createElement("canvas");
    canvas.width = w;
    canvas.height = h;
    s = { canvas, ctx: canvas.getContext("2d"), image: new ImageData(w, h) };
    scratch.set(key, s);
  }
  return s;
}
