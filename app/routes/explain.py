"""POST /api/explain: where one unit's value comes from (the engine reads the trace)."""
from fastapi import APIRouter, Request
from starlette.responses import Response

from app import serialize
from app.models_registry import ModelDep
from app.errors import ERROR_RESPONSES
from app.responses import json_response
from app.routes.forward import run_forward
from app.schemas import ExplainBody, ExplainResult
from engine.explain import explain as engine_explain
from engine.explain import receptive_field

router = APIRouter(prefix="/api", tags=["inference"])


@router.post("/explain", response_model=ExplainResult, responses=ERROR_RESPONSES)
async def explain(body: ExplainBody, request: Request, res: ModelDep) -> Response:
    """The unit's source window, weights and terms; 422 names valid layers and ranges."""
    trace, _ = run_forward(body, res)
    unit = tuple(body.unit)
    result = engine_explain(res.network, trace, body.layer, unit)   # UnknownLayer/UnitOutOfRange
    shape = trace[body.layer].shape
    field = receptive_field(res.network, body.layer, unit)
    return json_response(request, serialize.explain_payload(result, shape, field),
                         res.settings.gzip_level, res.settings.gzip_min_bytes)
