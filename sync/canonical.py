"""Canonical JSON and its SHA-256: the identity of a visit revision on both sides.

Sorted keys, no insignificant whitespace, UTF-8. The same body gives the same hash on the
device and on central, so a replay is recognised and a changed body is not mistaken for one.

orjson writes it, byte for byte what the standard library's ``json.dumps(sort_keys=True,
separators=(",", ":"), ensure_ascii=False)`` writes for strings, integers, booleans and null.
A float (only an order's measurements may hold one) is written the same way too, except
below 0.0001, where orjson writes ``0.00001`` and ``1e-7`` and the standard library ``1e-05``
and ``1e-07``: a tablet on older code would hash such a body differently and have it
refused as a hash mismatch. What orjson cannot write (an integer beyond 64 bits, a lone surrogate)
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
