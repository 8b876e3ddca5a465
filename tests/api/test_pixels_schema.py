"""The fast `pixels` validator (app/schemas.py `Pixels`) accepts, returns and refuses exactly
what the plain list[Pixel] does, with the same errors (locations, types, messages)."""
from __future__ import annotations

import enum
import json

import pytest
from pydantic import TypeAdapter, ValidationError

from app.schemas import ForwardBody, Pixel, Pixels

FAST, PLAIN = TypeAdapter(Pixels), TypeAdapter(list[Pixel])


class Level(enum.IntEnum):
    INK = 255


CASES = [[], [0], [255], list(range(256)) * 3, [0, 255, 7], [True], [1, False], [1.0],
         [0.5], ["3"], [None], [256], [-1], [2 ** 70], [-(2 ** 70)], [[1]], [{}], [1, 2, 300, 4],
         [300, True, "x"], [Level.INK], (1, 2), "12", b"\x01", {"0": 1}, None, 5, [1] * 784]


def outcome(adapter, value, mode):
    try:
        if mode == "json":
            return "ok", adapter.validate_json(json.dumps(value, default=str))
        return "ok", adapter.validate_python(value)
    except ValidationError as exc:
        return "error", exc.errors(include_url=False)
    except TypeError as exc:     # json.dumps of a non-JSON value: not a body a client can send
        return "skip", str(exc)


@pytest.mark.parametrize("value", CASES, ids=[repr(c)[:30] for c in CASES])
@pytest.mark.parametrize("mode", ["python", "json"])
def test_same_answer_as_list_of_pixel(value, mode):
    fast, plain = outcome(FAST, value, mode), outcome(PLAIN, value, mode)
    assert fast == plain
    if fast[0] == "ok":
        assert [type(v) for v in fast[1]] == [type(v) for v in plain[1]]


def test_forward_body_refuses_with_the_same_words():
    body = {"pixels": [0] * 783 + [256], "width": 28, "height": 28}
    with pytest.raises(ValidationError) as info:
        ForwardBody.model_validate(body)
    (err,) = info.value.errors(include_url=False)
    assert err["loc"] == ("pixels", 783) and err["type"] == "less_than_equal"
    with pytest.raises(ValidationError) as info:
        ForwardBody.model_validate({**body, "pixels": [0] * 783 + [True]})
    assert info.value.errors(include_url=False)[0]["loc"] == ("pixels", 783)


def test_json_schema_is_unchanged():
    assert FAST.json_schema() == PLAIN.json_schema()
