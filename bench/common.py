"""What the benchmarks share: percentiles of nanosecond samples, and plain sqlite3 access to
the databases they build (a consistent copy of a live WAL file, a query, a connection set up
as the app sets up its own)."""

from __future__ import annotations

import math
import sqlite3
from contextlib import closing
from pathlib import Path


def pct(samples: list[int], q: float) -> float:
    """Nearest-rank percentile of nanosecond samples, in milliseconds."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)] / 1e6


def copy_db(source: Path, target: Path) -> None:
    """A consistent copy of a live WAL database (sqlite3's online backup)."""
    with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(target)) as dst:
        src.backup(dst)


def rows(path: Path, sql: str, *args) -> list[tuple]:
    with closing(sqlite3.connect(path)) as conn:
        return conn.execute(sql, args).fetchall()


def open_db(path: Path, synchronous: str = "FULL") -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    for pragma in ("journal_mode=WAL", f"synchronous={synchronous}", "foreign_keys=ON"):
        conn.execute(f"PRAGMA {pragma}")
    return conn
