"""Strict types for every number and boolean of every request body, and a specific detail for
every body that cannot even be decoded (not UTF-8, a 5,000-digit integer, gzip, too deep).

The numeric fields are found in /openapi.json (so a field added later is covered), and each
is sent as the string "1" and as `true` (numbers) or as 1 and "true" (booleans) inside an
otherwise valid body: every one must be a 422 whose detail names the field.
"""
from __future__ import annotations

import copy
import gzip
import json

import pytest

PX = {"pixels": [0] * 700 + [255] * 84, "width": 28, "height": 28, "preprocess": True}
# Valid bodies holding every numeric and boolean field of each route (some fields exclude
# each other, hence several bodies for /api/convolve).
BODIES = {
    "/api/forward": [PX],
    "/api/explain": [{**PX, "layer": "conv1", "unit": [0, 3, 4]}],
    "/api/gradient": [{**PX, "target": 3, "learning_rate": 0.5, "steps": 2,
                       "weight": {"layer": "conv1", "index": [0, 0, 1, 1]}}],
    "/api/history/forward": [{**PX, "snapshots": [0, 1], "stages": ["relu1"]}],
    "/api/convolve": [
        {**PX, "kernel": [[0, 1, 0], [1, -4, 1], [0, 1, 0]], "bias": 0.5, "stride": 1,
         "padding": 1, "pool": {"op": "max", "window": 2, "stride": 2}, "products": False},
        {"input": {"values": [0.5] * 64, "shape": [8, 8]}, "kernel_name": "identity"},
        {"input": {"pixels": [3] * 64, "shape": [1, 8, 8]},
         "learned": {"layer": "conv1", "filter": 2, "channel": 0}},
    ],
}


def _resolve(spec, schema):
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _types(spec, schema) -> set[str]:
    schema = _resolve(spec, schema)
    out = {schema["type"]} if "type" in schema else set()
    for alt in schema.get("anyOf", []) + schema.get("oneOf", []):
        out |= _types(spec, alt)
    return out


def _leaves(spec, schema, path=()):
    """(path, type) of every number, integer and boolean a body schema can hold."""
    schema = _resolve(spec, schema)
    for alt in schema.get("anyOf", []) + schema.get("oneOf", []):
        if _resolve(spec, alt).get("type") in ("object", "array"):
            yield from _leaves(spec, alt, path)
    kind = _types(spec, schema)
    for k in kind & {"number", "integer", "boolean"}:
        yield path, k
    if schema.get("type") == "object":
        for name, sub in schema.get("properties", {}).items():
            yield from _leaves(spec, sub, path + (name,))
    if schema.get("type") == "array":
        yield from _leaves(spec, schema.get("items", {}), path + (0,))


def _where(body, path):
    for p in path:
        if isinstance(p, int):
            if not isinstance(body, list) or not body:
                return None
        elif not isinstance(body, dict) or p not in body:
            return None
        body = body[p]
    return body


def _set(body, path, value):
    body = copy.deepcopy(body)
    target = body
    for p in path[:-1]:
        target = target[p]
    target[path[-1]] = value
    return body


@pytest.fixture(scope="module")
def spec(client):
    return client.get("/openapi.json").json()


def _cases(spec):
    for route, bodies in BODIES.items():
        schema = spec["paths"][route]["post"]["requestBody"]["content"]["application/json"]
        leaves = set(_leaves(spec, schema["schema"]))
        covered = set()
        for body in bodies:
            for path, kind in leaves:
                if _where(body, path) is None:
                    continue
                covered.add((path, kind))
                wrong = ["1", 1.5] if kind == "integer" else ["1"] if kind == "number" else [1, "true"]
                if kind != "boolean":
                    wrong.append(True)
                for value in wrong:
                    yield route, body, path, value
        missing = {p for p, _ in leaves} - {p for p, _ in covered}
        assert not missing, f"{route}: no test body holds the numeric fields {missing}"


def test_every_numeric_and_boolean_field_is_strict(client, spec):
    cases = list(_cases(spec))
    assert len(cases) > 60, len(cases)
    for route, body, path in {(r, json.dumps(b), p) for r, b, p, _ in cases}:
        r = client.post(route, json=json.loads(body))
        assert r.status_code == 200, (route, r.text)       # the base body itself is valid
    failures = []
    for route, body, path, value in cases:
        r = client.post(route, json=_set(body, path, value))
        field = next(p for p in reversed(path) if isinstance(p, str))
        if r.status_code != 422 or field not in r.json()["detail"]:
            failures.append(f"{route} {'.'.join(map(str, path))} = {value!r}: "
                            f"{r.status_code} {r.text[:120]}")
    assert not failures, "accepted or unnamed:\n" + "\n".join(failures)


def test_learning_rate_as_a_string_or_boolean_is_refused(client):
    body = BODIES["/api/gradient"][0]
    for value in ("1", True, "0.5"):
        r = client.post("/api/gradient", json={**body, "learning_rate": value})
        assert r.status_code == 422 and "learning_rate" in r.json()["detail"], (value, r.text)
    assert client.post("/api/gradient", json={**body, "learning_rate": 1}).status_code == 200


JSON = {"content-type": "application/json"}


@pytest.mark.parametrize("name, raw, headers, status, words", [
    ("invalid UTF-8", b'{"pixels": [0], "image": "\xff\xfe"}', JSON, 400,
     ["not valid UTF-8", "byte 26", "UTF-8"]),
    ("5,000-digit integer", b'{"width": ' + b"9" * 5000 + b"}", JSON, 400,
     ["more than 4300 digits", "0..255"]),
    ("nested 100,000 deep", b"[" * 100_000 + b"]" * 100_000, JSON, 400,
     ["nested too deeply"]),
    ("gzip body", gzip.compress(json.dumps(PX).encode()), {**JSON, "content-encoding": "gzip"},
     415, ["Content-Encoding 'gzip' is not accepted", "uncompressed"]),
    ("deflate body", b"x\x9c", {**JSON, "content-encoding": "deflate"}, 415, ["'deflate'"]),
])
def test_undecodable_bodies_get_a_specific_detail(client, name, raw, headers, status, words):
    for route in ("/api/forward", "/api/gradient", "/api/convolve"):
        r = client.post(route, content=raw, headers=headers)
        assert r.status_code == status, (name, route, r.status_code, r.text)
        detail = r.json()["detail"]
        assert "There was an error parsing the body" not in detail
        for w in words:
            assert w in detail, (name, detail)


def test_an_identity_content_encoding_is_fine(client):
    r = client.post("/api/forward", content=json.dumps(PX),
                    headers={**JSON, "content-encoding": "identity"})
    assert r.status_code == 200, r.text
