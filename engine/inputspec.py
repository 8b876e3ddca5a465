"""What a model reads and how a picture becomes it: the model's input declaration.

A model file may carry `metadata["input"]`; models without one (the shipped LeNets) get the
declaration their dataset implies, so their records are unchanged. Fields:

  preprocess  "mnist"  crop the ink, fit 20×20, centre by mass in 28×28 (engine.preprocess),
                       normalise (when a mean/std is declared), then zero-pad to the
                       model's side (28 -> 32 for the reference net)
              "resize" scale to the model's side minus `pad` (keeping the aspect ratio and
                       centring the ink's box when `crop`), normalise, zero-pad by `pad`
              "none"   the picture must already be the model's size (or the size minus `pad`)
  pad         zeros added around the preprocessed picture (LeNet-5's 28 -> 32 is 2)
  crop        resize only: crop to the ink's bounding box first (drawn clothing, not photos)
  mean, std   per channel, applied as (x − mean) / std after scaling pixels to [0, 1]
  subject     what a picture of it is: "digit", "clothing", "image" (the page's words)
  prompt      the pad's hint ("Draw a digit here"); derived from `subject` when absent

`prepare(picture, declaration, shape)` turns one picture — ink (H, W) in [0, 1] or uint8 for a
one-channel model, RGB (H, W, 3) in [0, 1] or uint8 for three — into the network's (C, H, W)
input.
"""
from __future__ import annotations

import copy

import numpy as np
from PIL import Image

from engine import preprocess as mnist
from engine.errors import BadInput, SpecError

PREPROCESS = ("mnist", "resize", "none")
SUBJECTS = {"digit": "Draw a digit here", "clothing": "Draw a piece of clothing",
            "image": "Pick, drop or paste an image", "drawing": "Draw here"}
_KEYS = {"preprocess", "pad", "crop", "mean", "std", "subject", "prompt"}
_DERIVED = {"channels", "shape"}     # written by check_declaration, re-checked when read back


