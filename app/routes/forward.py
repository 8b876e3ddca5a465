"""POST /api/forward: one drawing through every stage, as JSON (the contract) or, for the page,
as the binary answer of app/wire.py (`Accept: application/octet-stream`).

`async def` on purpose, with no thread hops: the work is ~0.3-1 ms of CPU, and both ways of
moving it off the event loop measured worse on this 2-core machine. Whole requests in FastAPI's
thread pool: 5.1 vs 3.3 ms of CPU per PNG request under a class load (40 threads fighting over
the GIL). Only the image decode in a 2-thread pool (Pillow releases the GIL): one client's p50
4.0 vs 3.4 ms, throughput within noise. More cores: use `convscope serve --workers N`.

The hot path skips FastAPI's request machinery (see `LeanBodyRoute`), and a clean request
skips the router too (`lane`, run by app/front.py); the route is declared the ordinary way, so
OpenAPI, validation and every error stay FastAPI's.
"""
from __future__ import annotations

import orjson
from fastapi import APIRouter, Request
from fastapi.routing import APIRoute
from pydantic import ValidationError
from starlette.responses import Response

from app import serialize, wire
from app.errors import ERROR_RESPONSES
from app.inputs import model_input
from app.models_registry import ModelDep, get_model
from app.responses import binary_response, json_response, prefers
from app.schemas import ForwardBody, ForwardResult


class LeanBodyRoute(APIRoute):
    """A POST route whose well-formed requests skip FastAPI's general body handling.

    FastAPI reads a JSON body with the stdlib `json` module, then validates it and resolves
    dependencies through its generic machinery: ~0.15 ms of a ~0.5 ms forward (bench/api.py).
    Here a body that is `application/json`, parses with orjson into an object and validates as
    the endpoint's body model goes straight to the endpoint, with `?model=` resolved by the
    same dependency function. Anything else (malformed JSON, a wrong field, another content
    type, an empty body) is handed, with its body already read, to FastAPI's own handler, so
    every refusal is worded exactly as on every other route. Both paths validate with the same
    pydantic model, so they accept the same bodies and build the same value.
    """

    def get_route_handler(self):
        standard = super().get_route_handler()
        endpoint = self.endpoint
        model = self.body_field.field_info.annotation if self.body_field else None
        if model is None:
            return standard

        async def handler(request: Request) -> Response:
            response = await lean_call(request, model, endpoint)
            return await standard(request) if response is None else response

        return handler


async def lean_call(request: Request, model, endpoint) -> Response | None:
    """`endpoint`'s answer to a clean request (see LeanBodyRoute), or None (nothing done yet)
    for one FastAPI's own handler should take, body already read."""
    body = await _clean_body(request, model)
    if body is None:
        return None
    res = await get_model(request, request.query_params.get("model"))
    return await endpoint(body=body, request=request, res=res)


async def _clean_body(request: Request, model):
    """The validated body, or None for anything FastAPI's handler should word."""
    content_type = request.headers.get("content-type", "")
    if content_type.partition(";")[0].strip().lower() != "application/json":
        return None
    raw = await request.body()   # cached on the request: the fallback reads the same bytes
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:   # includes NaN literals and huge integers: stdlib's call
        return None
    if type(data) is not dict:
        return None
    try:
        return model.model_validate(data)
    except ValidationError:
        return None


router = APIRouter(prefix="/api", tags=["inference"], route_class=LeanBodyRoute)

_BINARY = {"description": "With `Accept: application/octet-stream`: the same answer as binary "
                          "float32 (app/wire.py, docs/architecture.md).",
           "content": {wire.MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}}}}


def run_forward(body: ForwardBody, res):
    """Body -> (trace, Preprocessed or None): the part explain shares. The model's own input
    declaration says how the body becomes its input (app.inputs.model_input)."""
    x, pre = model_input(body, res)
    return res.network.forward(x), pre


@router.post("/forward", response_model=ForwardResult,
             responses={**ERROR_RESPONSES, 200: _BINARY})
async def forward(body: ForwardBody, request: Request, res: ModelDep) -> Response:
    """Every stage's values, `input` first and `softmax` last, plus the preprocessing steps."""
    trace, pre = run_forward(body, res)
    settings = res.settings
    if prefers(request, wire.MEDIA_TYPE):
        return binary_response(request, wire.encode_forward(trace, pre, res.network),
                               wire.MEDIA_TYPE, settings.gzip_level, settings.gzip_min_bytes)
    return json_response(request, serialize.forward_payload(trace, pre, res.network),
                         settings.gzip_level, settings.gzip_min_bytes,
                         vary="Accept, Accept-Encoding")


async def lane(request: Request) -> Response | None:
    """POST /api/forward without the router (app/front.py's lane): the clean request's answer,
    exactly as LeanBodyRoute's handler gives it, or None for the routed path to take."""
    return await lean_call(request, ForwardBody, forward)


LANES = {route.path: lane for route in router.routes}   # the one route: /api/forward, POST
