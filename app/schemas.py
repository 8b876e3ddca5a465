"""Every request and response body of the HTTP contract (/work/shared/contract/api.md).

Response models document the contract in /openapi.json; the big responses (forward, explain,
weights) are written straight from NumPy by orjson (app/responses.py) rather than validated
through these models, because a pydantic round-trip of ~16k floats costs milliseconds.
"""
from __future__ import annotations

import math
from typing import Annotated, Literal

import numpy as np

from pydantic import (BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, WrapValidator,
                      field_validator, model_validator)

from app.config import Settings
from engine import lab    # the lab's accepted ranges: defined once there, checked here too
from engine.gradient import MAX_LEARNING_RATE, MAX_STEPS
from engine.kinds import ACTIVATIONS, KIND_NAMES

_LIMITS = Settings()
Pixel = Annotated[int, Field(strict=True, ge=0, le=255)]


_STRICT_INTS = TypeAdapter(list[Annotated[int, Field(strict=True)]])


def _pixels_fast(value, handler):
    """list[Pixel] in a third of the time (28×28: 31 -> 15 µs; issue 12): pydantic checks only
    that every item is a strict int, bytes() that each is 0..255 (in C). Anything either
    refuses goes through the full list[Pixel] validation, which words the refusal as ever."""
    if type(value) is list:
        try:
            ints = _STRICT_INTS.validate_python(value)
            bytes(ints)                 # ValueError unless every item is in 0..255
            return ints
        except (ValidationError, ValueError):
            pass
    return handler(value)


# What list[Pixel] accepts and returns, and its JSON schema; only faster (_pixels_fast).
Pixels = Annotated[list[Pixel], WrapValidator(_pixels_fast)]
Side = Annotated[int, Field(strict=True, ge=_LIMITS.min_pixels_side, le=_LIMITS.max_pixels_side)]
Kind = Literal[KIND_NAMES]     # engine.kinds: one description per layer kind


# --- sent by the page (and classroom scripts) -------------------------------------------------

