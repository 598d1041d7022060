"""Canonical JSON, written by orjson, is byte for byte what the standard library's
definition writes for every value a visit body can hold; request bodies are read as RFC 8259
JSON."""

from __future__ import annotations

import json
import random

import pytest

from sync.canonical import canonical_json, read_json, sha256_of

# Every control character, the JSON escapes, non-ASCII, a character outside the BMP.
ALPHABET = [chr(c) for c in range(0x20)] + list('"\\/ aZ09é€ł\u2028\u2029\ufeff🙂\U0010ffff')


def standard(value) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def random_value(rng: random.Random, depth: int = 0):
    kind = rng.choice(["str", "int", "bool", "none"] + ([] if depth > 3 else ["list", "dict"]))
    if kind == "str":
        return "".join(rng.choice(ALPHABET) for _ in range(rng.randrange(12)))
    if kind == "int":
        return rng.choice([0, -1, 2**63 - 1, -(2**63), 2**64 - 1, rng.randrange(-(10**9), 10**9)])
    if kind == "bool":
        return rng.random() < 0.5
    if kind == "none":
        return None
    if kind == "list":
        return [random_value(rng, depth + 1) for _ in range(rng.randrange(5))]
    keys = ["".join(rng.choice(ALPHABET) for _ in range(rng.randrange(1, 6))) for _ in range(5)]
    return {key: random_value(rng, depth + 1) for key in keys}


def test_canonical_json_is_what_the_standard_library_writes_for_every_kind_of_value():
    rng = random.Random(20261122)
    for _ in range(3_000):
        value = random_value(rng)
        assert canonical_json(value) == standard(value), value


def test_what_orjson_cannot_write_the_standard_library_writes():
    for value in ({"seq": 2**64}, [-(2**70)], {"z": "\ud800", "a": 1}):
        if isinstance(value, dict) and "z" in value:  # a lone surrogate cannot be UTF-8
            with pytest.raises(UnicodeEncodeError):
                canonical_json(value)
            continue
        assert canonical_json(value) == standard(value)


def test_the_hash_is_of_the_canonical_text():
    body = {"b": ["Zoë", 1], "a": {"d": None, "c": True}}
    assert canonical_json(body) == '{"a":{"c":true,"d":null},"b":["Zoë",1]}'.encode()
    assert sha256_of(body) == sha256_of(json.loads(json.dumps(body, indent=2)))


@pytest.mark.parametrize(
    ("data", "value"),
    [
        (b'{"a": [1, "\\u00e9", null]}', {"a": [1, "é", None]}),
        ('{"a": "é"}'.encode("utf-16"), {"a": "é"}),
    ],
)
def test_request_bodies_are_read_as_json(data, value):
    assert read_json(data) == value


def test_a_number_beyond_64_bits_is_read_as_a_float_which_no_integer_field_takes():
    assert read_json(b'{"seq": 18446744073709551615}') == {"seq": 2**64 - 1}
    assert type(read_json(b'{"seq": 18446744073709551616}')["seq"]) is float


@pytest.mark.parametrize(
    "data",
    [b'{"a": NaN}', b"[Infinity]", b"[-Infinity]", b'{"a": 1', b"\xff\xfe\xfa", b""],
)
def test_what_is_not_json_is_refused(data):
    with pytest.raises(ValueError):
        read_json(data)


def test_floats_are_written_as_the_standard_library_writes_them_from_a_ten_thousandth_up():
    rng = random.Random(7)
    for _ in range(20_000):
        value = {"step_height_mm": 10 ** rng.uniform(-4, 30) * rng.choice([1, -1])}
        assert canonical_json(value) == standard(value), value
