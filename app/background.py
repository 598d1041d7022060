"""A background thread of a node: it runs until stopped, and ``wake`` cuts its wait short.

The field node's sync worker and central's ingest worker are both one of these: each loops
doing its work and then waits, for its interval or until something wakes it.
"""

from __future__ import annotations

import threading
from typing import Self

from flask import Flask


class BackgroundThread:
    name = "background"

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.wakeup, self.stopping = threading.Event(), threading.Event()
        self.thread = threading.Thread(target=self.run, name=self.name, daemon=True)

    def start(self) -> Self:
        self.thread.start()
        return self

    def wake(self) -> None:
        self.wakeup.set()

    def stop(self) -> None:
        self.stopping.set()
        self.wakeup.set()

    def wait(self, seconds: float) -> None:
        """Sleep for ``seconds``, or until woken or stopped."""
        self.wakeup.wait(seconds)
        self.wakeup.clear()

    def run(self) -> None:
        raise NotImplementedError
