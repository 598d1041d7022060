"""Providers deliver and fit the equipment that came with a referral.

An issued order belongs to the referral that carried it to the provider (``referral_id``),
and a provider reaches it only through that referral, scoped exactly as the referral is: an
order on another service's referral is as good as missing. Reporting is a small state
machine: issued → delivered → fitted, or issued → fitted directly for an item that needs
fitting (fitting implies delivery); an item without fitting is only ever delivered. Nothing
is reported on a declined referral. A step that is not allowed raises ``ItemRefused`` and
changes nothing. Each step is stamped with server time, audited and logged for the HSC's
device (``order.status``) in one transaction.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select

from app.central.accounts.audit import audit
from app.central.order_display import WITH_PROVIDER
from app.central.order_issue import log_order_change
from app.central.providers import lock_referral_for
from app.db import write_transaction
from app.extensions import db
from app.models import CentralEquipmentOrder, User
from app.models.field import utcnow

ALLOWED_FROM = {"delivered": ("issued",), "fitted": ("issued", "delivered")}
DONE = {"delivered": "marked as delivered", "fitted": "marked as fitted"}


class ItemRefused(Exception):
    """The item cannot be reported so; ``str(error)`` says why, for the provider."""


def _target(
    provider: User, referral_id: uuid.UUID, order_id: uuid.UUID, status: str
) -> CentralEquipmentOrder:
    referral = lock_referral_for(provider, referral_id)
    order = db.session.scalar(
        select(CentralEquipmentOrder)
        .where(
            CentralEquipmentOrder.id == order_id,
            CentralEquipmentOrder.referral_id == referral.id,
            CentralEquipmentOrder.status.in_(WITH_PROVIDER),
        )
        .with_for_update()
    )
    if order is None:
        raise LookupError(order_id)
    if referral.status == "declined":
        raise ItemRefused(
            f"This referral has been declined, so {order.item_name} cannot be {DONE[status]}."
        )
    if status == "fitted" and not order.fitting:
        raise ItemRefused(f"{order.item_name} is not fitted: mark it as delivered.")
    if order.status not in ALLOWED_FROM[status]:
        if order.status == status:
            raise ItemRefused(f"{order.item_name} has already been {DONE[status]}.")
        raise ItemRefused(
            f"{order.item_name} has been {DONE[order.status]}, so it cannot be {DONE[status]}."
        )
    return order


def mark_delivered(
    provider: User, referral_id: uuid.UUID, order_id: uuid.UUID, now: datetime | None = None
) -> CentralEquipmentOrder:
    now = now or utcnow()
    with write_transaction():
        order = _target(provider, referral_id, order_id, "delivered")
        order.status, order.delivered_at, order.updated_at = "delivered", now, now
        audit(provider.id, "order_delivered", order, note=order.item_code)
        log_order_change(order)
    return order


def mark_fitted(
    provider: User, referral_id: uuid.UUID, order_id: uuid.UUID, now: datetime | None = None
) -> CentralEquipmentOrder:
    """Fitted, and so delivered too if it had not been reported."""
    now = now or utcnow()
    with write_transaction():
        order = _target(provider, referral_id, order_id, "fitted")
        order.status, order.fitted_at, order.updated_at = "fitted", now, now
        order.delivered_at = order.delivered_at or now
        audit(provider.id, "order_fitted", order, note=order.item_code)
        log_order_change(order)
    return order
