"""Equipment a trusted assessor orders during a visit, on the field node.

Ordering is for trusted assessors only (``HscProfile.ta_level`` L3 or L4, as central last
said at a sync) and only on a draft visit of their own: anything else raises before a row
is touched, whatever the request was. Each line is checked by the catalogue's ordering rules
(``app.equipment.rules``, the same functions central runs) against the visit's answers as
they are now. A line with problems is not saved: the view shows them. A line the rules route
for approval or hold is saved with its reasons in words, never dropped. Completing the visit
checks every line again in the completing transaction, because the answers may have changed
since it was ordered (the landlord has agreed since, or the resident now uses a door chain).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from flask import current_app
from sqlalchemy import select

from app.db import write_transaction
from app.equipment import Catalogue, Item
from app.equipment.rules import Decision, OrderLine, check_order
from app.extensions import db
from app.formengine import VisitView
from app.formengine.evaluation import age_on
from app.models import AuditEvent, EquipmentOrder, HscProfile, Visit
from app.models.field import utcnow

TA_LEVELS = ("L3", "L4")


class NotTrustedAssessor(Exception):
    """Only a trusted assessor may order equipment; the HSC can request an assessment."""


class OrderNotOpen(Exception):
    """The visit is completed (or not this HSC's draft): its orders cannot change."""


class OrderProblems(Exception):
    """What was entered does not pass the ordering rules' checks; nothing was saved."""

    def __init__(self, decision: Decision, item_code: str = "") -> None:
        super().__init__(", ".join(sorted(decision.problems)))
        self.decision = decision
        self.item_code = item_code


def is_trusted_assessor(hsc: HscProfile) -> bool:
    return getattr(hsc, "ta_level", "none") in TA_LEVELS


def visit_values(visit: Visit) -> dict[str, Any]:
    """The visit's answers as the rules see them (hidden questions count as unanswered)."""
    return visit_view(visit).values


def visit_view(visit: Visit) -> VisitView:
    definition = current_app.extensions["forms"].get(visit.form_id, visit.form_version)
    if definition is None:
        raise LookupError(f"form {visit.form_id} v{visit.form_version} is not installed")
    return VisitView(
        definition,
        visit.answers,
        setting=visit.setting,
        age=age_on(visit.resident.date_of_birth, visit.visit_date),
        referral_source=visit.referral_source,
        visit_kind=visit.kind,
    )


def catalogue_for(visit: Visit) -> Catalogue:
    """The newest catalogue for the visit's form: the one new orders are made from."""
    found = [c for c in current_app.extensions["catalogues"] if c.form_id == visit.form_id]
    if not found:
        raise LookupError(f"no equipment catalogue for form {visit.form_id}")
    return max(found, key=lambda c: c.version)


def catalogue_of(order: EquipmentOrder) -> Catalogue:
    """The catalogue an order was made from, or the newest of that id if it has gone."""
    catalogues = current_app.extensions["catalogues"]
    found = catalogues.get(order.catalogue_id, order.catalogue_version)
    return found if found is not None else catalogues.latest(order.catalogue_id)


def line_of(order: EquipmentOrder) -> OrderLine:
    return OrderLine(
        item_code=order.item_code,
        quantity=order.quantity,
        location=order.location,
        side=order.side,
        measurements=dict(order.measurements),
        reason=order.reason,
        acknowledged=tuple(order.acknowledged),
    )


def check_line(hsc: HscProfile, visit: Visit, line: OrderLine, catalogue: Catalogue) -> Decision:
    """What the rules say about a line now, without saving it (the form's preview)."""
    return check_order(catalogue, line, assessor_level=hsc.ta_level, answers=visit_values(visit))


def findings_of(decision: Decision) -> list[dict[str, str]]:
    return [{"code": f.code, "message": f.message} for f in (*decision.reasons, *decision.warnings)]


# Reading ----------------------------------------------------------------------------------


def list_orders(visit: Visit) -> list[EquipmentOrder]:
    return list(
        db.session.scalars(
            select(EquipmentOrder)
            .where(EquipmentOrder.visit_id == visit.id)
            .order_by(EquipmentOrder.created_at, EquipmentOrder.id)
        )
    )


def get_order(visit: Visit, order_id: uuid.UUID) -> EquipmentOrder | None:
    return db.session.scalar(
        select(EquipmentOrder).where(
            EquipmentOrder.id == order_id, EquipmentOrder.visit_id == visit.id
        )
    )


@dataclass(frozen=True)
class Recheck:
    """One order checked again against the visit's answers as they are now."""

    order: EquipmentOrder
    item: Item | None
    decision: Decision


def recheck(visit: Visit, hsc: HscProfile) -> list[Recheck]:
    orders = list_orders(visit)
    if not orders:
        return []
    values = visit_values(visit)
    result = []
    for order in orders:
        catalogue = catalogue_of(order)
        decision = check_order(
            catalogue, line_of(order), assessor_level=hsc.ta_level, answers=values
        )
        result.append(Recheck(order, catalogue.item(order.item_code), decision))
    return result


# Writing ----------------------------------------------------------------------------------


def _audit(actor_id: uuid.UUID, action: str, order: EquipmentOrder, note: str = "") -> None:
    db.session.add(
        AuditEvent(
            actor_id=actor_id,
            action=action,
            record_type=order.__tablename__,
            record_id=str(order.id),
            note=note,
        )
    )


def _assessor_draft(hsc_id: uuid.UUID, visit_id: uuid.UUID) -> tuple[HscProfile, Visit]:
    """The assessor (read again in this transaction: a sync may have changed their level)
    and their draft visit, or an exception before anything is written."""
    hsc = db.session.get(HscProfile, hsc_id)
    if hsc is None or not is_trusted_assessor(hsc):
        raise NotTrustedAssessor(hsc_id)
    visit = db.session.scalar(select(Visit).where(Visit.id == visit_id, Visit.hsc_id == hsc_id))
    if visit is None:
        raise LookupError(visit_id)
    if visit.is_locked:
        raise OrderNotOpen(visit_id)
    return hsc, visit


def _stored(item: Item, line: OrderLine) -> dict[str, Any]:
    """A checked line's measurements as stored: numbers as numbers, choices as text."""
    stored: dict[str, Any] = {}
    for measurement in item.measurements:
        if measurement.id == "side" or measurement.id not in line.measurements:
            continue
        value = line.measurements[measurement.id]
        stored[measurement.id] = int(value) if measurement.kind == "number" else str(value)
    return stored


def _checked(hsc: HscProfile, visit: Visit, line: OrderLine, catalogue: Catalogue) -> Decision:
    decision = check_line(hsc, visit, line, catalogue)
    if decision.route == "refused" or decision.problems:
        raise OrderProblems(decision, line.item_code)
    return decision


def _fill(
    order: EquipmentOrder,
    hsc: HscProfile,
    line: OrderLine,
    catalogue: Catalogue,
    decision: Decision,
) -> None:
    item = catalogue.item(line.item_code)
    warnings = {w.code for w in decision.warnings}
    order.catalogue_id = catalogue.id
    order.catalogue_version = catalogue.version
    order.rules_version = decision.rules_version
    order.item_code = line.item_code
    order.quantity = line.quantity
    order.location = line.location.strip()
    order.side = line.side
    order.measurements = _stored(item, line)
    order.reason = line.reason.strip()
    order.acknowledged = sorted(code for code in line.acknowledged if code in warnings)
    order.ta_level = hsc.ta_level
    order.route = decision.route
    order.findings = findings_of(decision)
    order.updated_at = utcnow()


def add_order(hsc: HscProfile, visit_id: uuid.UUID, line: OrderLine) -> EquipmentOrder:
    with write_transaction():
        hsc, visit = _assessor_draft(hsc.id, visit_id)
        catalogue = catalogue_for(visit)
        decision = _checked(hsc, visit, line, catalogue)
        order = EquipmentOrder(id=uuid.uuid4(), visit_id=visit.id, ordered_by=hsc.id)
        _fill(order, hsc, line, catalogue, decision)
        db.session.add(order)
        visit.updated_at = utcnow()
        _audit(hsc.id, "order_added", order, note=f"{order.item_code} {order.route}")
    return order


def update_order(
    hsc: HscProfile, visit_id: uuid.UUID, order_id: uuid.UUID, line: OrderLine
) -> EquipmentOrder:
    with write_transaction():
        hsc, visit = _assessor_draft(hsc.id, visit_id)
        order = get_order(visit, order_id)
        if order is None:
            raise LookupError(order_id)
        line = replace(line, item_code=order.item_code)  # a change never swaps the item
        catalogue = catalogue_of(order)
        decision = _checked(hsc, visit, line, catalogue)
        _fill(order, hsc, line, catalogue, decision)
        visit.updated_at = utcnow()
        _audit(hsc.id, "order_changed", order, note=f"{order.item_code} {order.route}")
    return order


def remove_order(hsc: HscProfile, visit_id: uuid.UUID, order_id: uuid.UUID) -> EquipmentOrder:
    with write_transaction():
        hsc, visit = _assessor_draft(hsc.id, visit_id)
        order = get_order(visit, order_id)
        if order is None:
            raise LookupError(order_id)
        _audit(hsc.id, "order_removed", order, note=order.item_code)
        db.session.delete(order)
        visit.updated_at = utcnow()
    return order


def recheck_orders(visit: Visit) -> None:
    """Check every order of a visit being completed again, and store the new routes.

    Call inside the completing transaction. An order that no longer passes (a warning that
    appeared since it was ordered and has not been acknowledged) stops the completion: the
    summary page shows it first, so this is the last guard, not the way it is found.
    """
    hsc = db.session.get(HscProfile, visit.hsc_id)
    for checked in recheck(visit, hsc):
        order, decision = checked.order, checked.decision
        if decision.problems and decision.route != "refused":
            raise OrderProblems(decision, order.item_code)
        if decision.route == "refused":
            # No longer a trusted assessor (central changed the level since the order was
            # made): the order is kept and goes for approval, never silently dropped.
            decision = replace(decision, route="approval")
        findings = findings_of(decision)
        if (order.route, order.findings, order.rules_version) == (
            decision.route,
            findings,
            decision.rules_version,
        ):
            continue
        before = order.route
        order.route = decision.route
        order.findings = findings
        order.rules_version = decision.rules_version
        order.updated_at = utcnow()
        _audit(visit.hsc_id, "order_rechecked", order, note=f"{before} -> {order.route}")


def provider_services(visit: Visit) -> Mapping[str, list[EquipmentOrder]]:
    """The visit's orders by the provider queue that delivers them (``minor_adaptations``...)."""
    grouped: dict[str, list[EquipmentOrder]] = {}
    for order in list_orders(visit):
        catalogue = catalogue_of(order)
        item = catalogue.item(order.item_code)
        if item is not None:
            grouped.setdefault(catalogue.provider_service(item), []).append(order)
    return grouped
