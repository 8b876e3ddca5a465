"""Forward body -> the model's input: the one input adapter every route uses (`model_input`).

A body becomes a picture (ink (H, W) for a one-channel model, following the contract's ink
rules; RGB (H, W, 3) for a three-channel one), and the model's own input declaration
(engine.inputspec) turns the picture into what the network reads. Everything a client can get
wrong about the image is refused here with a message that says what is accepted.
"""
from __future__ import annotations

import base64
import binascii
import io
import re

import numpy as np
from fastapi import HTTPException
from PIL import Image, ImageChops, UnidentifiedImageError

from app.config import Settings
from app.padpng import white_ink
from app.schemas import ForwardBody
from engine.errors import BadInput
from engine.inputspec import prepare

_DATA_URL = re.compile(r"data:image/(png|jpeg|jpg);base64,", re.IGNORECASE)
_FORMATS = {"PNG", "JPEG"}


def configure_pillow(blocks: int = 8) -> None:
    """Let Pillow reuse freed image memory instead of returning it to the OS after every call.

    By default it keeps no free blocks, so each request's ~5 images (decoded RGBA, gray,
    alpha, ink) are fresh mmaps that fault in page by page: 1.73 -> 1.27 ms per 280×280 PNG
    when kept. The cache is bounded (`blocks` blocks, each at most one image of up to
    1024×1024 RGBA = 4 MB), so memory cannot grow with the number of requests.
    """
    Image.core.set_blocks_max(max(blocks, Image.core.get_blocks_max()))


def model_input(body: ForwardBody, res):
    """Any forward body -> (the model's (C, H, W) float32 input, Preprocessed or None)."""
    decl = res.input
    if decl["channels"] == 3 and body.image is not None:
        picture = rgb_from_image(decode_data_url(body.image, res.settings), res.settings)
    else:   # gray ink (a pixel array given to an RGB model is gray: every channel alike)
        # 8-bit ink as it is: prepare() takes it to floats, and the MNIST pipeline finds the
        # ink's box in the bytes before it does (engine.preprocess.ink_box).
        picture = ink_from_body(body, res.settings)
    return prepare(picture, decl, body.preprocess)


def ink_from_body(body: ForwardBody, settings: Settings) -> np.ndarray:
    if body.pixels is not None:
        # The schema already checked types, the 0..255 range and len == width × height.
        # bytes() packs the ints in C: 6 µs for 28×28 where np.asarray(dtype=uint8) takes 17.
        return np.frombuffer(bytes(body.pixels), np.uint8).reshape(body.height, body.width)
    return ink_from_image(decode_data_url(body.image, settings), settings)


def decode_data_url(url: str, settings: Settings) -> bytes:
    match = _DATA_URL.match(url)
    if match is None:
        raise BadInput("`image` must be a data URL starting with data:image/png;base64, or "
                       f"data:image/jpeg;base64, (got {url[:30]!r}...)")
    b64 = url[match.end():]
    # Refuse before decoding: base64 is 4 characters per 3 bytes.
    if len(b64) * 3 // 4 > settings.max_image_bytes + 3:
        raise HTTPException(413, f"`image` is {len(b64) * 3 // 4} bytes; the limit is "
                                 f"{settings.max_image_bytes} bytes (2 MB)")
    try:
        return base64.b64decode(b64, validate=True)
    except (binascii.Error, ValueError):
        raise BadInput("`image` is not valid base64 after the data: prefix "
                       "(standard alphabet A-Z a-z 0-9 + /, padded with =)") from None


def rgb_from_image(data: bytes, settings: Settings) -> np.ndarray:
    """A photo for a colour model: (H, W, 3) uint8 RGB, transparency over white. Kept as 8-bit
    like torchvision's PIL pipeline (resize the 8-bit image, then scale to [0, 1]); ~1 ms for
    the pad's 280×280 canvas where float planes cost ~10."""
    img = _open_image(data, settings)
    if img.mode in _WIDE_GRAY:
        wide = np.asarray(img, dtype=np.float64)
        img = Image.fromarray(np.clip(np.rint(wide / 257), 0, 255).astype(np.uint8), "L")
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        if rgba.getchannel("A").getextrema()[0] < 255:     # the page's canvas is opaque
            white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
            rgba = Image.alpha_composite(white, rgba)
        img = rgba
    return np.asarray(img.convert("RGB"))


