"""The app's one pure-ASGI layer, outermost: what every HTTP request meets before any route.

In order, for each request:
1. security headers on its response, whatever answers it (app/security.py);
2. HEAD seen as GET by everything inside (app/head.py);
3. an always-gated path refused at once while the cost gate is full (app/limits.py);
4. for a method with a body, the body limit: read, counted, replayed (app/limits.py);
5. a POST to a lane's path (app/routes/forward.py `LANES`) answered by the lane directly, when
   it takes the request: without Starlette's router, FastAPI's request wrapper and its exit
   stack, which are most of the framework's cost of a forward; a request it does not take
   (anything but a clean body) goes on to the app with its body replayed, as every other.

These were four middlewares, each a call and a closure per request; one layer does the same.
Measured in-process (minimum of 1000, the forward's own work stubbed out so only the framework
and the body's parse and validation remain): 0.091 ms a forward before, 0.065 ms with this
layer and the lane; health, which takes the router, 0.037 ms either way.
A lane's exceptions get the app's own handlers (a Starlette ExceptionMiddleware made from
`app.exception_handlers`, as FastAPI makes the app's), so its refusals are worded exactly as
the routed path's; anything unhandled goes on to Starlette's 500, as from a route.
"""
from __future__ import annotations

from starlette.middleware.exceptions import ExceptionMiddleware
from starlette.requests import Request

from app.head import as_get
from app.limits import CostGate, read_body, refuse_when_full, replay
from app.security import secured

_BODYLESS = ("GET", "HEAD", "OPTIONS")


class _Declined(Exception):
    """A lane's request it does not take: the app answers it (raised past the handlers)."""


class Front:
    def __init__(self, app, *, owner, gate: CostGate, gated_paths: tuple[str, ...],
                 limit: int, lanes: dict):
        self.app, self.owner, self.gate, self.limit = app, owner, gate, limit
        self.gated = frozenset(gated_paths)
        self.lanes = dict(lanes)
        self._lane_apps: dict | None = None

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        send = secured(send)
        scope = as_get(scope)
        if scope["path"] in self.gated and self.gate.full:
            return await refuse_when_full(self.gate, scope, receive, send, self.limit)
        if scope["method"] in _BODYLESS:
            return await self.app(scope, receive, send)
        body = await read_body(scope, receive, send, self.limit)
        if body is None:      # refused (answered) or the client went away
            return
        lane = self.lanes.get(scope["path"]) if scope["method"] == "POST" else None
        if lane is not None and not scope.get("root_path"):
            try:
                return await self._lane_app(scope["path"])(scope, replay(body, receive), send)
            except _Declined:
                pass
        await self.app(scope, replay(body, receive), send)

    def _lane_app(self, path: str):
        if self._lane_apps is None:   # at the first request: every handler is installed by then
            handlers = {k: v for k, v in self.owner.exception_handlers.items()
                        if k not in (500, Exception)}    # those are the 500's, outside
            self._lane_apps = {p: ExceptionMiddleware(_asgi(lane), handlers=handlers,
                                                      debug=self.owner.debug)
                               for p, lane in self.lanes.items()}
        return self._lane_apps[path]


def _asgi(lane):
    """lane(request) -> Response | None as an ASGI app; None raises _Declined, before any byte
    of a response is sent."""
    async def app(scope, receive, send):
        response = await lane(Request(scope, receive))
        if response is None:
            raise _Declined
        await response(scope, receive, send)

    return app
