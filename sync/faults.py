"""Fault injection for the failure tests, active only when the app runs in test mode.

``HMOT_FAULT`` names a fault; ``HMOT_FAULT_ONCE`` is a file that makes it fire once (the
file is created when the fault fires). ``kill_<point>`` SIGKILLs the process at a labelled
point: on central ``before_commit`` and ``after_commit`` of a push; on the device
``device_after_push`` (central answered, results not yet recorded),
``device_pull_before_commit`` and ``complete_before_commit`` (completing a visit).
``slow_push=SECONDS`` delays a push while it holds the write lock; ``poison=TEXT`` raises an
unexpected error for a visit whose answers contain TEXT (a server bug met by one record).
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Any

from flask import current_app


def _fault() -> tuple[str, str]:
    if not current_app.config.get("TESTING"):
        return "", ""
    name, _, argument = os.environ.get("HMOT_FAULT", "").partition("=")
    return name, argument


def _fire_once() -> bool:
    marker = os.environ.get("HMOT_FAULT_ONCE")
    if not marker:
        return True
    path = Path(marker)
    if path.exists():
        return False
    path.touch()
    return True


def at(point: str) -> None:
    """Called at the labelled points of a push: 'before_commit', 'after_commit'."""
    name, argument = _fault()
    if name == f"kill_{point}" and _fire_once():
        os.kill(os.getpid(), signal.SIGKILL)
    if name == "slow_push" and point == "before_commit" and _fire_once():
        time.sleep(float(argument or 5))


def poison() -> str | None:
    """The text of the ``poison`` fault, if it is set: read once per push, not per record."""
    name, argument = _fault()
    return argument if name == "poison" else None


def on_apply(body: dict[str, Any], text: str | None) -> None:
    """Fail the record if its answers contain ``text`` (from ``poison()``)."""
    if text is not None and text in {str(v) for v in body.get("answers", {}).values()}:
        raise RuntimeError("poison record (injected fault)")
