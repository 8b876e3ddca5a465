"""Issue 12's cheaper input side changes no number: on a corpus of drawings, today's
preprocessing (engine.preprocess) and the whole body -> input adapter (app.inputs.model_input)
give every step, the crop box, the scale and both centres of mass BIT FOR BIT equal to the
implementation they replaced, kept verbatim in tests/engine/preprocess_reference.py, fed the
ink the contract's rules give (Pillow's decode + flatten_to_ink, np.asarray for pixels)."""
from __future__ import annotations

import base64
import io
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image, ImageDraw

from app.config import Settings
from app.inputs import flatten_to_ink, model_input
from app.padpng import white_ink_png
from app.schemas import ForwardBody
from engine import preprocess as fast
from engine.inputspec import check_declaration, default_declaration, prepare
from tests.engine import preprocess_reference as ref

SAMPLES = Path(__file__).resolve().parents[2] / "models" / "samples.npz"


def same(got: fast.Preprocessed, want: ref.Preprocessed, what: str = ""):
    """Exact equality: dtype, shape and bytes of every step; box, scale, centres, blank."""
    assert (got.bbox, got.scale, got.centre_of_mass, got.blank) == \
           (want.bbox, want.scale, want.centre_of_mass, want.blank), what
    assert type(got.scale) is type(want.scale), what
    assert list(got.steps) == list(want.steps), what
    for name, image in want.steps.items():
        mine = got.steps[name]
        assert (mine.dtype, mine.shape) == (image.dtype, image.shape), (what, name)
        assert mine.tobytes() == image.tobytes(), (what, name)
    assert (got.input.dtype, got.input.shape) == (want.input.dtype, want.input.shape), what
    assert got.input.tobytes() == want.input.tobytes(), what


def strokes(rng, h=280, w=280, n=None) -> np.ndarray:
    """Random anti-aliased thick strokes, as a finger or mouse draws them."""
    img = Image.new("L", (4 * w, 4 * h))
    pen = ImageDraw.Draw(img)
    for _ in range(n or rng.integers(1, 5)):
        points = [tuple(map(int, p)) for p in rng.integers(0, 4 * np.array([w, h]), (4, 2))]
        pen.line(points, fill=int(rng.integers(60, 256)), width=int(rng.integers(4, 90)),
                 joint="curve")
    return np.array(img.resize((w, h), Image.BOX))


def digits() -> list[np.ndarray]:
    """The shipped test digits (two of each class) drawn on the 280×280 pad."""
    with np.load(SAMPLES) as f:
        small = f["images"][:, :2].reshape(-1, 28, 28)
    return [np.asarray(Image.fromarray(d).resize((280, 280), Image.BILINEAR)) for d in small]


def corpus() -> list[tuple[str, np.ndarray]]:
    """(name, uint8 ink) for every kind of drawing the server meets."""
    rng = np.random.default_rng(2026)
    out = [(f"digit {i}", d) for i, d in enumerate(digits())]
    out += [(f"28x28 digit {i}", d) for i, d in enumerate(
        np.load(SAMPLES)["images"][:, 5].reshape(-1, 28, 28))]
    out += [(f"strokes {i}", strokes(rng)) for i in range(25)]
    out += [("blank", np.zeros((280, 280), np.uint8)), ("blank 1x1", np.zeros((1, 1), np.uint8)),
            ("full", np.full((280, 280), 255, np.uint8)), ("1x1 ink", np.full((1, 1), 7, np.uint8))]
    for y, x, v in ((0, 0, 255), (279, 279, 1), (0, 279, 128), (140, 3, 255), (279, 0, 2)):
        one = np.zeros((280, 280), np.uint8)
        one[y, x] = v
        out.append((f"one pixel {y},{x}={v}", one))
    for side in ("top", "bottom", "left", "right"):     # ink touching an edge of the pad
        ink = strokes(rng)
        band = {"top": np.s_[:3], "bottom": np.s_[-3:], "left": np.s_[:, :3],
                "right": np.s_[:, -3:]}[side]
        ink[band] = 200
        out.append((f"edge {side}", ink))
    for h, w in ((1, 500), (500, 1), (7, 13), (333, 97), (97, 333), (19, 20), (20, 21),
                 (512, 512), (8, 8), (28, 28), (32, 32), (1024, 3)):
        out.append((f"strokes {h}x{w}", strokes(rng, h, w)))
    for side in (8, 9, 16, 28, 56, 112, 140, 200, 280, 511, 512):   # the pixel bodies' sizes
        out.append((f"pixels {side}", strokes(rng, side, side)))
        out.append((f"noise {side}", rng.integers(0, 256, (side, side), dtype=np.uint8)))
    sparse = np.zeros((280, 280), np.uint8)
    sparse[rng.integers(0, 280, 30), rng.integers(0, 280, 30)] = rng.integers(1, 256, 30)
    out.append(("sparse", sparse))
    return out


CORPUS = corpus()
IDS = [name for name, _ in CORPUS]


@pytest.mark.parametrize("ink", [i for _, i in CORPUS], ids=IDS)
def test_preprocess_equals_the_reference_for_bytes_and_floats(ink):
    want = ref.preprocess(ink)
    same(fast.preprocess(ink), want, "uint8")
    same(fast.preprocess(ref.as_ink(ink)), want, "float32")
    same(fast.preprocess(ink.astype(np.int64)), want, "int64")
    same(fast.preprocess(ink.T), ref.preprocess(ink.T), "transposed bytes")


