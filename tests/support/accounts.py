"""Factories for central's accounts and devices: each makes a valid record, with overrides."""

from __future__ import annotations

from datetime import date
from typing import Any

from app.central import accounts
from app.central.account_rules import AccountDetails
from app.db import write_transaction
from app.extensions import db
from app.models import Device, User
from app.models.field import utcnow

PASSWORD = "correct horse battery"
_COUNTER = {"user": 0}
ROLE_DEFAULTS: dict[str, dict[str, Any]] = {
    "hsc": {"districts": ("blaby",)},
    "team_leader": {"districts": ("blaby",)},
    "provider": {"provider_service": "handyperson"},
    "admin": {},
}


def make_user(role: str = "hsc", *, password: str = PASSWORD, **over: Any) -> User:
    _COUNTER["user"] += 1
    number = _COUNTER["user"]
    fields = {
        "name": f"Test {role} {number}",
        "email": f"{role}{number}@example.org",
        "role": role,
        **ROLE_DEFAULTS[role],
        **over,
    }
    if fields.get("ta_level", "none") != "none":
        fields.setdefault("ta_signed_off_on", date(2025, 1, 6))
        fields.setdefault("ta_supervisor", "Olive Grant")
    details = AccountDetails(**fields).normalised()
    assert accounts.check_account(details) == {}
    return accounts.create_user(None, details, password)


def make_device(user: User, name: str = "Tablet", **over: Any) -> tuple[Device, str]:
    """An enrolled device; ``over`` sets its sync figures (heartbeat, oldest_unsynced_since...)."""
    with write_transaction():
        device, token = accounts.new_device(user, name, over.pop("enrolled_at", utcnow()))
        for key, value in over.items():
            setattr(device, key, value)
    return db.session.get(Device, device.id), token
