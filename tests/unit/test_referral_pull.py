"""Pulling referral status changes onto the device: upserted by central's referral id, never
overwritten by an older change, harmless to apply twice."""

from __future__ import annotations

import logging
import uuid
from datetime import date, datetime

from sqlalchemy import func, select

from app.extensions import db
from app.models import ReferralStatus, Visit
from sync import device

REFERRAL = uuid.UUID("6d0c7c1e-5b7a-4a43-9a55-0d6f2f7c1a01")


def change(visit: Visit, seq: int, status: str, **payload) -> dict:
    return {
        "server_seq": seq,
        "kind": "referral.status",
        "id": str(payload.pop("referral_id", REFERRAL)),
        "payload": {
            "visit_id": str(visit.id),
            "resident_id": str(visit.resident_id),
            "service": "handyperson",
            "name": "Handyperson",
            "status": status,
            "consent": "yes",
            "issued_at": "2026-11-12T10:30:00+00:00",
            "completed_on": None,
            "decline_reason": "",
            **payload,
        },
    }


def pull(*changes: dict) -> int:
    cursor = max((c["server_seq"] for c in changes), default=0)
    return device.apply_pull(
        {"changes": list(changes), "next_cursor": cursor, "has_more": False, "reference": {}}
    )


def stored() -> ReferralStatus | None:
    db.session.expire_all()
    return db.session.get(ReferralStatus, REFERRAL)


def test_a_pulled_referral_status_is_stored_under_centrals_referral_id(app, visit):
    with app.app_context():
        pull(change(visit, 5, "issued"))
        referral = stored()
        assert (referral.visit_id, referral.resident_id) == (visit.id, visit.resident_id)
        assert (referral.service, referral.name, referral.status) == (
            "handyperson",
            "Handyperson",
            "issued",
        )
        assert referral.consent == "yes"
        assert referral.issued_at == datetime(2026, 11, 12, 10, 30)
        assert referral.server_seq == 5
        assert device.device_state().pull_cursor == 5


def test_a_newer_change_updates_the_status_with_its_date_or_reason(app, visit):
    with app.app_context():
        pull(change(visit, 5, "issued"))
        pull(change(visit, 9, "completed", completed_on="2026-12-03"))
        referral = stored()
        assert (referral.status, referral.completed_on, referral.server_seq) == (
            "completed",
            date(2026, 12, 3),
            9,
        )
        other = uuid.uuid4()
        pull(change(visit, 11, "declined", referral_id=other, decline_reason="Out of area"))
        declined = db.session.get(ReferralStatus, other)
        assert (declined.status, declined.decline_reason) == ("declined", "Out of area")


def test_an_older_change_never_overwrites_a_newer_one(app, visit):
    with app.app_context():
        pull(change(visit, 9, "completed", completed_on="2026-12-03"))
        pull(change(visit, 7, "accepted"))  # arrives late, e.g. after the cursor was reset
        referral = stored()
        assert (referral.status, referral.server_seq) == ("completed", 9)
        assert referral.completed_on == date(2026, 12, 3)


def test_applying_a_page_twice_is_harmless(app, visit):
    with app.app_context():
        page = (change(visit, 5, "issued"), change(visit, 6, "accepted"))
        pull(*page)
        first = stored()
        before = (first.status, first.server_seq, first.updated_at)
        pull(*page)
        again = stored()
        assert (again.status, again.server_seq, again.updated_at) == before
        assert before[:2] == ("accepted", 6)
        assert db.session.scalar(select(func.count()).select_from(ReferralStatus)) == 1


def test_referral_changes_and_office_decisions_apply_in_one_page(app, visit):
    with app.app_context():
        db.session.get(Visit, visit.id).central_revision = 1
        db.session.commit()
        approved = {
            "server_seq": 4,
            "kind": "visit.approved",
            "id": str(visit.id),
            "payload": {"revision": 1},
        }
        pull(approved, change(visit, 5, "issued"))
        db.session.expire_all()
        assert db.session.get(Visit, visit.id).office_status == "approved"
        assert stored().status == "issued"


def test_bad_or_unknown_changes_are_skipped_with_a_warning_and_no_personal_data(app, visit, caplog):
    with app.app_context(), caplog.at_level(logging.WARNING):
        secret = "Resident said the neighbour Mrs Example does it"
        pull(
            {"server_seq": 3, "kind": "equipment.ordered", "id": str(uuid.uuid4()), "payload": {}},
            change(visit, 4, "lost", decline_reason=secret),
            change(visit, 5, "issued", visit_id="not-a-uuid", decline_reason=secret),
            change(visit, 6, "issued"),
        )
        assert stored().status == "issued"  # the good change still applied
        assert device.device_state().pull_cursor == 6
    assert "equipment.ordered" in caplog.text
    assert secret not in caplog.text and str(visit.resident_id) not in caplog.text
