"""The device's copy of where each equipment order from its HSC's visits has got to.

Central logs an ``order.status`` change when approving the visit issues an order to the
delivering service (or holds it), and when the provider marks it delivered or fitted. The
device keeps the latest on its own order (the id is the one the device made): ``delivery_
status`` and ``delivery_updated_at``, which holds central's time of the change. A change no
newer than the one already applied (an earlier time, or the same time and no further along)
is ignored, so a page applied twice, or pages arriving out of order, change nothing. An
order the device no longer holds is skipped.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import select

from app.extensions import db
from app.models import EquipmentOrder
from sync.referral_status import _time

log = logging.getLogger(__name__)
# In the order an order goes through them: a later one wins a tie on time.
STATUSES = ("held", "issued", "delivered", "fitted", "cancelled")
LABELS = {
    "held": "Held by the office",
    "issued": "Issued",
    "delivered": "Delivered",
    "fitted": "Fitted",
    "cancelled": "Cancelled",
}
# Before central has said anything: what the tablet's own check decided.
WAITING = {
    "direct": ("Issued when the visit is approved", "govuk-tag--blue"),
    "approval": ("Waiting for approval", "govuk-tag--orange"),
    "held": ("Held", "govuk-tag--red"),
}
TAGS = {
    "held": "govuk-tag--red",
    "issued": "govuk-tag--light-blue",
    "delivered": "govuk-tag--green",
    "fitted": "govuk-tag--green",
    "cancelled": "govuk-tag--grey",
}


def _when(payload: dict) -> datetime | None:
    """Central's time of the change: its ``updated_at``, else the latest step's time."""
    moments = [_time(payload.get(key)) for key in ("issued_at", "delivered_at", "fitted_at")]
    return _time(payload.get("updated_at")) or max((m for m in moments if m), default=None)


def apply_order_status(change: dict) -> None:
    """Record one order's delivery status. Call inside the pull page's transaction."""
    payload = change.get("payload") or {}
    try:
        order_id = uuid.UUID(str(change.get("id")))
    except ValueError:
        log.warning("pull: malformed order.status change %r ignored", change.get("server_seq"))
        return
    status = payload.get("status")
    when = _when(payload)
    if status not in STATUSES or when is None:
        log.warning("pull: order.status change %r not understood", change.get("server_seq"))
        return
    order = db.session.get(EquipmentOrder, order_id)
    if order is None:
        return  # not on this device (made on another, or purged)
    if order.delivery_updated_at is not None and order.delivery_status in STATUSES:
        newer = when > order.delivery_updated_at
        further = when == order.delivery_updated_at and STATUSES.index(status) > STATUSES.index(
            order.delivery_status
        )
        if not (newer or further):
            return  # the device already has this change, or a newer one
    order.delivery_status = status
    order.delivery_updated_at = when


@dataclass(frozen=True)
class OrderDelivery:
    """One order as the completed visit's page shows it."""

    name: str
    quantity: int
    location: str
    status: str
    tag: str
    updated_at: datetime | None


def _name(order: EquipmentOrder) -> str:
    catalogues = current_app.extensions.get("catalogues")
    catalogue = catalogues.get(order.catalogue_id, order.catalogue_version) if catalogues else None
    item = catalogue.item(order.item_code) if catalogue else None
    return item.name if item else order.item_code


def deliveries_of(visit_id: uuid.UUID) -> list[OrderDelivery]:
    """The visit's orders, as ordered, with where each has got to as central last said
    (before central says anything, what the tablet's own check decided)."""
    orders = db.session.scalars(
        select(EquipmentOrder)
        .where(EquipmentOrder.visit_id == visit_id)
        .order_by(EquipmentOrder.created_at, EquipmentOrder.id)
    )
    found = []
    for order in orders:
        if order.delivery_status in LABELS:
            status, tag = LABELS[order.delivery_status], TAGS[order.delivery_status]
        else:
            status, tag = WAITING.get(order.route, WAITING["direct"])
        found.append(
            OrderDelivery(
                _name(order), order.quantity, order.location, status, tag, order.delivery_updated_at
            )
        )
    return found
