"""app/responses.py: Accept-Encoding parsing, float32 JSON, gzip round trip."""
from __future__ import annotations

import gzip

import numpy as np
import orjson
import pytest
from starlette.requests import Request

from app.responses import accepts_gzip, compress, dumps


def req(accept: str | None) -> Request:
    headers = [] if accept is None else [(b"accept-encoding", accept.encode())]
    return Request({"type": "http", "method": "GET", "path": "/", "headers": headers})


@pytest.mark.parametrize("header, ok", [
    (None, False), ("", False), ("identity", False), ("gzip", True), ("GZIP", True),
    ("gzip, deflate, br", True), ("br;q=1.0, gzip;q=0.8", True), ("gzip;q=0", False),
    ("gzip; q=0.000", False), ("*", True), ("deflate, *;q=0", False), ("gzipx", False),
])
def test_accepts_gzip(header, ok):
    assert accepts_gzip(req(header)) is ok


def test_float32_values_are_exact_and_shortest():
    rng = np.random.default_rng(0)
    a = (rng.standard_normal(1000) * 10.0 ** rng.integers(-8, 8, 1000)).astype(np.float32)
    back = np.asarray(orjson.loads(dumps(a)), dtype=np.float64).astype(np.float32)
    np.testing.assert_array_equal(back, a)
    assert dumps(np.float32([0.1, 1 / 3])) == b"[0.1,0.33333334]"


def test_non_contiguous_and_float64_arrays_are_written_too():
    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    assert orjson.loads(dumps({"t": a.T})) == {"t": a.T.tolist()}
    assert dumps(np.float64([0.1])) == b"[0.1]"
    assert orjson.loads(dumps({"k": np.int64(3), "v": np.float32(0.5)})) == {"k": 3, "v": 0.5}


def test_compress_round_trips_at_every_level():
    body = dumps({"values": np.linspace(0, 1, 5000, dtype=np.float32)})
    for level in (0, 1, 3, 6, 9):
        assert gzip.decompress(compress(body, level)) == body
