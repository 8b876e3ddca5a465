"""/openapi.json documents every contract path, its response schema and its error codes."""
from __future__ import annotations


def test_openapi_lists_the_contract(client):
    r = client.get("/openapi.json")
    assert r.status_code == 200
    spec = r.json()
    paths = spec["paths"]
    for path, method in [("/api/health", "get"), ("/api/model", "get"),
                         ("/api/model/weights", "get"), ("/api/forward", "post"),
                         ("/api/explain", "post"), ("/api/samples", "get"), ("/api/join", "get")]:
        op = paths[path][method]
        assert "schema" in op["responses"]["200"]["content"]["application/json"], path
    for path in ("/api/forward", "/api/explain"):
        op = paths[path]["post"]
        assert {"400", "413", "422"} <= set(op["responses"]), path
        body = op["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        assert body.endswith(("ForwardBody", "ExplainBody"))
    forward_body = spec["components"]["schemas"]["ForwardBody"]
    assert forward_body["additionalProperties"] is False
    assert set(forward_body["properties"]) == {"pixels", "width", "height", "image", "preprocess"}
