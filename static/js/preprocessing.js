// Geometry of the server's preprocessing, to back-project a unit's receptive field from the
// 32×32 input onto the drawing. Pure: no DOM.
//
// The engine (engine/preprocess.py) crops the ink (crop_box [x0, y0, x1, y1] in the drawing
// sent), scales it so the longer side is 20 (rounded sizes, so the two axes may differ a
// little), centres that in a 20×20 box (`fitted`), then places it in 28×28 so its centre of
// mass lands on MNIST's (`centred`, whose centre_of_mass [y, x] the server reports) and pads
// by 2 to 32×32. The shift is sub-pixel; recovering it from the fitted image's own centre of
// mass is exact up to the 8-bit rounding of the steps.

const FIT = 20;

export function centreOfMass(values, [h, w]) {
  let t = 0, sy = 0, sx = 0;
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const v = values[y * w + x];
    t += v; sy += v * y; sx += v * x;
  }
  return t > 0 ? [sy / t, sx / t] : null;
}

// preprocessing: the forward response's `preprocessing`. Returns a function mapping a
// half-open input rectangle [[y0, y1], [x0, x1]] (32×32 pixels) to {x, y, w, h} in drawing
// pixels, or null when the drawing was blank or the steps are missing.
export function inputToDrawing(preprocessing) {
  const box = preprocessing?.crop_box;
  const steps = new Map((preprocessing?.steps ?? []).map((s) => [s.name, s]));
  const fitted = steps.get("fitted");
  const input = steps.get("input");
  const centred = steps.get("centred");
  if (!box || !fitted || !input || !centred) return null;
  const pad = (input.shape[0] - centred.shape[0]) / 2;
  const [x0, y0, x1, y1] = box;
  const ch = y1 - y0, cw = x1 - x0;
  const s = FIT / Math.max(ch, cw);
  const h = Math.max(1, Math.round(ch * s)), w = Math.max(1, Math.round(cw * s));
  const fy = Math.floor((FIT - h) / 2), fx = Math.floor((FIT - w) / 2);
  const comFit = centreOfMass(fitted.values, fitted.shape);
  const com = preprocessing.centre_of_mass;
  if (!comFit || !com) return null;
  const top = com[0] - (comFit[0] - fy);    // where the scaled crop's row 0 sits in `centred`
  const left = com[1] - (comFit[1] - fx);
  const sy = h / ch, sx = w / cw;
  return ([[ry0, ry1], [rx0, rx1]]) => {
    const ya = y0 + (ry0 - pad - top) / sy, yb = y0 + (ry1 - pad - top) / sy;
    const xa = x0 + (rx0 - pad - left) / sx, xb = x0 + (rx1 - pad - left) / sx;
    return { x: xa, y: ya, w: xb - xa, h: yb - ya };
  };
}
