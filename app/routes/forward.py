"""POST /api/forward: one drawing through every stage.

`async def` on purpose: the Python part of the work is ~1 ms of CPU, and running whole
requests in FastAPI's thread pool measured worse (5.1 vs 3.3 ms of CPU per PNG request under a
class load: 40 threads fighting over the GIL). Only an image's decode goes to a 2-thread pool:
Pillow's PNG/JPEG decoder and pixel ops release the GIL, so on a machine with a free core that
~1.3 ms overlaps with other requests' Python work instead of holding up the event loop.
"""
import asyncio
from concurrent.futures import ThreadPoolExecutor

from fastapi import APIRouter, Request
from starlette.responses import Response

from app import serialize
from app.models_registry import ModelDep
from app.errors import ERROR_RESPONSES
from app.inputs import ink_from_body
from app.responses import json_response
from app.schemas import ForwardBody, ForwardResult
from engine.preprocess import preprocess, to_network_input

router = APIRouter(prefix="/api", tags=["inference"])


_DECODER = ThreadPoolExecutor(max_workers=2, thread_name_prefix="decode")


async def run_forward(body: ForwardBody, res):
    """Body -> (trace, Preprocessed or None): the part explain shares."""
    if body.image is not None:
        ink = await asyncio.get_running_loop().run_in_executor(
            _DECODER, ink_from_body, body, res.settings)
    else:
        ink = ink_from_body(body, res.settings)
    if body.preprocess:
        pre = preprocess(ink)
        return res.network.forward(pre.input), pre
    return res.network.forward(to_network_input(ink, preprocess=False)), None


@router.post("/forward", response_model=ForwardResult, responses=ERROR_RESPONSES)
async def forward(body: ForwardBody, request: Request, res: ModelDep) -> Response:
    """Every stage's values, `input` first and `softmax` last, plus the preprocessing steps."""
    trace, pre = await run_forward(body, res)
    return json_response(request, serialize.forward_payload(trace, pre),
                         res.settings.gzip_level, res.settings.gzip_min_bytes)
