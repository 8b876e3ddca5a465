"""Static files served only from static/, whatever the request path tries.

Starlette's StaticFiles already resolves the path and refuses anything whose real path (symlinks
followed) leaves the directory. This subclass also turns away, before any filesystem lookup,
what no file of ours is ever called: `..` segments, backslashes and NUL bytes, so an encoded
trick (`%2e%2e`, `%2f`, `..\\`) cannot even reach the resolver.
"""
from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.staticfiles import StaticFiles


class SafeStaticFiles(StaticFiles):
    def get_path(self, scope) -> str:
        path = super().get_path(scope)
        parts = scope["path"].split("/")
        if "\\" in scope["path"] or "\x00" in scope["path"] or ".." in parts:
            raise HTTPException(404, "not found")
        if path.startswith(("/", "\\")):
            raise HTTPException(404, "not found")
        return path
