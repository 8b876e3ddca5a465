// The pad as the chosen model reads it: its words come from the model's input declaration
// (/api/model `input`: subject, prompt, channels), never from a fixed "digit". A three-channel
// model takes a picture, not a drawing: the pad becomes an image picker (Choose, drop or paste)
// and the picture is drawn opaque onto the pad canvas, whose RGBA PNG is the body sent.
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
  sampleGroup.hidden = model?.samples === false;
  picker.hidden = !isPicture(model);
  for (const el of drawTools) el.hidden = isPicture(model);
}

// Draw an image (File/Blob) onto the canvas, covering it (centre crop, no transparent edge):
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
