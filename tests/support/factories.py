"""Factory functions for test data: each makes a valid record, with overrides."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import current_app

from app import queries
from app.auth import hash_passphrase
from app.models import HscProfile, Visit

_COUNTER = {"profile": 0}


def make_profile(**over: Any) -> HscProfile:
    _COUNTER["profile"] += 1
    number = _COUNTER["profile"]
    return queries.create_profile(
        over.get("name", f"Test HSC {number}"),
        over.get("email", f"hsc{number}@example.org"),
        hash_passphrase(over.get("passphrase", "correct horse battery")),
    )


def resident_fields(**over: Any) -> dict[str, Any]:
    fields = {
        "given_name": "Joan",
        "family_name": "Example",
        "date_of_birth": date(1944, 3, 27),
        "address_line_1": "1 Test Street",
        "address_line_2": "",
        "town": "Blaby",
        "postcode": "LE19 2DR",
        "district": "blaby",
        "phone": "",
        "nhs_number": None,
    }
    fields.update(over)
    return fields


def visit_fields(**over: Any) -> dict[str, Any]:
    fields = {
        "setting": "home",
        "referral_source": "gp",
        "first_contact_date": date(2026, 11, 2),
        "visit_date": date(2026, 11, 9),
    }
    fields.update(over)
    return fields


def make_visit(hsc: HscProfile, *, resident: dict | None = None, **over: Any) -> Visit:
    form = current_app.extensions["forms"].latest("housing-mot")
    return queries.start_visit(
        hsc, resident_fields(**(resident or {})), visit_fields(**over), form.key
    )


def enrol_offline(profile_id, central_url: str = "http://central.invalid") -> None:
    """Mark this field database enrolled to a central that is never reached (tests that give
    the device's sync code a central of their own)."""
    import uuid

    from app.db import write_transaction
    from app.extensions import db
    from app.models import DeviceState

    with write_transaction():
        db.session.add(
            DeviceState(
                id=1,
                central_url=central_url,
                device_id=uuid.uuid4(),
                token="token",
                profile_id=profile_id,
            )
        )
