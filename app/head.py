"""HEAD is answered wherever GET is (RFC 9110 §9.3.2), by app/front.py.

FastAPI's routes accept only the methods declared, so `HEAD /` was a 405 while `GET /` was a
200 (link checkers, `curl -I` and uptime probes use HEAD). Declaring HEAD on every route
would add a `head` operation per path to /openapi.json; instead the app sees a GET and the
server drops the body: uvicorn writes no body for a request whose method is HEAD, and the
scope it reads is the original one, not the copy passed on here. The headers, Content-Length
included, are exactly the GET's.
"""
from __future__ import annotations


def as_get(scope: dict) -> dict:
    """The scope the app sees: a HEAD request's as a GET (a copy), any other as it is."""
    return {**scope, "method": "GET"} if scope["method"] == "HEAD" else scope
