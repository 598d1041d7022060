"""Canonical JSON and its SHA-256: the identity of a visit revision on both sides.

Sorted keys, no insignificant whitespace, UTF-8. The same body gives the same hash on the
device and on central, so a replay is recognised and a changed body is not mistaken for one.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any


def canonical_json(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sha256_of(value: Any) -> str:
    return hashlib.sha256(canonical_json(value)).hexdigest()
