"""Pulling equipment order statuses onto the device: applied to the device's own order by its
id, never overwritten by an older change, harmless to apply twice, and shown on the
completed visit's page."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime

import pytest

from app.db import write_transaction
from app.extensions import db
from app.models import EquipmentOrder, Visit
from sync import device

ISSUED = "2026-11-23T09:30:00+00:00"
DELIVERED = "2026-11-25T14:00:00+00:00"
FITTED = "2026-11-27T11:15:00+00:00"


@pytest.fixture
def order(app, profile, visit) -> uuid.UUID:
    with app.app_context(), write_transaction():
        order = EquipmentOrder(
            visit_id=visit.id,
            catalogue_id="housing-mot-equipment",
            catalogue_version=1,
            rules_version="2026-11-1",
            item_code="MA-GRAB-STRAIGHT",
            quantity=2,
            location="Bathroom",
            side="left",
            measurements={"length_mm": "450", "side": "left"},
            ordered_by=profile.id,
            ta_level="L3",
            route="direct",
        )
        db.session.add(order)
    return order.id


def change(visit: Visit, order_id, seq: int, status: str, at: str, **payload) -> dict:
    return {
        "server_seq": seq,
        "kind": "order.status",
        "id": str(order_id),
        "payload": {
            "visit_id": str(visit.id),
            "item_code": "MA-GRAB-STRAIGHT",
            "item_name": "Grab rail (straight)",
            "quantity": 2,
            "status": status,
            "issued_at": ISSUED,
            "delivered_at": DELIVERED if status in ("delivered", "fitted") else None,
            "fitted_at": FITTED if status == "fitted" else None,
            "updated_at": at,
            **payload,
        },
    }


def pull(*changes: dict) -> int:
    cursor = max((c["server_seq"] for c in changes), default=0)
    return device.apply_pull(
        {"changes": list(changes), "next_cursor": cursor, "has_more": False, "reference": {}}
    )


def stored(order_id) -> tuple[str, datetime | None]:
    db.session.expire_all()
    order = db.session.get(EquipmentOrder, order_id)
    return order.delivery_status, order.delivery_updated_at


def test_a_pulled_order_status_is_applied_to_the_devices_own_order(app, visit, order):
    with app.app_context():
        pull(change(visit, order, 5, "issued", ISSUED))
        assert stored(order) == ("issued", datetime(2026, 11, 23, 9, 30))
        assert device.device_state().pull_cursor == 5
        pull(change(visit, order, 8, "delivered", DELIVERED))
        pull(change(visit, order, 9, "fitted", FITTED))
        assert stored(order) == ("fitted", datetime(2026, 11, 27, 11, 15))


def test_an_older_change_never_overwrites_a_newer_one(app, visit, order):
    with app.app_context():
        pull(change(visit, order, 9, "fitted", FITTED))
        pull(change(visit, order, 5, "issued", ISSUED))  # arrives late, e.g. a cursor reset
        pull(change(visit, order, 8, "delivered", DELIVERED))
        assert stored(order) == ("fitted", datetime(2026, 11, 27, 11, 15))


def test_at_the_same_moment_the_step_further_along_wins(app, visit, order):
    with app.app_context():
        pull(
            change(visit, order, 9, "fitted", DELIVERED),
            change(visit, order, 8, "delivered", DELIVERED),
        )
        assert stored(order)[0] == "fitted"


def test_applying_a_page_twice_is_harmless(app, visit, order):
    with app.app_context():
        page = (
            change(visit, order, 5, "issued", ISSUED),
            change(visit, order, 6, "delivered", DELIVERED),
        )
        pull(*page)
        before = stored(order)
        pull(*page)
        assert stored(order) == before == ("delivered", datetime(2026, 11, 25, 14, 0))


def test_a_held_order_is_shown_as_held(app, visit, order):
    with app.app_context():
        pull(change(visit, order, 5, "held", ISSUED, issued_at=None))
        assert stored(order)[0] == "held"


def test_an_order_not_on_this_device_or_a_bad_change_is_skipped(app, visit, order, caplog):
    secret = "Resident's bathroom, left of the basin"
    with app.app_context(), caplog.at_level(logging.WARNING):
        pull(
            change(visit, uuid.uuid4(), 3, "issued", ISSUED),
            change(visit, "not-a-uuid", 4, "issued", ISSUED, location=secret),
            change(visit, order, 5, "lost", ISSUED, location=secret),
            change(visit, order, 6, "issued", "not a time", issued_at=None),
            change(visit, order, 7, "issued", ISSUED),
        )
        assert stored(order) == ("issued", datetime(2026, 11, 23, 9, 30))
        assert device.device_state().pull_cursor == 7
    assert "order.status" in caplog.text
    assert secret not in caplog.text


def test_the_completed_visit_shows_where_each_order_has_got_to(app, visit, order, signed_in):
    page = signed_in.text(f"/visits/{visit.id}")
    assert "Equipment ordered" in page
    assert "Issued when the visit is approved" in page
    with app.app_context():
        pull(change(visit, order, 9, "fitted", FITTED))
    page = signed_in.text(f"/visits/{visit.id}")
    listed = page[page.index('id="equipment-orders"') :]
    listed = listed[: listed.index("</ul>")]
    assert "Grab rail (straight) × 2 (Bathroom)" in listed
    assert "Fitted" in listed and "27 November 2026" in listed
