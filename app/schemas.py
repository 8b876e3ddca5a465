"""Every request and response body of the HTTP contract (/work/shared/contract/api.md).

Response models document the contract in /openapi.json; the big responses (forward, explain,
weights) are written straight from NumPy by orjson (app/responses.py) rather than validated
through these models, because a pydantic round-trip of ~16k floats costs milliseconds.
"""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.config import Settings

_LIMITS = Settings()
Pixel = Annotated[int, Field(strict=True, ge=0, le=255)]
Side = Annotated[int, Field(strict=True, ge=_LIMITS.min_pixels_side, le=_LIMITS.max_pixels_side)]
Kind = Literal["input", "conv", "activation", "pool", "flatten", "dense", "softmax"]


# --- sent by the page (and classroom scripts) -------------------------------------------------

class ForwardBody(BaseModel):
    """One drawing: either `pixels` + `width` + `height`, or `image` (a PNG/JPEG data URL)."""
    model_config = ConfigDict(extra="forbid")

    pixels: list[Pixel] | None = Field(
        None, description="Grayscale, row-major, 255 = ink (white on black, like MNIST).")
    width: Side | None = None
    height: Side | None = None
    image: str | None = Field(
        None, description="data:image/png;base64,... (or JPEG), up to 1024×1024 and 2 MB.")
    preprocess: bool = Field(True, strict=True)

    @model_validator(mode="after")
    def _one_input(self):
        if (self.pixels is None) == (self.image is None):
            raise ValueError("give exactly one input: either `pixels` with `width` and `height`, "
                             "or `image` (a data:image/png;base64 or image/jpeg data URL)")
        if self.pixels is not None:
            if self.width is None or self.height is None:
                raise ValueError("`pixels` needs `width` and `height` "
                                 f"(each {_LIMITS.min_pixels_side}..{_LIMITS.max_pixels_side})")
            if len(self.pixels) != self.width * self.height:
                raise ValueError(f"`pixels` has {len(self.pixels)} values but width × height = "
                                 f"{self.width} × {self.height} = {self.width * self.height}")
        elif self.width is not None or self.height is not None:
            raise ValueError("`width` and `height` go with `pixels`, not with `image` "
                             "(an image carries its own size)")
        return self


class ExplainBody(ForwardBody):
    """A forward body plus the unit to explain: `[c, y, x]`, or `[i]` for 1-D stages."""
    layer: str
    unit: list[Annotated[int, Field(strict=True)]] = Field(min_length=1, max_length=3)


# --- sent by the server ----------------------------------------------------------------------

class Health(BaseModel):
    status: Literal["ok"]


class LayerInfo(BaseModel):
    """A stage of the network: name, kind, shape and the kind's parameters."""
    model_config = ConfigDict(extra="allow")

    name: str
    kind: Kind
    shape: list[int]
    filters: int | None = None
    kernel: int | None = None
    stride: int | None = None
    padding: int | None = None
    in_channels: int | None = None
    function: Literal["relu", "tanh", "sigmoid"] | None = None
    op: Literal["max", "avg", "sum"] | None = None
    window: int | None = None
    units: int | None = None


class ModelInfo(BaseModel):
    model_config = ConfigDict(extra="allow")

    name: str
    dataset: str
    classes: list[str]
    accuracy: dict[str, float]
    layers: list[LayerInfo]


# GET /api/models (added): one entry per served model; `id` is what `?model=` takes.
class ModelEntry(BaseModel):
    id: str
    name: str
    label: str
    description: str
    dataset: str
    classes: list[str]
    accuracy: dict[str, float]
    default: bool


class LayerWeights(BaseModel):
    weight: list[float]
    weight_shape: list[int]
    bias: list[float]


class LayerValues(LayerInfo):
    values: list[float] = Field(description="Flat, row-major, float32-exact; `shape` beside it.")


class Step(BaseModel):
    name: Literal["fitted", "centred", "input"]
    shape: list[int]
    values: list[float]


class Preprocessing(BaseModel):
    """How the drawing became the network's input (added field, present when preprocessing)."""
    crop_box: list[int] | None = Field(
        description="[x0, y0, x1, y1] of the ink in the submitted image, half-open; null if blank.")
    centre_of_mass: list[float] | None = Field(description="[y, x] in the 28×28 centred image.")
    steps: list[Step]


class ForwardResult(BaseModel):
    prediction: int
    probabilities: list[float]
    layers: list[LayerValues]
    preprocessing: Preprocessing | None = None


class Source(BaseModel):
    layer: str
    window: list[list[int]]
    values: list[float]
    shape: list[int]


class Term(BaseModel):
    index: int
    input: float
    weight: float
    product: float


class ExplainResult(BaseModel):
    """Where one unit's value comes from; the kind-specific fields follow the contract."""
    model_config = ConfigDict(extra="allow")

    layer: str
    kind: Kind
    unit: list[int]
    value: float
    source: Source | None = None
    shape: list[int] = Field(description="Shape of the explained layer (added field).")
    receptive_field: list[list[int]] = Field(
        description="[[c0, c1], [y0, y1], [x0, x1]] on the 32×32 input (added field).")
    weight: list[float] | None = None
    bias: float | None = None
    sum: float | None = None
    input: float | None = None
    function: str | None = None
    op: str | None = None
    argmax: list[int] | None = None
    top: list[Term] | None = None
    logits: list[float] | None = None


class Sample(BaseModel):
    """A test-set digit as a forward body (pixels, 28×28), ready to POST to /api/forward."""
    pixels: list[int]
    width: int
    height: int


class Join(BaseModel):
    urls: list[str]
    qr_svg: str = Field(description="An inline <svg> QR code of urls[0].")


class ErrorBody(BaseModel):
    detail: str = Field(description="What is wrong and what is accepted.")