class ForwardBody(BaseModel):
    """One drawing: either `pixels` + `width` + `height`, or `image` (a PNG/JPEG data URL)."""
    model_config = ConfigDict(extra="forbid")

    pixels: Pixels | None = Field(
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
    function: Literal[ACTIVATIONS] | None = None
    op: Literal["max", "avg", "sum"] | None = None
    window: int | None = None
    units: int | None = None


class LabLimits(BaseModel):
    kernel_sizes: list[int]
    strides: list[int]
    paddings: list[int]
    pool_ops: list[str]
    pool_windows: list[int]
    activations: list[str]
    max_abs_weight: float


class LearnLimits(BaseModel):
    max_steps: int
    max_learning_rate: float


class Limits(BaseModel):
    lab: LabLimits
    learn: LearnLimits


class ImportedCard(BaseModel):
    source: str = Field(description="onnx or torch")
    file: str = Field(description="the imported file's name")
    stages: dict[str, str] = Field(default_factory=dict, description="stage -> what the import "
                                   "changed there (a BatchNorm folded into its weights, a "
                                   "LogSoftmax shown as softmax); the numbers panel says it")


class ModelInfo(BaseModel):
    model_config = ConfigDict(extra="allow")

    name: str
    dataset: str
    classes: list[str]
    accuracy: dict[str, float]
    layers: list[LayerInfo]
    input: dict | None = Field(None, description="Added: the model's input declaration "
                               "(shape, channels, preprocess, pad, mean, std, subject, prompt).")
    kinds: dict | None = Field(None, description="Added: each layer kind's params and rules.")
    notes: list[str] | None = Field(None, description="Added: what an import changed.")
    limits: Limits | None = Field(None, description="Added: the Lab's and Learn's accepted "
                                  "ranges (engine.lab, engine.gradient); the page's controls.")
    samples: bool | None = Field(None, description="Added: whether /api/samples has test images.")
    history: bool | None = Field(None, description="Added: whether a recorded training run "
                                 "(<model>.history.npz) is beside the model: GET /api/history "
                                 "answers it, else 404.")
    imported: ImportedCard | None = Field(None, description="Added: where `convscope import` "
                                          "took the model from; null for a model trained here.")


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
    # Only for non-MNIST datasets (false): their images are fed as they are, not re-centred.
    preprocess: bool | None = None


class Join(BaseModel):
    urls: list[str]
    qr_svg: str = Field(description="An inline <svg> QR code of urls[0].")


class ErrorBody(BaseModel):
    detail: str = Field(description="What is wrong and what is accepted.")


# --- Learn view (issue 6): POST /api/gradient, GET /api/history, POST /api/history/forward ----
# Sent by the Learn tab. Bounds live in engine.gradient (MAX_STEPS, MAX_LEARNING_RATE); the
# target's upper bound depends on the model, so the engine checks it against the classes.

class WeightPick(BaseModel):
    """Which conv weight `weight_terms` writes out (lessons: how backprop changes a filter)."""
    model_config = ConfigDict(extra="forbid")
    layer: str = Field(description="A conv layer's name.")
    index: list[Annotated[int, Field(strict=True)]] | None = Field(
        None, min_length=4, max_length=4,
        description="[filter, map, row, col]; omitted = the weight with the largest |gradient|.")


class GradientBody(ForwardBody):
    """A forward body plus what to learn: the class the digit should be, and how hard."""
    target: int = Field(strict=True, ge=0, description="Class index the digit should be.")
    learning_rate: float = Field(gt=0, le=MAX_LEARNING_RATE, allow_inf_nan=False, strict=True,  # "1", true: 422
                                 description="SGD step size, 0 < learning_rate ≤ 1.")
    steps: int = Field(1, strict=True, ge=1, le=MAX_STEPS,
                       description="SGD steps from the served model (1..20); send n to see n "
                                   "steps: the server keeps no state between calls.")
    dense_weights: Literal["full", "outer"] = Field(
        "full", description="`full`: dense weight gradients as flat (units × inputs) arrays; "
        "`outer`: only their two factors `rows` (d loss/d output) and `cols` (the input), since "
        "for one example d loss/d W = rows ⊗ cols exactly (48k floats of fc1 become 520).")
    weight: WeightPick | None = Field(None, description="Also write one conv weight's gradient "
                                      "out as its sum over positions (`weight_terms`).")


class WeightTerm(BaseModel):
    position: list[int] = Field(description="[y, x] output position.")
    input: float = Field(description="The input value under the weight at this position.")
    upstream: float = Field(description="d loss / d conv output at this position.")
    product: float


class WeightTerms(BaseModel):
    layer: str
    index: list[int] = Field(description="[filter, map, row, col].")
    before: float = Field(description="The weight in the served model.")
    gradient: float = Field(description="d cross-entropy / d weight (= sum).")
    learning_rate: float
    after_one_step: float = Field(description="before − learning_rate × gradient.")
    source: str = Field(description="The stage the conv reads.")
    stride: int
    padding: int
    positions: list[int] = Field(description="[H', W'] output positions summed over.")
    window: list[float] = Field(description="Input value under the weight at every position, flat.")
    upstream: list[float] = Field(description="d loss / d conv output [filter] at every position.")
    products: list[float] = Field(description="window × upstream at every position.")
    sum: float = Field(description="Σ products (= gradient).")
    top: list[WeightTerm] = Field(description="The largest |products|, largest first.")
    rest: float = Field(description="Σ of the other products.")
    rest_count: int


class Figures(BaseModel):
    probabilities: list[float]
    prediction: int
    total_error: float = Field(description="Σ_k ½ (target_k − probability_k)².")
    cross_entropy: float = Field(description="−log probability[target]; the loss descended.")


class StepFigures(BaseModel):
    step: int = Field(description="0 = the served model, n = after n steps.")
    total_error: float
    cross_entropy: float
    probability: float = Field(description="Probability of the target class.")


class StageGradient(BaseModel):
    name: str
    shape: list[int]
    values: list[float] = Field(description="d cross-entropy / d stage values, flat row-major.")


class OuterFactors(BaseModel):
    rows: list[float] = Field(description="d loss / d layer output (units).")
    cols: list[float] = Field(description="The layer's input (inputs); weight[i, j] = rows[i]·cols[j].")


class ParameterGradient(BaseModel):
    weight: list[float] | None = Field(None, description="Absent when dense_weights = outer.")
    weight_shape: list[int]
    bias: list[float]
    outer: OuterFactors | None = None


class KernelChange(BaseModel):
    before: list[float]
    after: list[float]
    shape: list[int]


class GradientResult(BaseModel):
    target: int
    learning_rate: float
    steps: int
    loss: Literal["cross_entropy"] = Field(description="The loss differentiated and descended.")
    target_vector: list[float]
    before: Figures
    after: Figures
    history: list[StepFigures] = Field(description="steps + 1 entries: the start, then each step.")
    stage_gradients: list[StageGradient]
    parameter_gradients: dict[str, ParameterGradient]
    kernels: dict[str, KernelChange] = Field(description="Every conv layer's weights before and "
                                                         "after the steps.")
    weight_terms: WeightTerms | None = Field(None, description="Only when the body asks `weight`.")


class HistoryForwardBody(ForwardBody):
    """A forward body plus which snapshots (default all) and stages (default: each conv
    layer's maps after its activation, e.g. relu1 and relu2)."""
    snapshots: list[Annotated[int, Field(strict=True)]] | None = Field(
        None, max_length=256, description="Snapshot indices from GET /api/history; omitted = all.")
    stages: list[str] | None = Field(None, min_length=0, max_length=16, description=(
        "Distinct stage names whose values to return; the answer holds at most "
        f"{_LIMITS.history_max_values:,} values (snapshots × the stages' sizes), else 422."))


class SnapshotForward(BaseModel):
    index: int
    prediction: int
    probabilities: list[float]
    layers: list[StageGradient] = Field(description="{name, shape, values} of each asked stage.")


class HistoryForwardResult(BaseModel):
    count: int = Field(description="Snapshots in the history.")
    snapshots: list[SnapshotForward]


class SnapshotInfo(BaseModel):
    index: int
    step: int = Field(description="Optimisation steps done (0 = random init).")
    epoch: float
    label: str
    test_accuracy: float = Field(description="On the probe (see `probe`).")
    test_loss: float


class SnapshotKernels(BaseModel):
    layer: str
    shape: list[int] = Field(description="[snapshots, filters, in_channels, k, k].")
    values: list[float]


class SeedRun(BaseModel):
    seed: int
    epochs: int
    label: str
    differs: list[str] = Field(default_factory=list, description=(
        "What this run does differently from the model's own run besides its seed, in words "
        "(e.g. '5 epochs instead of 60'); empty when network, data and recipe are the same."))
    shape: list[int]
    init: list[float] = Field(description="conv1 weights at random init.")
    final: list[float] = Field(description="conv1 weights at the end of that run.")
    test_accuracy: float | None


class StepCurves(BaseModel):
    bucket: int = Field(description="Steps averaged into each point.")
    step: list[int] = Field(description="Step count at the end of each bucket.")
    loss: list[float]
    total_error: list[float]


class HistoryResult(BaseModel):
    model: str
    steps_per_epoch: int
    probe: str
    config: dict
    curves: dict[str, list[float]] = Field(
        description="Per epoch: epoch, train_loss, train_total_error, train_accuracy, test_loss, "
                    "test_total_error, test_accuracy, lr, seconds.")
    step_curves: StepCurves
    snapshots: list[SnapshotInfo]
    kernels: SnapshotKernels
    seeds: list[SeedRun] = Field(description="This run first, then any other-seed runs.")


# --- Lab: POST /api/convolve and GET /api/kernels (sent by the Lab tab and classroom scripts) --
# Ranges are checked here with messages that name them (the engine re-checks: it is callable
# without the app). A before-validator reports the range instead of pydantic's one-sided
# "less than or equal to 3".

def _int_choice(name: str, value, accepted: tuple[int, ...]) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value not in accepted:
        raise ValueError(f"`{name}` is {value!r}; accepted: an integer "
                         f"{accepted[0]}..{accepted[-1]}")
    return value


def _finite(name: str, value, bound: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or abs(value) > bound:
        raise ValueError(f"`{name}` has {value!r}; accepted: finite numbers between −{bound:g} "
                         f"and {bound:g}")
    return float(value)


class LabInput(BaseModel):
    """A map the page already has: the network's input (one channel of it) or the centred step.

    `pixels` (ints 0..255, value = pixel / 255 exactly as the network's quantised input) is
    the compact form: ~4 kB of JSON instead of ~20 kB of float digits, parsed 5× faster.
    """
    model_config = ConfigDict(extra="forbid")

    values: list[Annotated[float, Field(strict=True)]] | None = Field(
        None, description="Flat, row-major: [0, 1] for a plain input; a normalised channel "
                          "((x − mean) / std) may leave it, within ±100.")
    pixels: Pixels | None = Field(None, description="Flat, row-major, 0..255 (÷ 255).")
    shape: list[int] = Field(description="[H, W] or [1, H, W], 8 ≤ H, W ≤ 64.")

    @model_validator(mode="before")
    @classmethod
    def _check(cls, data):
        if not isinstance(data, dict):
            return data
        shape = data.get("shape")
        if not (isinstance(shape, list) and len(shape) in (2, 3) and all(
                isinstance(n, int) and not isinstance(n, bool) for n in shape)
                and (len(shape) == 2 or shape[0] == 1) and all(8 <= n <= 64 for n in shape[-2:])):
            raise ValueError(f"`input.shape` is {shape!r}; accepted: [H, W] or [1, H, W] with "
                             "8 ≤ H, W ≤ 64 (e.g. [1, 32, 32] or [28, 28])")
        given = [k for k in ("values", "pixels") if data.get(k) is not None]
        if len(given) != 1:
            raise ValueError("`input` needs exactly one of `values` (numbers in [0, 1]) or "
                             "`pixels` (integers 0..255), with `shape`")
        data_ = data[given[0]]
        if not isinstance(data_, list) or len(data_) != shape[-1] * shape[-2]:
            raise ValueError(f"`input.{given[0]}` must be a list of H × W = "
                             f"{shape[-2] * shape[-1]} numbers, row-major")
        return data

    @model_validator(mode="after")
    def _range(self):
        if self.values is not None:
            a = np.asarray(self.values, dtype=np.float64)
            if not (np.isfinite(a).all() and np.abs(a).max() <= lab.MAX_ABS_INPUT):
                raise ValueError(f"`input.values` must be finite numbers between "
                                 f"−{lab.MAX_ABS_INPUT:g} and {lab.MAX_ABS_INPUT:g} ([0, 1] for a "
                                 "plain input, a normalised channel's own range otherwise; NaN "
                                 "and infinities are not accepted)")
        return self

    def array(self) -> np.ndarray:
        """(H, W) float32; pixels become k × float32(1/255), the engine's own quantised values."""
        h, w = self.shape[-2:]
        if self.pixels is not None:
            return (np.asarray(self.pixels, dtype=np.float32) * np.float32(1 / 255)).reshape(h, w)
        return np.asarray(self.values, dtype=np.float32).reshape(h, w)


class LearnedFilter(BaseModel):
    """A trained filter of a conv layer reading the input, e.g. {"layer": "conv1", "filter": 3},
    or one input channel's slice of it: {"layer": "conv1", "filter": 4, "channel": 2}."""
    model_config = ConfigDict(extra="forbid")

    layer: str
    filter: int = Field(strict=True)
    channel: int | None = Field(None, description=(
        "Added: which input channel's slice of the filter (0..in_channels − 1). Needed when the "
        "layer reads several channels (the slice then comes without the bias, which the layer "
        "adds once to the sum over channels); may be left out when it reads one map (= 0). With "
        "a drawing or image body instead of `input`, that channel of the model input is the map."))

    @field_validator("channel", mode="before")
    @classmethod
    def _channel(cls, v):
        # The upper bound is the layer's (engine.lab.learned_kernel names it); here the type.
        if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 0):
            raise ValueError(f"`learned.channel` is {v!r}; accepted: an integer 0..in_channels − 1 "
                             "of the layer")
        return v


class PoolChoice(BaseModel):
    model_config = ConfigDict(extra="forbid")

    op: Literal["max", "avg", "sum"] = "max"
    window: int = Field(2, ge=1, le=lab.POOL_WINDOWS[-1], description="1..4")
    stride: int | None = Field(None, ge=1, le=lab.POOL_WINDOWS[-1],
                               description="1..4; default: the window")

    @field_validator("window", "stride", mode="before")
    @classmethod
    def _range(cls, v, info):
        return v if v is None else _int_choice(f"pool.{info.field_name}", v, lab.POOL_WINDOWS)


class ConvolveBody(BaseModel):
    """One map (a forward body, or `input`) and one kernel (`kernel`, `kernel_name` or
    `learned`), with stride, zero-padding and the pooling of the ReLU map."""
    model_config = ConfigDict(extra="forbid")

    pixels: Pixels | None = None
    width: Side | None = None
    height: Side | None = None
    image: str | None = None
    preprocess: bool = Field(True, strict=True)
    input: LabInput | None = None
    kernel: list[list[float]] | None = Field(
        None, description="k rows of k numbers, k odd 1..7, finite, |v| ≤ 1000.")
    kernel_name: str | None = Field(None, description="A name from GET /api/kernels.")
    learned: LearnedFilter | None = None
    bias: float = Field(0.0, description="Added to every output cell (learned filters use "
                                         "their own bias).")
    stride: int = Field(1, ge=1, le=lab.STRIDES[-1], description="1..3")
    padding: int = Field(0, ge=0, le=lab.PADDINGS[-1], description="0..3 rings of zeros")
    pool: PoolChoice = Field(default_factory=PoolChoice)
    products: bool = Field(False, strict=True, description=(
        "Step mode: also return window × kernel at every output position."))
    activation: str = Field("relu", description="Applied to the output before pooling: relu, "
                                                "tanh, sigmoid or none.")

    @model_validator(mode="before")
    @classmethod
    def _known_fields(cls, data):
        # errors.py words `extra_forbidden` for the forward body; say the lab's own fields.
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(cls.model_fields))
            if unknown:
                raise ValueError(f"unknown field {unknown[0]!r}; accepted fields: "
                                 f"{', '.join(cls.model_fields)}")
        return data

    @field_validator("stride", mode="before")
    @classmethod
    def _stride(cls, v):
        return _int_choice("stride", v, lab.STRIDES)

    @field_validator("padding", mode="before")
    @classmethod
    def _padding(cls, v):
        return _int_choice("padding", v, lab.PADDINGS)

    @field_validator("activation", mode="before")
    @classmethod
    def _activation(cls, v):
        accepted = lab.ACTIVATIONS
        if v not in accepted or not isinstance(v, str):
            raise ValueError(f"`activation` is {v!r}; accepted: {', '.join(accepted)}")
        return v

    @field_validator("bias", mode="before")
    @classmethod
    def _bias(cls, v):
        return _finite("bias", v, 1000)

    @field_validator("kernel", mode="before")
    @classmethod
    def _kernel(cls, v):
        sizes = "k rows of k numbers with k = 1, 3, 5 or 7 (at most 7×7)"
        if v is None:
            return v
        if not isinstance(v, list) or not all(isinstance(r, list) for r in v):
            raise ValueError(f"`kernel` must be a list of rows: {sizes}")
        k = len(v)
        if k not in lab.KERNEL_SIZES or any(len(r) != k for r in v):
            raise ValueError(f"`kernel` is {k}×{'/'.join(sorted({str(len(r)) for r in v})) or 0};"
                             f" accepted: {sizes}")
        for row in v:
            for x in row:
                _finite("kernel", x, 1000)
        return v

    @model_validator(mode="after")
    def _one_each(self):
        sources = [n for n in ("pixels", "image", "input") if getattr(self, n) is not None]
        if len(sources) != 1:
            raise ValueError("give exactly one map: `pixels` with `width` and `height`, `image` "
                             "(a PNG/JPEG data URL), or `input` ({values, shape})")
        if self.pixels is not None:
            ForwardBody(pixels=self.pixels, width=self.width, height=self.height)  # same checks
        elif self.width is not None or self.height is not None:
            raise ValueError("`width` and `height` go with `pixels` only (`input` carries its "
                             "own `shape`, an image its own size)")
        kernels = [n for n in ("kernel", "kernel_name", "learned") if getattr(self, n) is not None]
        if len(kernels) != 1:
            raise ValueError("give exactly one kernel: `kernel` (k×k numbers), `kernel_name` "
                             "(see GET /api/kernels) or `learned` ({layer, filter, channel?})")
        return self


class LabMap(BaseModel):
    shape: list[int]
    values: list[float]


class ClassicKernel(BaseModel):
    name: str
    label: str
    note: str
    shape: list[int]
    values: list[float]


class LabKernel(ClassicKernel):
    source: Literal["classic", "custom", "learned"]
    bias: float


class ConvolveResult(BaseModel):
    kernel: LabKernel
    stride: int
    padding: int
    input_shape: list[int]
    padded: LabMap = Field(description="The map with `padding` rings of zeros around it.")
    output: LabMap = Field(description="Σ window × kernel + bias at every position.")
    activation: str = "relu"
    relu: LabMap = Field(description="The output after `activation` (the key is named for the "
                                     "default, ReLU); this is the map that is pooled.")
    pool: PoolChoice
    pooled: LabMap
    sizes: dict = Field(description="conv/pool × height/width: (W − F + 2P) / S + 1 written out.")
    products: LabMap | None = Field(None, description=(
        "[H', W', k, k]: window × kernel per output position (only when asked)."))
