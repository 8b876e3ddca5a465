"""Property-based fuzzing of the request bodies: whatever arrives, never a 500.

Bodies are built around the schema (right keys with wrong, extreme or non-finite values,
unknown keys, near-valid pixel arrays) plus raw bytes. Bounded in examples so it takes seconds.
"""
from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

scalars = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70),
                    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=20))
json_values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=5), st.dictionaries(st.text(max_size=8), inner, max_size=4)),
    max_leaves=12)
sides = st.one_of(st.integers(-3, 40), st.sampled_from([8, 28, 32, 512, 513]), json_values)
pixels = st.one_of(
    st.builds(lambda n, v: [v] * n, st.sampled_from([0, 1, 63, 64, 784, 1024]),
              st.one_of(st.integers(-1, 256), st.floats(), st.just("1"))),
    st.lists(st.integers(0, 255), min_size=0, max_size=100), json_values)
images = st.one_of(
    st.text(max_size=40),
    st.builds(lambda b: "data:image/png;base64," + b, st.text("ABCDEFabcdef0123456789+/=", max_size=60)),
    st.just("data:image/jpeg;base64,/9j/4AAQSkZJRgABAQ=="),
    st.just("data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk"),
    json_values)
units = st.one_of(st.lists(st.integers(-3, 130), max_size=4), json_values)
layers = st.one_of(st.sampled_from(["input", "conv1", "relu1", "pool1", "fc1", "softmax",
                                    "flatten", "nope", ""]), json_values)
bodies = st.fixed_dictionaries({}, optional={
    "pixels": pixels, "width": sides, "height": sides, "image": images,
    "preprocess": st.one_of(st.booleans(), json_values), "layer": layers, "unit": units,
    "extra": json_values})

FUZZ = settings(max_examples=150, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def check(r):
    assert r.status_code < 500, (r.status_code, r.text[:300])
    if r.status_code >= 400:
        assert isinstance(r.json()["detail"], str) and r.json()["detail"], r.text[:300]


@FUZZ
@given(body=bodies, path=st.sampled_from(["/api/forward", "/api/explain"]))
def test_schema_shaped_bodies_never_500(client, body, path):
    raw = json.dumps(body, allow_nan=True).encode()
    check(client.post(path, content=raw, headers={"content-type": "application/json"}))


@FUZZ
@given(raw=st.binary(max_size=200), path=st.sampled_from(["/api/forward", "/api/explain"]))
def test_raw_bytes_never_500(client, raw, path):
    check(client.post(path, content=raw, headers={"content-type": "application/json"}))


@settings(max_examples=60, deadline=None, derandomize=True, database=None)
@given(digit=st.one_of(st.integers(-5, 15), st.text(max_size=5)),
       index=st.one_of(st.integers(-5, 25), st.text(max_size=5)))
def test_samples_queries_never_500(client, digit, index):
    check(client.get("/api/samples", params={"digit": digit, "index": index}))
