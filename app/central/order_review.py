"""Equipment orders in team-leader review.

Central re-checked each order on ingest (``app.central.orders``) and left it ``proposed``
(within the assessor's remit), ``approval`` (for an occupational therapist's or team leader's
approval) or ``held``. A team leader may approve an order that needs it while the visit awaits
review, pinned to the revision shown like every decision on the visit, and audited; it then
goes with the visit's other proposed orders when the visit is approved
(``app.central.order_issue``).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select

from app.central.accounts.audit import audit
from app.central.reviews import decision_target
from app.db import write_transaction
from app.extensions import db
from app.models import CentralEquipmentOrder, CentralVisit, User
from app.models.field import utcnow


class OrderRefused(Exception):
    """The order cannot be approved; ``str(error)`` says why, for the team leader."""


def orders_of(visit: CentralVisit) -> list[CentralEquipmentOrder]:
    return list(
        db.session.scalars(
            select(CentralEquipmentOrder)
            .where(
                CentralEquipmentOrder.visit_id == visit.id,
                CentralEquipmentOrder.status != "cancelled",
            )
            .order_by(CentralEquipmentOrder.created_at, CentralEquipmentOrder.id)
        )
    )


def people(orders: list[CentralEquipmentOrder]) -> dict[uuid.UUID, User]:
    """Who ordered and who approved each order, by id."""
    ids = {o.ordered_by for o in orders} | {o.approved_by for o in orders if o.approved_by}
    if not ids:
        return {}
    return {user.id: user for user in db.session.scalars(select(User).where(User.id.in_(ids)))}


def approve_order(
    viewer: User,
    visit_id: uuid.UUID,
    order_id: uuid.UUID,
    revision_sha256: str,
    now: datetime | None = None,
) -> CentralEquipmentOrder:
    """Approve one order that needs approval; it is issued when the visit is approved.

    Raises LookupError when the visit (in the viewer's districts) or the order is not there,
    ``ReviewRefused`` for a stale revision or a decided visit, ``OrderRefused`` otherwise.
    """
    now = now or utcnow()
    with write_transaction():
        visit = decision_target(viewer, visit_id, revision_sha256)
        order = db.session.scalar(
            select(CentralEquipmentOrder)
            .where(CentralEquipmentOrder.id == order_id, CentralEquipmentOrder.visit_id == visit.id)
            .with_for_update()
        )
        if order is None:
            raise LookupError(order_id)
        if order.status != "approval":
            if order.approved_by:
                raise OrderRefused(f"{order.item_name} has already been approved.")
            raise OrderRefused(f"{order.item_name} does not need approval.")
        order.status, order.approved_by, order.updated_at = "proposed", viewer.id, now
        audit(viewer.id, "order_approved", order, note=order.item_code)
    return order
