"""Equipment orders on central for tests, made from the real catalogue's items.

``push_with_orders(work, wire_order("MA-GRAB-STRAIGHT"), ...)`` sends a visit with orders in
its body through the real sync API, so central's own ingest checks and stores them.
``add_order(work, visit_id, "MA-GRAB-STRAIGHT", status="approval")`` stores one order row on
a pushed visit's current revision as the ingest would leave it (ordered by the Casework HSC at
level L3 unless told), for states a test wants exactly (a finding, a changed policy). The
other helpers read back what a decision or report changed.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import current_app
from sqlalchemy import select

from app.extensions import db
from app.models import CentralAuditEvent, CentralEquipmentOrder, CentralVisit, ChangeLogEntry
from tests.support.casework import Casework, story_body

CATALOGUE = "housing-mot-equipment"
ROUTES = {"proposed": "direct", "approval": "approval", "held": "held"}
# What an assessor measured, for the items the tests use most.
MEASUREMENTS: dict[str, dict[str, Any]] = {
    "MA-GRAB-STRAIGHT": {"length_mm": "450", "side": "left", "orientation": "vertical"},
    "EQ-BATH-BOARD": {"bath_length_mm": 1700, "bath_width_mm": 700},
    "EQ-BATH-LIFT": {"bath_length_mm": 1700, "bath_width_mm": 700},
    "AT-FALL-DETECTOR": {"worn": "wrist"},
}


def wire_order(item_code: str = "MA-GRAB-STRAIGHT", **over: Any) -> dict:
    """An order as the tablet puts it in the visit's body (``sync.schemas.OrderSchema``)."""
    return {
        "id": str(uuid.uuid4()),
        "catalogue_id": CATALOGUE,
        "catalogue_version": 1,
        "rules_version": "2026-11-1",
        "item_code": item_code,
        "quantity": 1,
        "location": "Bathroom",
        "side": "left",
        "measurements": dict(MEASUREMENTS.get(item_code, {})),
        "reason": "Struggles to stand from the toilet; pushes up on the basin.",
        "acknowledged": [],
        "ta_level": "L3",
        "route": "direct",
        **over,
    }


def push_with_orders(
    work: Casework, *orders: dict, story: str = "case-story-2", **over: Any
) -> uuid.UUID:
    body = story_body(story, **over)
    body["orders"] = list(orders)
    [result] = work.push(body)
    assert result["status"] == "created", result
    assert "orders_rejected" not in result["receipt"], result["receipt"]
    return uuid.UUID(body["visit"]["id"])


def add_order(
    work: Casework,
    visit_id: uuid.UUID | str,
    item_code: str = "MA-GRAB-STRAIGHT",
    *,
    status: str = "proposed",
    quantity: int = 1,
    device_route: str | None = None,
    findings: list[dict] | None = None,
    **over: Any,
) -> uuid.UUID:
    with work.app.app_context():
        visit = db.session.get(CentralVisit, uuid.UUID(str(visit_id)))
        catalogue = current_app.extensions["catalogues"].latest(CATALOGUE)
        item = catalogue.item(item_code)
        route = over.pop("route", ROUTES.get(status, "direct"))
        fields = {
            "id": uuid.uuid4(),
            "visit_id": visit.id,
            "revision": visit.revision,
            "resident_id": visit.resident_id,
            "ordered_by": work.hsc.id,
            "ta_level": "L3",
            "catalogue_id": catalogue.id,
            "catalogue_version": catalogue.version,
            "rules_version": catalogue.rules_version,
            "item_code": item.code,
            "item_name": item.name,
            "service": item.service,
            "provider_service": catalogue.provider_service(item),
            "fitting": item.fitting,
            "quantity": quantity,
            "location": "Bathroom",
            "side": "left",
            "measurements": dict(MEASUREMENTS.get(item_code, {})),
            "reason": "Struggles to stand from the toilet; pushes up on the basin.",
            "unit_cost_pence": item.unit_cost_pence,
            "device_route": device_route or route,
            "route": route,
            "findings": list(findings or []),
            "policy_changed": (device_route or route) != route,
            "status": status,
        }
        order = CentralEquipmentOrder(**{**fields, **over})
        db.session.add(order)
        db.session.commit()
        return order.id


def order_state(work: Casework, order_id: uuid.UUID) -> tuple:
    """Everything a decision or a report could change on an order, with its trail."""
    with work.app.app_context():
        o = db.session.get(CentralEquipmentOrder, order_id)
        return (o.status, o.route, o.referral_id, o.approved_by, o.issued_at, o.delivered_at,
                o.fitted_at, o.updated_at, list(o.findings), len(order_changes(work, order_id)),
                len(order_audit(work, order_id)))  # fmt: skip


def get_order(work: Casework, order_id: uuid.UUID) -> CentralEquipmentOrder:
    with work.app.app_context():
        order = db.session.get(CentralEquipmentOrder, order_id)
        db.session.expunge(order)
        return order


def order_changes(work: Casework, order_id: uuid.UUID) -> list[ChangeLogEntry]:
    with work.app.app_context():
        entries = db.session.scalars(
            select(ChangeLogEntry)
            .where(ChangeLogEntry.record_id == str(order_id))
            .order_by(ChangeLogEntry.server_seq)
        ).all()
        for entry in entries:
            db.session.expunge(entry)
        return list(entries)


def order_audit(work: Casework, order_id: uuid.UUID) -> list[tuple[str, uuid.UUID | None]]:
    with work.app.app_context():
        events = db.session.scalars(
            select(CentralAuditEvent)
            .where(CentralAuditEvent.record_id == str(order_id))
            .order_by(CentralAuditEvent.id)
        )
        return [(event.action, event.actor_id) for event in events]
