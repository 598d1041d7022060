"""Canonical JSON and its SHA-256: the identity of a visit revision on both sides.

Sorted keys, no insignificant whitespace, UTF-8. The same body gives the same hash on the
device and on central, so a replay is recognised and a changed body is not mistaken for one.

orjson writes it, byte for byte what the standard library's ``json.dumps(sort_keys=True,
separators=(",", ":"), ensure_ascii=False)`` writes for strings, integers, booleans and null,
which is all a visit body holds. Floats are written orjson's way (shortest round trip, as
``0.00001`` where the standard library writes ``1e-05``); no valid body has one, so no stored
hash depends on it. What orjson cannot write (an integer beyond 64 bits, a lone surrogate)
the standard library writes. NaN and the infinities are not JSON and are never read.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import orjson


def _standard(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def canonical_json(value: Any) -> bytes:
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
    except orjson.JSONEncodeError:
        return _standard(value)


def sha256_of(value: Any) -> str:
    return hashlib.sha256(canonical_json(value)).hexdigest()


def _not_json(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def read_json(data: bytes) -> Any:
    """A request body as JSON (RFC 8259). orjson reads it; what orjson refuses (UTF-16, say)
    the standard library reads, refusing NaN and the infinities as orjson does. A number too
    large for 64 bits is read as a float, which every integer field and whole-number answer
    refuses. Raises ``ValueError`` (``UnicodeDecodeError`` included) if it is not JSON."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return json.loads(data, parse_constant=_not_json)
