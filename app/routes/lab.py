"""The convolution lab: POST /api/convolve (one map, one kernel) and GET /api/kernels.

`async def` like /api/forward: a 32×32 map with a 5×5 kernel is well under a millisecond of
NumPy, less than a thread-pool hop. A larger one (a 64×64 `input`, a 7×7 kernel, step mode's
products: ~15 ms and ~1 MB) would stall the event loop everyone's forwards share, so above
`settings.convolve_inline_macs` multiply-adds it runs in a thread through the worker's cost
gate (app/limits.py), like /api/gradient.
"""
import numpy as np
from fastapi import APIRouter, Request
from starlette.responses import Response

from app.errors import BUSY, ERROR_RESPONSES
from app.inputs import model_input
from app.limits import GateDep
from app.models_registry import ModelDep
from app.responses import json_response
from app.schemas import ClassicKernel, ConvolveBody, ConvolveResult
from engine import lab
from engine.errors import BadInput

router = APIRouter(prefix="/api", tags=["lab"])


def _map(a) -> dict:
    # float32 on the wire like every other map (orjson's shortest float32 digits).
    return {"shape": list(a.shape), "values": np.ascontiguousarray(a, dtype=np.float32).ravel()}


def _classic(k: lab.Kernel) -> dict:
    return {"name": k.name, "label": k.label, "note": k.note, "shape": list(k.values.shape),
            "values": k.values.ravel().tolist()}


def lab_image(body: ConvolveBody, res) -> np.ndarray:
    """The 2-D map to convolve: `input` as sent, or a drawing turned into the network input
    (its channel 0, or the channel a learned filter's slice reads)."""
    if body.input is not None:
        return body.input.array()
    # lab_kernel has checked the channel against the layer, and a layer with several channels
    # that the lab accepts reads the input: its channels are the input's.
    channel = body.learned.channel if body.learned is not None and body.learned.channel else 0
    return model_input(body, res)[0][channel]


def minus(v: float) -> str:
    """3 decimals with a real minus, as the page writes numbers."""
    return f"{v:.3f}".replace("-", "\u2212")


def lab_kernel(body: ConvolveBody, res) -> dict:
    """{name, label, note, source, values (k, k), bias} for whichever kernel the body names."""
    if body.kernel_name is not None:
        k = lab.KERNELS.get(body.kernel_name)
        if k is None:
            raise BadInput(f"kernel_name {body.kernel_name!r} is not a classic kernel; accepted: "
                           f"{', '.join(lab.KERNELS)}")
        return {"name": k.name, "label": k.label, "note": k.note, "source": "classic",
                "values": k.values, "bias": body.bias}
    if body.learned is not None:
        layer, index, channel = body.learned.layer, body.learned.filter, body.learned.channel
        values, bias = lab.learned_kernel(res.network, layer, index, channel)
        params = res.network.parameters()[layer]
        c = params["weight"].shape[1]
        learned = {"source": "learned", "values": values, "bias": bias}
        if c == 1:      # the slice is the whole filter
            return {"name": f"{layer}[{index}]", "label": f"Learned: {layer} filter {index}",
                    "note": f"what {res.model_info['name']} learned; its own bias included",
                    **learned}
        return {"name": f"{layer}[{index}, {channel}]",
                "label": f"Learned: {layer} filter {index}, input channel {channel}",
                "note": (f"the part of what {res.model_info['name']} learned that reads channel "
                         f"{channel} of {c}. {layer} map {index} adds the {c} channels' outputs, "
                         f"then its bias {minus(float(params['bias'][index]))}: this map is channel "
                         f"{channel}'s share, bias not included"), **learned}
    values = np.asarray(body.kernel, dtype=np.float64)
    return {"name": "custom", "label": "Your kernel", "note": "", "source": "custom",
            "values": values, "bias": body.bias}


def macs(image: np.ndarray, body: ConvolveBody, k: int) -> int:
    """Multiply-adds of the convolution: output cells × k²."""
    h, w = (n + 2 * body.padding for n in image.shape[-2:])
    return max(0, (h - k) // body.stride + 1) * max(0, (w - k) // body.stride + 1) * k * k


def run_convolve(body: ConvolveBody, request: Request, res, image, kernel) -> Response:
    r = lab.convolve_map(image, kernel["values"], body.stride, body.padding, kernel["bias"],
                         body.pool.op, body.pool.window, body.pool.stride, body.activation)
    kernel["values"], kernel["shape"] = kernel["values"].ravel().tolist(), list(r.kernel.shape)
    payload = {
        "kernel": kernel, "stride": r.stride, "padding": r.padding,
        "input_shape": list(image.shape), "padded": _map(r.padded), "output": _map(r.output),
        "activation": r.activation, "relu": _map(r.relu), "pool": r.pool, "pooled": _map(r.pooled), "sizes": r.sizes,
        "products": _map(r.products()) if body.products else None,
    }
    return json_response(request, payload, res.settings.gzip_level, res.settings.gzip_min_bytes)


@router.post("/convolve", response_model=ConvolveResult, responses={**ERROR_RESPONSES, **BUSY})
async def convolve(body: ConvolveBody, request: Request, res: ModelDep,
                   gate: GateDep) -> Response:
    """Pad, convolve, activate (ReLU by default) and pool one map; the size arithmetic; step
    mode's products. A large one (see settings.convolve_inline_macs) may get a 503 with
    Retry-After when this worker is busy with other expensive requests."""
    kernel = lab_kernel(body, res)       # first: its refusals name the layer's own ranges
    image = lab_image(body, res)
    args = (body, request, res, image, kernel)
    if macs(image, body, np.shape(kernel["values"])[-1]) <= res.settings.convolve_inline_macs:
        return run_convolve(*args)
    return await gate.run("convolve", run_convolve, *args)


@router.get("/kernels", response_model=list[ClassicKernel])
async def kernels() -> list[dict]:
    """The classic kernels (identity, three edge detectors, sharpen, blurs), rows flat."""
    return [_classic(k) for k in lab.KERNELS.values()]