def default_declaration(dataset: str | None, shape) -> dict:
    """The declaration a model without one gets (the shipped models were trained with these)."""
    c = shape[0]
    if dataset == "mnist" and c == 1 and shape[1] >= mnist.FIELD:
        return {"preprocess": "mnist", "pad": (shape[1] - mnist.FIELD) // 2, "subject": "digit"}
    if dataset == "fashion-mnist" and c == 1:
        # Fashion-MNIST's clothes fill their 28×28 frame (no 20×20 box, no centre of mass):
        # a drawing is cropped to its ink and fitted to the frame, then padded like the digits.
        return {"preprocess": "resize", "crop": True, "pad": (shape[1] - mnist.FIELD) // 2,
                "subject": "clothing"}
    return {"preprocess": "resize", "crop": c == 1, "pad": 0,
            "subject": "drawing" if c == 1 else "image"}


def check_declaration(given: dict, shape) -> dict:
    """Validate and complete a declaration for an input of `shape` [C, H, W]."""
    if not isinstance(given, dict):
        raise SpecError(f"the model's input declaration must be an object, got {given!r}")
    extra = set(given) - _KEYS - _DERIVED
    if extra:
        raise SpecError(f"input declaration: unknown field(s) {sorted(extra)}; accepted: "
                        f"{', '.join(sorted(_KEYS))}")
    c, h, w = shape
    if given.get("shape", list(shape)) != list(shape) or given.get("channels", c) != c:
        raise SpecError(f"input declaration says shape {given.get('shape')} / channels "
                        f"{given.get('channels')} but the model reads {list(shape)}")
    out = copy.deepcopy(given)
    pre = out.setdefault("preprocess", "resize")
    if pre not in PREPROCESS:
        raise SpecError(f"input preprocess {pre!r} is not supported; supported: "
                        f"{', '.join(PREPROCESS)}")
    pad = out.setdefault("pad", 0)
    if isinstance(pad, bool) or not isinstance(pad, int) or pad < 0 or 2 * pad >= min(h, w):
        raise SpecError(f"input pad must be an integer 0..{(min(h, w) - 1) // 2}, got {pad!r}")
    if pre == "mnist" and (c != 1 or h != w or h - 2 * pad != mnist.FIELD):
        raise SpecError(f"input preprocess 'mnist' makes a 1×28×28 digit (plus pad), but the "
                        f"model reads {c}×{h}×{w} with pad {pad}; use 'resize' or 'none'")
    out["crop"] = bool(out.get("crop", False))
    for key, neutral in (("mean", 0.0), ("std", 1.0)):
        value = out.get(key, [neutral] * c)
        if isinstance(value, (int, float)):
            value = [value] * c
        if (not isinstance(value, list) or len(value) != c
                or not all(isinstance(v, (int, float)) and np.isfinite(v) for v in value)):
            raise SpecError(f"input {key} must be {c} finite number(s), one per channel, "
                            f"got {value!r}")
        if key == "std" and not all(v > 0 for v in value):
            raise SpecError(f"input std must be positive, got {value!r}")
        out[key] = [float(v) for v in value]
    subject = out.setdefault("subject", "digit" if pre == "mnist" else
                             ("image" if c == 3 else "drawing"))
    if subject not in SUBJECTS:
        raise SpecError(f"input subject {subject!r}; accepted: {', '.join(SUBJECTS)}")
    out.setdefault("prompt", SUBJECTS[subject])
    out["channels"] = c
    out["shape"] = [c, h, w]
    return out


def declaration(network) -> dict:
    """The network's completed input declaration (its own, else its dataset's default)."""
    shape = network.stages[0]["shape"]
    meta = network.metadata or {}
    given = meta.get("input") or default_declaration(meta.get("dataset"), shape)
    return check_declaration(given, shape)


def _normalise(x: np.ndarray, decl: dict) -> np.ndarray:
    mean = np.asarray(decl["mean"], np.float32)[:, None, None]
    std = np.asarray(decl["std"], np.float32)[:, None, None]
    if not mean.any() and (std == 1).all():
        return x
    return ((x - mean) / std).astype(np.float32)


def _resize(picture: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """(h, w[, 3]) float in [0, 1], or uint8 RGB -> (H, W[, 3]) float32 in [0, 1] with Pillow's
    antialiased bilinear filter. An 8-bit RGB picture is resized as 8 bits, then scaled, as
    torchvision's Resize + ToTensor do to a PIL image."""
    if picture.dtype == np.uint8:
        if picture.shape[:2] != size:
            picture = np.asarray(Image.fromarray(picture).resize((size[1], size[0]),
                                                                 Image.BILINEAR))
        return picture.astype(np.float32) * np.float32(1 / 255)
    if picture.shape[:2] == size:
        return picture.astype(np.float32, copy=True)
    planes = picture[..., None] if picture.ndim == 2 else picture
    out = [np.asarray(Image.fromarray(np.ascontiguousarray(p, np.float32)).resize(
        (size[1], size[0]), Image.BILINEAR), np.float32) for p in np.moveaxis(planes, -1, 0)]
    out = np.clip(np.stack(out, -1), 0, 1)
    return out[..., 0] if picture.ndim == 2 else out


def _channels_first(picture: np.ndarray, c: int) -> np.ndarray:
    if picture.ndim == 2:
        return np.repeat(picture[None], c, axis=0)
    if c == 1:   # RGB given to a gray model: luminance (ITU-R 601, Pillow's "L")
        return (picture @ np.float32([0.299, 0.587, 0.114]))[None].astype(np.float32)
    return np.ascontiguousarray(np.moveaxis(picture, -1, 0))


def prepare(picture: np.ndarray, decl: dict, preprocess: bool = True):
    """One picture -> (input (C, H, W) float32, Preprocessed or None).

    `preprocess=False` is the contract's "already the model's size": only scaled, normalised
    and padded. A blank gray picture is valid (an all-zero picture in, whatever the model's
    normalisation makes of it out).
    """
    c, h, w = decl["shape"]
    pad = decl["pad"]
    inner = (h - 2 * pad, w - 2 * pad)
    if decl["preprocess"] == "mnist" and preprocess and picture.ndim == 2:
        pre = mnist.preprocess(picture)     # any ink as_ink takes, 8-bit ink fastest
        centred = pre.steps["centred"][None]
        # A digit model trained on normalised MNIST (torchvision's (x − 0.1307) / 0.3081) reads
        # its declared mean/std too; then the zero pad, in the order the resize path uses.
        x = _normalise(centred, decl)
        if pad != mnist.PAD or x is not centred:  # preprocess() pads 28 -> 32 (the reference net)
            pre.steps["input"] = np.pad(x[0], pad)
            pre.input = pre.steps["input"][None].copy()
        return pre.input, pre
    if picture.ndim == 2 and picture.dtype == np.uint8:
        picture = mnist.as_ink(picture)     # 8-bit ink is gray ink: k / 255, as the page's is
    pre = None
    if not preprocess or decl["preprocess"] == "none" or decl["preprocess"] == "mnist":
        if picture.dtype == np.uint8:
            picture = picture.astype(np.float32) * np.float32(1 / 255)
        if picture.shape[:2] not in (inner, (h, w)):
            raise BadInput(f"with preprocess=false (or a model whose input preprocessing is "
                           f"'none') the image must be {inner[1]}×{inner[0]}" +
                           (f" or {w}×{h}" if pad else "") + f" (width×height), got "
                           f"{picture.shape[1]}×{picture.shape[0]}")
        fitted = picture.astype(np.float32)
    elif decl["crop"] and picture.ndim == 2 and picture.dtype != np.uint8:
        fitted, pre = _crop_fit(picture, inner)
    else:
        fitted = _resize(picture, inner)
    x = _normalise(_channels_first(fitted, c), decl)
    if fitted.shape[:2] != (h, w) and pad:
        x = np.pad(x, ((0, 0), (pad, pad), (pad, pad)))
    x = np.ascontiguousarray(x, np.float32)
    if pre is not None:
        pre.steps["input"] = x[0]
        pre.input = x
    return x, pre


def _crop_fit(ink: np.ndarray, inner: tuple[int, int]):
    """Crop to the ink's box, scale its longer side to the frame, centre the box."""
    rows = np.flatnonzero(ink.max(axis=1) > mnist.INK_THRESHOLD)
    if rows.size == 0:
        frame = np.zeros(inner, np.float32)
        return frame, mnist.Preprocessed({"drawing": ink, "fitted": frame}, frame[None],
                                         blank=True)
    cols = np.flatnonzero(ink.max(axis=0) > mnist.INK_THRESHOLD)
    y0, y1, x0, x1 = int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1
    crop = ink[y0:y1, x0:x1]
    scale = min(inner[0] / crop.shape[0], inner[1] / crop.shape[1])
    size = (max(1, round(crop.shape[0] * scale)), max(1, round(crop.shape[1] * scale)))
    resample = Image.BOX if scale < 1 else Image.BILINEAR
    small = np.clip(np.asarray(Image.fromarray(np.ascontiguousarray(crop, np.float32)).resize(
        (size[1], size[0]), resample), np.float32), 0, 1)
    frame = np.zeros(inner, np.float32)
    top, left = (inner[0] - size[0]) // 2, (inner[1] - size[1]) // 2
    frame[top:top + size[0], left:left + size[1]] = small
    frame = mnist.quantize(frame)
    return frame, mnist.Preprocessed({"drawing": ink, "cropped": crop, "fitted": frame},
                                     frame[None], bbox=(y0, y1, x0, x1), scale=scale)
