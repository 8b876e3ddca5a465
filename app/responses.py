"""JSON responses written by orjson straight from NumPy, gzip-compressed when accepted.

orjson writes a float32 array as shortest round-trip float32 digits (e.g. 0.33333334, not
0.3333333432674408), ~0.1 ms for a whole trace; the stdlib json module needs a .tolist() and
float64 digits, several ms and twice the bytes. Compression happens here, at a fast level,
instead of in Starlette's GZipMiddleware (zlib level 9 and a streaming wrapper per response),
with Intel ISA-L's deflate when `isal` is installed (5x faster than zlib level 1, smaller).
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


def accepts_gzip(request: Request) -> bool:
    """True when Accept-Encoding lists gzip (or *) without q=0."""
    header = request.headers.get("accept-encoding", "")
    for item in header.split(","):
        token, _, params = item.strip().partition(";")
        if token.strip().lower() in ("gzip", "*"):
            q = params.replace(" ", "").lower()
            if not q.startswith("q="):
                return True
            try:
                return float(q[2:]) > 0
            except ValueError:
                return False
    return False


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


def _response(body: bytes, status: int, gzipped: bool) -> Response:
    headers = {"vary": "Accept-Encoding"}
    if gzipped:
        headers["content-encoding"] = "gzip"
    return Response(body, status_code=status, media_type="application/json", headers=headers)


def compress(body: bytes, level: int) -> bytes:
    if _gzip is not gzip:
        level = min(level, 3)     # ISA-L has levels 0..3
    return _gzip.compress(body, compresslevel=level, mtime=0)


def json_response(request: Request, payload, level: int, min_bytes: int = 1024,
                  status: int = 200) -> Response:
    body = dumps(payload)
    if len(body) >= min_bytes and accepts_gzip(request):
        return _response(compress(body, level), status, True)
    return _response(body, status, False)
