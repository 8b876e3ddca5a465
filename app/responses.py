"""JSON responses written by orjson straight from NumPy, gzip-compressed when accepted (and
the binary forward answer of app/wire.py, negotiated by `Accept`).

orjson writes a float32 array as shortest round-trip float32 digits (e.g. 0.33333334, not
0.3333333432674408), ~0.1 ms for a whole trace; the stdlib json module needs a .tolist() and
float64 digits, several ms and twice the bytes. Compression happens here, at a fast level,
instead of in Starlette's GZipMiddleware (zlib level 9 and a streaming wrapper per response),
with Intel ISA-L's deflate when `isal` is installed (5x faster than zlib level 1, smaller).
Level 1 is the measured choice (a LeNet forward answer, in-process minimum): the ~150 KB JSON
takes 0.15 ms to ~34 KB at ISA-L 1, the same time to 42 KB at 0, 0.19 ms at 2, 0.44 ms at 3
(zlib 1: 1.2 ms, 37 KB); the ~30 KB binary takes 0.06 ms to ~17 KB at 1, 0.05 ms to 22 KB at
0 (over the page's 20 KB). ISA-L's memory levels change neither time nor size measurably.
"""
from __future__ import annotations

import gzip

try:   # Intel ISA-L's deflate: ~5x faster than zlib at level 1 and smaller (bench/api.py)
    from isal import igzip as _gzip
except ImportError:   # pragma: no cover - plain zlib still works, just slower
    _gzip = gzip
import numpy as np
import orjson
from starlette.requests import Request
from starlette.responses import Response

_OPTIONS = orjson.OPT_SERIALIZE_NUMPY


def _default(obj):
    # orjson falls back here for arrays it cannot write natively (non-contiguous, float64
    # views...), for NumPy scalars of unusual dtypes and for tuples of arrays.
    if isinstance(obj, np.ndarray):
        if obj.dtype.kind == "f" and obj.dtype != np.float32:
            obj = obj.astype(np.float32)
        return np.ascontiguousarray(obj)
    if isinstance(obj, np.generic):
        return obj.item()
    raise TypeError(f"cannot serialise {type(obj).__name__}")


def dumps(payload) -> bytes:
    return orjson.dumps(payload, default=_default, option=_OPTIONS)


def _quality(params: str) -> float:
    """The q of one Accept(-Encoding) item's parameters (`;q=0.5`): 1 when absent, 0 if bad."""
    for param in params.split(";"):
        key, _, value = param.strip().partition("=")
        if key.strip().lower() == "q":
            try:
                return float(value.strip())
            except ValueError:
                return 0.0
    return 1.0


def accepts_gzip(request: Request) -> bool:
    """True when Accept-Encoding lists gzip (or *) without q=0."""
    header = request.headers.get("accept-encoding", "")
    for item in header.split(","):
        token, _, params = item.strip().partition(";")
        if token.strip().lower() in ("gzip", "*"):
            return _quality(params) > 0
    return False


def prefers(request: Request, media_type: str, default: str = "application/json") -> bool:
    """True when Accept names `media_type` itself (not just */*) with q > 0 and at least the q
    it gives `default`: the page's `Accept: application/octet-stream` picks the binary forward;
    a browser's or a script's usual `*/*` (or no Accept) keeps the JSON of the contract."""
    header = request.headers.get("accept")
    if not header or media_type not in header.lower():
        return False
    wanted = other = None
    for item in header.split(","):
        token, _, params = item.strip().partition(";")
        token = token.strip().lower()
        if token == media_type:
            wanted = _quality(params)
        elif token == default:
            other = _quality(params)
    return wanted is not None and wanted > 0 and (other is None or wanted >= other)


class Encoded:
    """A body serialised once, with its gzip form made on first need (for fixed responses:
    model info, weights). Compressed once, so at zlib's best level whatever `level` says."""

    def __init__(self, body: bytes, level: int = 9):
        self.body = body
        self._gzipped: bytes | None = None

    def response(self, request: Request) -> Response:
        if len(self.body) >= 1024 and accepts_gzip(request):
            if self._gzipped is None:
                self._gzipped = gzip.compress(self.body, compresslevel=9, mtime=0)
            return _response(self._gzipped, 200, gzipped=True)
        return _response(self.body, 200, gzipped=False)


def _response(body: bytes, status: int, gzipped: bool, media_type: str = "application/json",
              vary: str = "Accept-Encoding") -> Response:
    headers = {"vary": vary}
    if gzipped:
        headers["content-encoding"] = "gzip"
    return Response(body, status_code=status, media_type=media_type, headers=headers)


def compress(body: bytes, level: int) -> bytes:
    if _gzip is not gzip:
        level = min(level, 3)     # ISA-L has levels 0..3
    return _gzip.compress(body, compresslevel=level, mtime=0)


def json_response(request: Request, payload, level: int, min_bytes: int = 1024,
                  status: int = 200, vary: str = "Accept-Encoding") -> Response:
    body = dumps(payload)
    if len(body) >= min_bytes and accepts_gzip(request):
        return _response(compress(body, level), status, True, vary=vary)
    return _response(body, status, False, vary=vary)


def binary_response(request: Request, body: bytes, media_type: str, level: int,
                    min_bytes: int = 1024, vary: str = "Accept, Accept-Encoding") -> Response:
    """Dense binary (app/wire.py), gzipped like JSON when accepted: for the forward answer's
    float32 that is measured worth it (bench/api.py: ~27 -> ~17 KB in ~0.06 ms at ISA-L level
    1), because conv stages repeat their bias wherever a window sees no ink."""
    if len(body) >= min_bytes and accepts_gzip(request):
        return _response(compress(body, level), 200, True, media_type, vary)
    return _response(body, 200, False, media_type, vary)
