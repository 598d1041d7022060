"""The field node's background sync: one thread, one sync at a time.

It syncs whenever the office server is reachable: straight away at start, again every
interval, and as soon as it is woken (a visit completed, "Sync now"). After a failure it
waits with exponential backoff and full jitter, capped, and never less than a Retry-After
the server asked for.
"""

from __future__ import annotations

import logging
import random

from flask import Flask

from app.background import BackgroundThread
from sync.device import sync_once

log = logging.getLogger(__name__)
BACKOFF_BASE = 2.0
BACKOFF_CAP = 300.0


def full_jitter(failures: int, base: float = BACKOFF_BASE, cap: float = BACKOFF_CAP) -> float:
    return random.uniform(0, min(cap, base * 2**failures))  # noqa: S311 - not for security


class SyncWorker(BackgroundThread):
    name = "sync-worker"

    def __init__(self, app: Flask) -> None:
        super().__init__(app)
        self.interval = float(app.config.get("SYNC_INTERVAL_SECONDS", 30))
        self.cap = float(app.config.get("SYNC_BACKOFF_CAP_SECONDS", BACKOFF_CAP))
        self.failures = 0

    def run(self) -> None:
        while not self.stopping.is_set():
            delay = self.interval
            try:
                with self.app.app_context():
                    report = sync_once()
                if report.error:
                    self.failures += 1
                    delay = max(full_jitter(self.failures, cap=self.cap), report.retry_after or 0)
                    log.info("sync failed (%s); next try in %.1f s", report.error, delay)
                else:
                    self.failures = 0
            except Exception:
                self.failures += 1
                delay = full_jitter(self.failures, cap=self.cap)
                log.exception("sync worker: unexpected error")
            self.wait(delay)


def wake(app: Flask) -> None:
    worker = app.extensions.get("sync_worker")
    if worker is not None:
        worker.wake()
