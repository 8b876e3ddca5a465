"""/docs (Swagger UI) and /redoc served from this server, and an OpenAPI document whose error
schemas are what the server really returns.

FastAPI's own /docs and /redoc load their JavaScript and CSS from a CDN: blank in a classroom
without internet. The assets come from `fastapi-offline`, a maintained package whose wheel
ships Swagger UI's and ReDoc's bundles (it tracks swagger-ui-dist 5 and redoc 2); we use its
files, not its app factory, so these pages get a Content-Security-Policy that allows exactly
their one inline script (by hash) and nothing from another origin.

FastAPI documents a 422 on every route with parameters as its `HTTPValidationError` (a list
of {loc, msg, type}), but app/errors.py answers every error as `{"detail": "<text>"}`:
`true_error_schemas` rewrites those 422s to `ErrorBody` and drops the unused schemas.
"""
from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

import fastapi_offline
from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from starlette.responses import HTMLResponse
from starlette.staticfiles import StaticFiles

from app.schemas import ErrorBody

ASSETS = Path(fastapi_offline.__file__).parent / "static"
PREFIX = "/docs-assets"


def _policy(html: str) -> str:
    """A CSP allowing this page's inline scripts (by SHA-256) and same-origin files only."""
    hashes = " ".join(
        f"'sha256-{base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()}'"
        for body in re.findall(r"<script>(.*?)</script>", html, re.S))
    # Both UIs set element styles inline (style-src 'unsafe-inline'); ReDoc runs its search
    # index in a blob: worker.
    return "; ".join(("default-src 'self'", f"script-src 'self' {hashes}",
                      "style-src 'self' 'unsafe-inline'", "img-src 'self' data:",
                      "connect-src 'self'", "worker-src 'self' blob:",
                      "object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"))


def _page(html: str) -> HTMLResponse:
    return HTMLResponse(html, headers={"content-security-policy": _policy(html)})


def true_error_schemas(schema: dict) -> dict:
    """Every documented 422 as `ErrorBody` ({"detail": str}), the body the server sends."""
    ref = {"$ref": "#/components/schemas/ErrorBody"}
    for operations in schema.get("paths", {}).values():
        for op in operations.values():
            r = op.get("responses", {}).get("422")
            if r is None:
                continue
            content = r.setdefault("content", {}).setdefault("application/json", {})
            if content.get("schema", {}).get("$ref", "").endswith("/HTTPValidationError"):
                content["schema"] = ref
                r["description"] = ("A parameter is wrong; `detail` says which and what is "
                                    "accepted.")
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.pop("HTTPValidationError", None)
    components.pop("ValidationError", None)
    components.setdefault("ErrorBody", ErrorBody.model_json_schema())
    return schema


def install(app: FastAPI) -> None:
    """Mount the assets, add /docs and /redoc, and make /openapi.json tell the truth."""
    app.mount(PREFIX, StaticFiles(directory=ASSETS), name="docs-assets")
    title = app.title
    swagger = get_swagger_ui_html(
        openapi_url=app.openapi_url, title=f"{title} · API (Swagger UI)",
        swagger_js_url=f"{PREFIX}/swagger-ui-bundle.js",
        swagger_css_url=f"{PREFIX}/swagger-ui.css",
        swagger_favicon_url=f"{PREFIX}/favicon.png", oauth2_redirect_url=None,
    ).body.decode()
    redoc = get_redoc_html(
        openapi_url=app.openapi_url, title=f"{title} · API (ReDoc)",
        redoc_js_url=f"{PREFIX}/redoc.standalone.js",
        redoc_favicon_url=f"{PREFIX}/favicon.png", with_google_fonts=False).body.decode()

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return _page(swagger)

    @app.get("/redoc", include_in_schema=False)
    async def redoc_page() -> HTMLResponse:
        return _page(redoc)

    generate = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is None:
            app.openapi_schema = true_error_schemas(generate())
        return app.openapi_schema

    app.openapi = openapi
