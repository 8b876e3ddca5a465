"""Every failure a client can cause becomes a 4xx `{"detail": "<what is wrong, what is accepted>"}`.

- malformed JSON (not parseable at all) -> 400; the contract allows 400 or 422 and 400 says
  "could not even read it" apart from "read it, but a field is wrong" (422).
- schema violations (wrong type, missing/extra field, out of range, NaN/inf) -> 422.
- engine refusals (`EngineError`): BadInput, UnknownLayer, UnitOutOfRange -> 422.
- too large a body or image -> 413 (app/limits.py and app/inputs.py).
"""
from __future__ import annotations

import math

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse

from app.schemas import ErrorBody
from engine.errors import (BadInput, DataError, EngineError, ModelFileError, SpecError,
                           UnitOutOfRange, UnknownLayer)

STATUS = {BadInput: 422, UnknownLayer: 422, UnitOutOfRange: 422, SpecError: 422,
          DataError: 503, ModelFileError: 503}

# Declared on every POST route so /openapi.json tells clients what they may get back.
ERROR_RESPONSES = {
    400: {"model": ErrorBody, "description": "Malformed JSON (not parseable)."},
    413: {"model": ErrorBody, "description": "Body over the limit, or an image over 2 MB."},
    422: {"model": ErrorBody,
          "description": "Valid JSON but a wrong field; `detail` says which and what is accepted."},
}
_FIELDS = "pixels + width + height, or image; optional preprocess"


def _where(loc) -> str:
    parts = [str(p) for p in loc if p != "body"]
    out = ""
    for p in parts:
        out += f"[{p}]" if p.isdigit() else (f".{p}" if out else p)
    return out or "body"


def _describe(err: dict) -> str:
    where, kind, msg = _where(err.get("loc", ())), err.get("type", ""), err.get("msg", "")
    value = err.get("input")
    if isinstance(value, float) and not math.isfinite(value):
        return f"{where}: {value} is not accepted (NaN and infinities are not numbers here); {msg}"
    if kind == "extra_forbidden":
        return f"{where}: unknown field; accepted fields: {_FIELDS} (explain adds layer, unit)"
    if kind == "missing":
        if where == "body":
            return f"the body is empty; send a JSON object with {_FIELDS}"
        return f"{where}: field required"
    if kind == "value_error":
        return msg.removeprefix("Value error, ")
    if kind in ("model_attributes_type", "dict_type") and where == "body":
        return ("body must be a JSON object sent as application/json, with "
                f"{_FIELDS}")
    return f"{where}: {msg}"


def validation_detail(errors: list[dict], limit: int = 3) -> str:
    parts = [_describe(e) for e in errors[:limit]]
    more = len(errors) - limit
    if more > 0:
        parts.append(f"and {more} more error{'s' if more > 1 else ''}")
    return "; ".join(parts)


async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = exc.errors()
    bad_json = next((e for e in errors if e.get("type") == "json_invalid"), None)
    if bad_json is not None:
        why = (bad_json.get("ctx") or {}).get("error", "")
        pos = bad_json.get("loc", ("body", "?"))[-1]
        return JSONResponse({"detail": f"malformed JSON at character {pos}: {why}; send a JSON "
                                       f"object with {_FIELDS} (NaN and Infinity are not JSON)"},
                            status_code=400)
    return JSONResponse({"detail": validation_detail(errors)}, status_code=422)


async def _engine(request: Request, exc: EngineError) -> JSONResponse:
    status = next((s for cls, s in STATUS.items() if isinstance(exc, cls)), 422)
    return JSONResponse({"detail": str(exc)}, status_code=status)


async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
    return JSONResponse({"detail": detail}, status_code=exc.status_code,
                        headers=getattr(exc, "headers", None))


def install(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(EngineError, _engine)
    app.add_exception_handler(StarletteHTTPException, _http)