def _check_image_bytes(data: bytes, settings: Settings) -> None:
    if len(data) > settings.max_image_bytes:
        raise HTTPException(413, f"`image` is {len(data)} bytes; the limit is "
                                 f"{settings.max_image_bytes} bytes (2 MB)")


def _open_image(data: bytes, settings: Settings) -> Image.Image:
    """Decode a PNG or JPEG with Pillow, refusing every other format, size or fault by name."""
    _check_image_bytes(data, settings)
    side = settings.max_image_side
    try:
        img = Image.open(io.BytesIO(data))
        if img.format not in _FORMATS:
            raise BadInput(f"`image` is {img.format or 'an unknown format'}; "
                           "accepted: PNG or JPEG")
        # The header gives the size before any pixel is decoded: giants are refused unread
        # (and so never get near Pillow's decompression-bomb limit of ~89 M pixels).
        if img.width > side or img.height > side:
            raise BadInput(f"`image` is {img.width}×{img.height}; the largest accepted is "
                           f"{side}×{side}")
        if img.width < 1 or img.height < 1:
            raise BadInput("`image` has no pixels")
        img.load()
    except BadInput:
        raise
    except UnidentifiedImageError:
        raise BadInput("`image` is not a PNG or JPEG (its bytes are no image format Pillow "
                       "knows); send a PNG or JPEG data URL") from None
    except (OSError, ValueError, SyntaxError, EOFError,
            Image.DecompressionBombError) as exc:
        raise BadInput(f"`image` could not be decoded as PNG or JPEG ({exc}); "
                       "send a complete PNG or JPEG") from None
    return img


def ink_from_image(data: bytes, settings: Settings) -> np.ndarray:
    _check_image_bytes(data, settings)
    ink = white_ink(data, settings.max_image_side)   # the page's own PNG (static/js/png.js), without Pillow
    if ink is not None:
        return ink
    return flatten_to_ink(_open_image(data, settings))


def flatten_to_ink(img: Image.Image) -> np.ndarray:
    """Colour and alpha -> ink in 0..255, ink being whatever is not background.

    With transparency (the pad: light strokes on a transparent canvas) the background is the
    transparent part, so ink = brightness × alpha; dark strokes on transparency are taken as
    (255 - brightness) × alpha so they are not lost. An opaque image whose border is mostly
    light (dark ink on paper, a photo of a page) is inverted; otherwise light ink on a dark
    background is used as is, like MNIST. Pillow's C ops do the per-pixel work (a 280×280 pad
    image costs ~0.1 ms here instead of ~0.6 ms in NumPy uint16 arithmetic).
    """
    if img.mode in _WIDE_GRAY:
        # 16-bit (and 32-bit) gray: Pillow's convert("L") clips at 255 instead of scaling, which
        # turned every pixel above 1/257 into full ink. Scale 0..65535 to 0..255 here.
        wide = np.asarray(img, dtype=np.float64)
        img = Image.fromarray(np.clip(np.rint(wide / 257), 0, 255).astype(np.uint8), "L")
    has_alpha = img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info)
    if has_alpha:
        # RGBA and gray + alpha (the page's pad, static/js/png.js) have an "A" band and convert
        # to L as they are; anything else (palette + transparency) goes through RGBA.
        rgba = img if img.mode in ("RGBA", "LA") else img.convert("RGBA")
        alpha = rgba.getchannel("A")
        gray = rgba.convert("L")
        if alpha.getextrema()[0] < 255:
            if gray.getextrema() == (255, 255):
                return np.asarray(alpha)   # white ink (the pad): gray × alpha / 255 = alpha
            ink = ImageChops.multiply(gray, alpha)              # gray × alpha / 255
            covered = _total(alpha)
            # Alpha-weighted mean brightness Σ(gray·a)/Σa below half: dark ink on transparency.
            if covered and 2 * _total(ink) < covered:
                ink = ImageChops.multiply(ImageChops.invert(gray), alpha)
            return np.asarray(ink)
        # Every pixel opaque (a screenshot, a photo saved with alpha): an opaque image.
    else:
        gray = img.convert("L")
    gray = np.asarray(gray, dtype=np.uint8)
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    if np.count_nonzero(border >= 128) * 2 > border.size:   # mostly light border: paper
        return 255 - gray
    return gray


_LEVELS = np.arange(256)
_WIDE_GRAY = ("I;16", "I;16B", "I;16L", "I")


def _total(band: Image.Image) -> int:
    """Sum of an 8-bit band's pixels from its histogram: no copy of the pixels."""
    return int(_LEVELS @ np.asarray(band.histogram()))
