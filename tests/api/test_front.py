"""app/front.py's lane answers a clean POST /api/forward past the router: every answer it gives,
refusals included, must be the routed path's, byte for byte and header for header."""
from __future__ import annotations

import base64
import contextlib

import orjson
import pytest

from app.front import Front


@contextlib.contextmanager
def routed(app):
    """The app with its lanes closed: every request takes the router, as before lanes."""
    node = app.middleware_stack
    while not isinstance(node, Front):
        node = node.app
    lanes, node.lanes = node.lanes, {}
    try:
        yield
    finally:
        node.lanes = lanes


def _png_data_url(raw: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(raw).decode()


@pytest.mark.parametrize("query, body, headers", [
    ("", "pixels", {}),
    ("", "pixels", {"accept": "application/octet-stream"}),
    ("", "pixels", {"accept": "application/octet-stream", "accept-encoding": "identity"}),
    ("?model=lenet-harley", "pixels", {"accept-encoding": "gzip"}),
    ("?model=nope", "pixels", {}),                                   # 422 from get_model
    ("", {"image": _png_data_url(b"not a png at all")}, {}),        # the engine's refusal
    ("", {"pixels": [0] * 10, "width": 2, "height": 5, "preprocess": False}, {}),
    ("", {"pixels": [1] * 4, "width": 3, "height": 3}, {}),          # the schema's 422
    ("", b"{", {}),                                                  # malformed: 400
])
def test_the_lane_answers_as_the_router_does(app, client, digit, query, body, headers):
    if body == "pixels":
        body = {"pixels": digit.ravel().tolist(), "width": 28, "height": 28}
    raw = body if isinstance(body, bytes) else orjson.dumps(body)
    headers = {"content-type": "application/json", **headers}

    def ask():
        r = client.post("/api/forward" + query, content=raw, headers=headers)
        return r.status_code, r.content, sorted((k, v) for k, v in r.headers.items()
                                                 if k != "date")

    lane = ask()
    with routed(app):
        assert ask() == lane
    if lane[0] == 200:
        assert dict(lane[2])["x-content-type-options"] == "nosniff"


def test_the_lane_is_taken(app, client, digit, monkeypatch):
    """The comparison above is not vacuous: a clean forward really goes through the lane."""
    from app.routes import forward
    calls = []

    async def counting(request):
        calls.append(request.url.path)
        return await forward.lane(request)

    node = app.middleware_stack
    while not isinstance(node, Front):
        node = node.app
    monkeypatch.setattr(node, "_lane_apps", None)
    monkeypatch.setattr(node, "lanes", {"/api/forward": counting})
    r = client.post("/api/forward", json={"pixels": digit.ravel().tolist(), "width": 28,
                                          "height": 28})
    assert r.status_code == 200 and calls == ["/api/forward"]
    client.post("/api/forward", content=b"{", headers={"content-type": "application/json"})
    assert calls == ["/api/forward"] * 2        # asked, declined: the router answered the 400
