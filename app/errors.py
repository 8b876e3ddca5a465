"""Every failure a client can cause becomes a 4xx `{"detail": "<what is wrong, what is accepted>"}`.

- malformed JSON (not parseable at all) -> 400; the contract allows 400 or 422 and 400 says
  "could not even read it" apart from "read it, but a field is wrong" (422).
- schema violations (wrong type, missing/extra field, out of range, NaN/inf) -> 422.
- engine refusals (`EngineError`): BadInput, UnknownLayer, UnitOutOfRange -> 422.
- too large a body or image -> 413 (app/limits.py and app/inputs.py); a compressed body
  (Content-Encoding other than identity) -> 415 (app/limits.py).
- a body JSON cannot even decode (not UTF-8, a number of more than 4,300 digits, nesting too
  deep) -> 400 saying which, instead of FastAPI's "There was an error parsing the body".
- too many expensive requests at once in this worker (app/limits.py `Busy`) -> 503 with
  Retry-After; a model's training history file that cannot be read -> 503 naming the file.
"""
from __future__ import annotations

import math

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse

from app.limits import Busy
from app.schemas import ErrorBody
from engine.errors import (BadInput, DataError, EngineError, ModelFileError, SpecError,
                           UnitOutOfRange, UnknownLayer)

STATUS = {BadInput: 422, UnknownLayer: 422, UnitOutOfRange: 422, SpecError: 422,
          DataError: 503, ModelFileError: 503}

# Declared on every POST route so /openapi.json tells clients what they may get back.
ERROR_RESPONSES = {
    400: {"model": ErrorBody, "description": (
        "Malformed JSON (not parseable), not UTF-8, an integer of more than 4,300 digits or "
        "nesting too deep; `detail` says which.")},
    413: {"model": ErrorBody, "description": "Body over the limit, or an image over 2 MB."},
    415: {"model": ErrorBody, "description": (
        "A compressed body (Content-Encoding other than identity): send it uncompressed.")},
    422: {"model": ErrorBody,
          "description": "Valid JSON but a wrong field; `detail` says which and what is accepted."},
}
BUSY = {503: {"model": ErrorBody, "description": (
    "Too many expensive requests running or waiting in this worker; the `Retry-After` header "
    "says when to try again."), "headers": {"Retry-After": {
        "description": "Seconds to wait before retrying.", "schema": {"type": "integer"}}}}}
_FIELDS = "pixels + width + height, or image; optional preprocess"
_ACCEPTED = "send a JSON object encoded as UTF-8 (uncompressed)"


def parse_failure(cause: BaseException | None) -> str:
    """What made a body undecodable, from the exception FastAPI chained to its generic 400."""
    if isinstance(cause, UnicodeDecodeError):
        bad = cause.object[cause.start:cause.start + 1]
        return f"the body is not valid UTF-8 (byte {cause.start} is {bad!r}); {_ACCEPTED}"
    if isinstance(cause, RecursionError):
        return f"the body's JSON is nested too deeply to read; {_ACCEPTED}, a few levels deep"
    if isinstance(cause, ValueError) and "integer string conversion" in str(cause):
        return ("the body has an integer of more than 4300 digits, which is not read; every "
                "number here is small (pixels 0..255, sizes up to 512)")
    return f"the body could not be read as JSON ({type(cause).__name__}); {_ACCEPTED}"


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
    if exc.status_code == 400 and detail == "There was an error parsing the body":
        detail = parse_failure(exc.__cause__)
    return JSONResponse({"detail": detail}, status_code=exc.status_code,
                        headers=getattr(exc, "headers", None))


async def _busy(request: Request, exc: Busy) -> JSONResponse:
    return JSONResponse({"detail": exc.detail}, status_code=503,
                        headers={"Retry-After": str(exc.retry_after)})


def not_found(detail: str) -> StarletteHTTPException:
    return StarletteHTTPException(404, detail)


def unprocessable(detail: str) -> StarletteHTTPException:
    return StarletteHTTPException(422, detail)


def install(app: FastAPI) -> None:
    app.add_exception_handler(Busy, _busy)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(EngineError, _engine)
    app.add_exception_handler(StarletteHTTPException, _http)


def refused(status: int, detail: str) -> StarletteHTTPException:
    """A request refused for what it is (a Host naming another server...): `detail` says why."""
    return StarletteHTTPException(status, detail)
