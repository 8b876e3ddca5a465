"""Security headers on every response, and error schemas in /openapi.json that match the
bodies really sent."""
from __future__ import annotations

import pytest

from app.security import PAGE_POLICY


def _policy(header: str) -> dict[str, set[str]]:
    out = {}
    for part in header.split(";"):
        name, *values = part.split()
        out[name] = set(values)
    return out


@pytest.mark.parametrize("method, path, kwargs, status", [
    ("GET", "/", {}, 200),
    ("GET", "/static/js/main.js", {}, 200),
    ("GET", "/static/nothing-here.js", {}, 404),
    ("GET", "/api/health", {}, 200),
    ("GET", "/api/model", {}, 200),
    ("GET", "/api/model?model=nope", {}, 422),
    ("POST", "/api/forward", {"content": b"{", "headers": {"content-type": "application/json"}},
     400),
    ("POST", "/api/forward", {"content": b"x" * (4 << 20)}, 413),
    ("POST", "/api/forward", {"json": {"pixels": [0] * 784, "width": 28, "height": 28}}, 200),
    ("POST", "/api/forward?model=nope", {"json": {"pixels": [0] * 4, "width": 2, "height": 2}},
     422),
    ("GET", "/openapi.json", {}, 200),
    ("GET", "/docs", {}, 200),
    ("GET", "/redoc", {}, 200),
])
def test_every_response_carries_the_security_headers(client, method, path, kwargs, status):
    r = client.request(method, path, **kwargs)
    assert r.status_code == status, r.text[:200]
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["referrer-policy"] == "no-referrer"
    # the page's camera snapshot may use the camera; nothing may use the microphone or location
    assert r.headers["permissions-policy"] == "camera=(self), microphone=(), geolocation=()"
    csp = _policy(r.headers["content-security-policy"])
    assert csp["frame-ancestors"] == {"'none'"}
    assert csp["object-src"] == {"'none'"} and csp["base-uri"] == {"'none'"}
    assert "'unsafe-eval'" not in csp["script-src"] and "*" not in csp["default-src"]
    if path in ("/docs", "/redoc"):
        # Swagger UI's one inline script is allowed by hash, nothing else inline
        assert any(v.startswith("'sha256-") for v in csp["script-src"]) == (path == "/docs")
        assert "'unsafe-inline'" not in csp["script-src"], csp
    else:
        assert r.headers["content-security-policy"] == PAGE_POLICY
        assert csp["script-src"] == {"'self'"} and csp["style-src"] == {"'self'"}


def test_docs_pages_reference_only_local_assets(client):
    for path in ("/docs", "/redoc"):
        html = client.get(path).text
        assert "http://" not in html and "https://" not in html.replace(
            "https://github.com", ""), html[:400]
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css", "redoc.standalone.js", "favicon.png"):
        r = client.get(f"/docs-assets/{asset}")
        assert r.status_code == 200 and len(r.content) > 1000, asset


def _resolve(spec, schema):
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _matches(spec, schema, value) -> bool:
    """Enough JSON Schema for ErrorBody-like objects: types, required, no other keys."""
    schema = _resolve(spec, schema)
    kind = schema.get("type")
    if kind == "object":
        props = schema.get("properties", {})
        return (isinstance(value, dict) and set(schema.get("required", [])) <= set(value)
                and set(value) <= set(props)
                and all(_matches(spec, props[k], v) for k, v in value.items()))
    if kind == "string":
        return isinstance(value, str)
    if kind == "array":
        return isinstance(value, list)
    return True


def test_every_documented_error_is_the_detail_string_that_is_sent(client):
    spec = client.get("/openapi.json").json()
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    seen = 0
    for path, operations in spec["paths"].items():
        for method, op in operations.items():
            for status, response in op["responses"].items():
                if not status.startswith(("4", "5")):
                    continue
                schema = response["content"]["application/json"]["schema"]
                assert _resolve(spec, schema) == _resolve(
                    spec, {"$ref": "#/components/schemas/ErrorBody"}), (path, method, status)
                seen += 1
    assert seen > 20, seen
    # and real error bodies, GET and POST, match that schema
    error_schema = {"$ref": "#/components/schemas/ErrorBody"}
    real = [client.get("/api/model?model=nope"), client.get("/api/samples?digit=99"),
            client.post("/api/forward", json={"pixels": "no"}),
            client.post("/api/forward", content=b"{", headers={"content-type": "application/json"})]
    for r in real:
        assert r.status_code in (400, 422), r.text
        assert _matches(spec, error_schema, r.json()), r.json()
    # FastAPI's own array form would not match
    assert not _matches(spec, error_schema, {"detail": [{"loc": ["query"], "msg": "x"}]})
