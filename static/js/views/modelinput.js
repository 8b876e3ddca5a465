// The pad as the chosen model reads it: its words come from the model's input declaration
// (/api/model `input`: subject, prompt, channels), never from a fixed "digit". A three-channel
// model takes a picture, not a drawing: the pad becomes an image picker (Choose, drop, paste or
// Camera: views/camera.js) and the picture is drawn opaque onto the pad canvas, whose RGB is
// the body sent (main.js: as JPEG).
//
// renderModelInput(model, els) sets the words; pickPicture(file, canvas) draws a picture.

const NOUNS = { digit: "digit", clothing: "piece of clothing", image: "image", drawing: "drawing" };

export const isPicture = (model) => model?.input?.channels === 3;

// The words for one model: hint on the pad, the pad's label, the samples group's label.
export function inputWords(model) {
  const input = model?.input ?? { subject: "digit", prompt: "Draw a digit here" };
  const noun = NOUNS[input.subject] ?? "drawing";
  const picture = isPicture(model);
  return {
    hint: input.prompt,
    padLabel: picture ? `Picture pad: choose, drop or paste an ${noun} (${input.shape?.slice(1).join("×") ?? ""} colour input)` : `Drawing pad: draw a ${noun} with mouse, finger or pen`,
    sampleLabel: input.subject === "digit" ? "Test digit" : "Test image",
  };
}

export function renderModelInput(model, { hint, pad, sampleLabel, sampleGroup, picker, drawTools }) {
  const words = inputWords(model);
  hint.textContent = words.hint;
  pad.setAttribute("aria-label", words.padLabel);
  sampleLabel.textContent = words.sampleLabel;
  // style.display, not `hidden`: the toolbars' CSS display (flex) would override it.
  const show = (el, on) => { el.hidden = !on; el.style.display = on ? "" : "none"; };
  show(sampleGroup, model?.samples !== false);
  show(picker, isPicture(model));
  for (const el of drawTools) show(el, !isPicture(model));
}

// Draw an image (a File/Blob, or a canvas such as the camera's frame: anything
// createImageBitmap takes) onto the canvas, covering it (centre crop, no transparent edge):
// resolves when drawn. The server resizes to the model's side, so the pad's 280 px suffice.
export async function pickPicture(blob, canvas) {
  const bitmap = await createImageBitmap(blob);
  const ctx = canvas.getContext("2d");
  const k = Math.max(canvas.width / bitmap.width, canvas.height / bitmap.height);
  const w = bitmap.width * k, h = bitmap.height * k;
  ctx.globalCompositeOperation = "source-over";
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  ctx.imageSmoothingEnabled = true;
  ctx.imageSmoothingQuality = "high";
  ctx.drawImage(bitmap, (canvas.width - w) / 2, (canvas.height - h) / 2, w, h);
  bitmap.close?.();
}

// The first image of a paste or drop event, or null.
export function imageOf(dataTransfer) {
  for (const item of dataTransfer?.items ?? []) {
    if (item.kind === "file" && item.type.startsWith("image/")) return item.getAsFile();
  }
  return null;
}

// The preprocessing strip's captions for one model: what its own pipeline does.
export function prepWords(model) {
  const input = model?.input;
  const [C, H, W] = input?.shape ?? [1, 32, 32];
  const inner = `${W - 2 * (input?.pad ?? 2)}×${H - 2 * (input?.pad ?? 2)}`;
  const pre = input?.preprocess ?? "mnist";
  const normalised = input && (input.mean.some((m) => m !== 0) || input.std.some((s) => s !== 1));
  const norm = normalised ? `, normalised per channel: (x − mean) / std with mean ${input.mean.map((m) => m.toFixed(3)).join(", ")}, std ${input.std.map((s) => s.toFixed(3)).join(", ")}` : "";
  const asIs = pre === "resize" && !input?.crop
    ? `Resized to ${W}×${H}${C === 3 ? " (colour)" : ""}${norm}; not cropped or centred.`
    : pre === "none" ? `Used as is${norm}: the model reads ${W}×${H} pictures unchanged.`
      : "Used as is: not a digit, so it is not cropped, scaled or centred.";
  const crops = pre === "mnist" || (pre === "resize" && input?.crop);
  return {
    cropped: crops ? "cropped" : null,   // a photo is resized whole: no crop, no fitted box
    fitted: pre === "mnist" ? "20×20" : crops ? `fitted ${inner}` : null,
    centred: pre === "mnist" ? "28×28" : null,   // only MNIST's recipe centres by mass
    input: `input ${H === W ? H : `${W}×${H}`}`,
    inputTitle: input?.pad ? `Padded to ${W}×${H}: what the network reads` : `${W}×${H}: what the network reads`,
    asIs,
  };
}

// An RGB input record (3, H, W), normalised by the model, back to displayable pixels.
export function rgbImage(values, [C, H, W], input) {
  const img = new ImageData(W, H);
  const mean = input?.mean ?? [0, 0, 0], std = input?.std ?? [1, 1, 1];
  for (let i = 0; i < H * W; i++) {
    for (let c = 0; c < 3; c++) img.data[i * 4 + c] = Math.max(0, Math.min(255, Math.round((values[c * H * W + i] * std[c] + mean[c]) * 255)));
    img.data[i * 4 + 3] = 255;
  }
  return img;
}
