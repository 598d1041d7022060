"""Settings for a long-running server process, applied once it has started up.

Python's cyclic garbage collector walks every tracked object in its oldest generation on a
full collection, and collects its youngest every 700 new containers. A push request makes
tens of thousands of short-lived containers (500 visit bodies, parsed and checked), and
the process holds hundreds of thousands of long-lived ones made at start-up (the app, its
form definitions, SQLAlchemy's metadata, compiled loaders), none of them garbage. So once
started, a server process freezes what it holds (``gc.freeze``: never walked again) and
collects the youngest generation every 100,000 containers. Memory is still reclaimed by
reference counting as before; only cycles wait a little longer. Measured in
``bench/sync_bench.py`` (docs/benchmarks.md).
"""

from __future__ import annotations

import gc

YOUNGEST_THRESHOLD = 100_000


def tune_gc() -> None:
    gc.collect()
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(YOUNGEST_THRESHOLD, older, oldest)


def post_worker_init(_worker) -> None:
    """gunicorn's hook (``-c python:app.runtime``): each worker process, once it is up."""
    tune_gc()
