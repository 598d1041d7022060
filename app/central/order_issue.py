"""Approving a visit issues its equipment orders, and every step of an order is logged for
the HSC's device.

An order that central left ``proposed`` (within the assessor's remit, or approved by a team
leader) goes to the delivering service as part of that service's issued referral: the
visit's own or, when the resident already had one open, that one (a resident has one open
referral per service). An order is never dropped: with no referral to carry it (no consent to
share) it is held, with the reason. Orders still awaiting approval, or held, stay so.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from app.central.accounts.audit import audit
from app.extensions import db
from app.models import CentralEquipmentOrder, CentralVisit, Referral, User
from sync import server

NO_CONSENT = "NO_CONSENT_TO_SHARE"
# A referral from another visit can carry the order only once it is with the provider.
CARRYING_STATUSES = ("issued", "accepted")


def _carrier(
    order: CentralEquipmentOrder, own: dict[str, Referral], elsewhere: dict[str, Referral]
) -> Referral | None:
    return own.get(order.provider_service) or elsewhere.get(order.provider_service)


def _referrals(visit: CentralVisit) -> tuple[dict[str, Referral], dict[str, Referral]]:
    """The issued referrals that may carry the visit's orders, by service: the visit's own,
    and the resident's open ones from other visits (a resident has one open referral per
    service, so a later visit's orders join it)."""
    rows = db.session.scalars(
        select(Referral)
        .where(
            Referral.resident_id == visit.resident_id,
            Referral.kind == "referral",
            Referral.provider_service.is_(True),
            Referral.consent == "yes",
            Referral.status.in_(CARRYING_STATUSES),
        )
        .order_by(Referral.issued_at, Referral.id)
    )
    own: dict[str, Referral] = {}
    elsewhere: dict[str, Referral] = {}
    for referral in rows:
        if referral.visit_id == visit.id:
            own.setdefault(referral.service, referral)
        else:
            elsewhere.setdefault(referral.service, referral)
    return own, elsewhere


def issue_orders(viewer: User, visit: CentralVisit, now: datetime) -> list[CentralEquipmentOrder]:
    """Issue the visit's proposed orders with its referrals. Call inside ``approve_visit``'s
    transaction, after the referrals are issued. Returns the orders it changed."""
    orders = list(
        db.session.scalars(
            select(CentralEquipmentOrder)
            .where(
                CentralEquipmentOrder.visit_id == visit.id,
                CentralEquipmentOrder.status == "proposed",
            )
            .order_by(CentralEquipmentOrder.created_at, CentralEquipmentOrder.id)
            .with_for_update()
        )
    )
    if not orders:
        return []
    own, elsewhere = _referrals(visit)
    for order in orders:
        referral = _carrier(order, own, elsewhere)
        order.updated_at = now
        if referral is None:
            order.status = order.route = "held"
            order.findings = [
                *order.findings,
                {
                    "code": NO_CONSENT,
                    "message": "There is no referral with the resident's consent to share "
                    "to carry this order to the delivering service: it is held.",
                },
            ]
            audit(viewer.id, "order_held", order, note=NO_CONSENT)
        else:
            order.status, order.issued_at, order.referral_id = "issued", now, referral.id
            audit(viewer.id, "order_issued", order, note=referral.service)
        log_order_change(order)
    return orders


def log_order_change(order: CentralEquipmentOrder) -> int:
    """Tell the ordering HSC's devices where the order has got to (``order.status``)."""

    def moment(value: datetime | None) -> str | None:
        return server.iso(value) if value else None

    return server.log_change(
        order.ordered_by,
        "order.status",
        order.id,
        {
            "visit_id": str(order.visit_id),
            "item_code": order.item_code,
            "item_name": order.item_name,
            "quantity": order.quantity,
            "status": order.status,
            "issued_at": moment(order.issued_at),
            "delivered_at": moment(order.delivered_at),
            "fitted_at": moment(order.fitted_at),
            "updated_at": moment(order.updated_at),
        },
    )