def test_preprocess_equals_the_reference_for_other_dtypes():
    rng = np.random.default_rng(5)
    for i in range(30):
        h, w = rng.integers(1, 300, 2)
        a = rng.random((h, w))
        a[a < rng.random()] = 0                          # paper, with faint ink under 0.5/255
        a[rng.random((h, w)) < 0.01] = 0.3 / 255
        # float64, float32, a float32 view the engine uses as it is (not C-contiguous), bool
        for x in (a, a.astype(np.float32), a.astype(np.float32).T, a > 0.5):
            same(fast.preprocess(x), ref.preprocess(x), f"{i} {x.dtype}")
        assert fast.ink_box(a) == ref.ink_box(a)


def test_parts_equal_the_reference():
    rng = np.random.default_rng(9)
    for name, ink in CORPUS:
        assert fast.ink_box(ink) == ref.ink_box(ink), name
        for view in (ink.T, ink[::2, ::3], ink[:, ::-1]):     # not C-contiguous bytes
            assert fast.ink_box(view) == ref.ink_box(view), name
        f = ref.as_ink(ink)
        assert fast.as_ink(ink).tobytes() == f.tobytes(), name
        assert fast.ink_box(f) == ref.ink_box(f), name
    for _ in range(200):
        a = (rng.random(rng.integers(1, 40, 2)) * rng.choice([1.0, 1.2])).astype(np.float32)
        a -= np.float32(rng.choice([0.0, 0.1]))
        assert fast.quantize(a).tobytes() == ref.quantize(a).tobytes()
        assert fast.centre_of_mass(a) == ref.centre_of_mass(a)
        small = np.clip(a, 0, 1)[:20, :20]
        # sub-pixel, whole-pixel (zero weights skipped), half-whole, clamped both ways
        for top, left in (rng.random(2) * 30 - 5, (3.0, 4.0), (0.0, 2.5), (6.25, 1.0),
                          (-3.2, 40.7), (1e-17, 5 - 1e-16)):
            assert fast._place(small, top, left, 28).tobytes() == \
                ref._place(small, top, left, 28).tobytes(), (top, left)


# ---- the whole adapter: body -> (input, Preprocessed), against the reference on the same ink

MNIST = SimpleNamespace(settings=Settings(),
                        input=check_declaration(default_declaration("mnist", [1, 32, 32]),
                                                [1, 32, 32]))


def _url(kind: str, data: bytes) -> str:
    return f"data:image/{kind};base64," + base64.b64encode(data).decode()


def _encode(img: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def bodies():
    """(name, body, the ink by the contract's rules: Pillow + flatten_to_ink, or the pixels)."""
    for name, ink in CORPUS:
        h, w = ink.shape
        if 8 <= min(h, w) and max(h, w) <= 512:
            yield f"pixels {name}", ForwardBody(pixels=ink.ravel().tolist(), width=w,
                                                height=h), ink
        png = white_ink_png(ink)                                  # the page's own PNG
        yield f"page PNG {name}", ForwardBody(image=_url("png", png)), _pillow_ink(png)
    for i, ink in enumerate(digits()[:6] + [strokes(np.random.default_rng(3))]):
        rgba = np.zeros(ink.shape + (4,), np.uint8)
        rgba[..., :3], rgba[..., 3] = 255, ink                    # canvas.toDataURL's RGBA
        png = _encode(Image.fromarray(rgba, "RGBA"), "PNG")
        yield f"RGBA PNG {i}", ForwardBody(image=_url("png", png)), _pillow_ink(png)
        paper = Image.fromarray(255 - ink).convert("RGB")        # dark ink on paper, a photo
        jpeg = _encode(paper, "JPEG", quality=85)
        yield f"JPEG {i}", ForwardBody(image=_url("jpeg", jpeg)), _pillow_ink(jpeg)
        gray = _encode(Image.fromarray(ink), "PNG")               # opaque gray PNG
        yield f"gray PNG {i}", ForwardBody(image=_url("png", gray)), _pillow_ink(gray)


def _pillow_ink(data: bytes) -> np.ndarray:
    img = Image.open(io.BytesIO(data))
    img.load()
    return flatten_to_ink(img)


BODIES = list(bodies())


@pytest.mark.parametrize("body, ink", [(b, i) for _, b, i in BODIES],
                         ids=[n for n, _, _ in BODIES])
def test_model_input_equals_the_reference_pipeline(body, ink):
    x, pre = model_input(body, MNIST)
    want = ref.preprocess(ref.as_ink(ink))
    same(pre, want)
    assert x.tobytes() == want.input.tobytes() and x.dtype == np.float32


@pytest.mark.parametrize("dataset", ["fashion-mnist", "drawings"])
def test_model_input_of_other_gray_models_is_unchanged(dataset):
    """A resize-and-crop model reads the float ink exactly as before (not the byte ink)."""
    for side in (28, 32):
        decl = check_declaration(default_declaration(dataset, [1, side, side]), [1, side, side])
        res = SimpleNamespace(settings=Settings(), input=decl)
        for name, body, ink in BODIES[::5]:
            x, pre = model_input(body, res)
            want_x, want_pre = prepare(ref.as_ink(ink), decl)
            assert x.tobytes() == want_x.tobytes(), name
            assert (pre is None) == (want_pre is None), name
            if pre is not None:
                assert pre.bbox == want_pre.bbox and pre.scale == want_pre.scale, name
                for step, image in want_pre.steps.items():
                    assert pre.steps[step].tobytes() == image.tobytes(), (name, step)
