"""POST /api/forward: one drawing through every stage.

`async def` on purpose, with no thread hops: the work is ~1-2.5 ms of CPU, and both ways of
moving it off the event loop measured worse on this 2-core machine. Whole requests in FastAPI's
thread pool: 5.1 vs 3.3 ms of CPU per PNG request under a class load (40 threads fighting over
the GIL). Only the image decode in a 2-thread pool (Pillow releases the GIL): one client's p50
4.0 vs 3.4 ms, throughput within noise. More cores: use `convscope serve --workers N`.
"""
from fastapi import APIRouter, Request
from starlette.responses import Response

from app import serialize
from app.models_registry import ModelDep
from app.errors import ERROR_RESPONSES
from app.inputs import model_input
from app.responses import json_response
from app.schemas import ForwardBody, ForwardResult

router = APIRouter(prefix="/api", tags=["inference"])


def run_forward(body: ForwardBody, res):
    """Body -> (trace, Preprocessed or None): the part explain shares. The model's own input
    declaration says how the body becomes its input (app.inputs.model_input)."""
    x, pre = model_input(body, res)
    return res.network.forward(x), pre


@router.post("/forward", response_model=ForwardResult, responses=ERROR_RESPONSES)
async def forward(body: ForwardBody, request: Request, res: ModelDep) -> Response:
    """Every stage's values, `input` first and `softmax` last, plus the preprocessing steps."""
    trace, pre = run_forward(body, res)
    return json_response(request, serialize.forward_payload(trace, pre),
                         res.settings.gzip_level, res.settings.gzip_min_bytes)
