"""Trusted assessors' equipment orders on central: re-checked on ingest of each revision.

The tablet checked each order with the catalogue's rules when it was made; central checks it
again with the assessor's level on record here and central's current catalogue. An order is
never dropped for a policy reason: it is kept and routed (for approval, or held) and, when
central's answer differs from the tablet's, flagged for the team leader. Only an order its
sender may not make at all (not a trusted assessor, an item not in the catalogue, input that
does not pass the rules' checks) is refused, with a stable code, and the rest of the visit is
kept.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import delete, insert, select

from app.equipment.rules import OrderLine, check_order
from app.extensions import db
from app.models import CentralEquipmentOrder, User
from sync.errors import ERRORS

STATUS_BY_ROUTE = {"direct": "proposed", "approval": "approval", "held": "held"}
DONE = ("issued", "delivered", "fitted")  # an order with a provider is never replaced


@dataclass
class OrderIngest:
    rows: list[dict] = field(default_factory=list)
    rejected: list[dict] = field(default_factory=list)
    policy_changed: bool = False
    # For each provider queue, the items the visit orders from it, in words.
    ordered: dict[str, list[str]] = field(default_factory=dict)


def _refusal(order: Mapping[str, Any], code: str, detail: Any = None) -> dict:
    refusal = {"id": str(order["id"]), "code": code, "message": ERRORS[code].message}
    if detail:
        refusal["detail"] = detail
    return refusal


def ingest_orders(
    user: User,
    visit_id: uuid.UUID,
    revision: int,
    resident_id: uuid.UUID,
    orders: Sequence[Mapping[str, Any]],
    values: Mapping[str, Any],
    consents: Mapping[str, str],
    now: datetime,
) -> OrderIngest:
    """Central's decision on each order of a revision (``orders`` as the wire schema loaded
    them; ``values`` are the revision's answers as the rules see them)."""
    result = OrderIngest()
    if not orders:
        return result
    catalogues = current_app.extensions["catalogues"]
    for order in orders:
        if user.ta_level not in ("L3", "L4"):
            result.rejected.append(_refusal(order, "ORDER_NOT_PERMITTED"))
            continue
        try:
            catalogue = catalogues.latest(order["catalogue_id"])
        except LookupError:
            catalogue = None
        if catalogue is None:
            result.rejected.append(_refusal(order, "ORDER_REJECTED", "Unknown catalogue."))
            continue
        line = OrderLine(
            item_code=order["item_code"],
            quantity=order["quantity"],
            location=order["location"],
            side=order["side"],
            measurements=dict(order["measurements"]),
            reason=order["reason"],
            acknowledged=tuple(order["acknowledged"]),
        )
        decision = check_order(catalogue, line, assessor_level=user.ta_level, answers=values)
        if decision.route == "refused":
            code = (
                "ORDER_NOT_PERMITTED"
                if any(f.code == "NOT_A_TRUSTED_ASSESSOR" for f in decision.reasons)
                else "ORDER_REJECTED"
            )
            detail = [f.message for f in decision.reasons]
            result.rejected.append(_refusal(order, code, detail))
            continue
        if decision.problems:
            result.rejected.append(_refusal(order, "ORDER_REJECTED", decision.problems))
            continue
        item = catalogue.item(line.item_code)
        provider = catalogue.provider_service(item)
        findings = [
            {"code": f.code, "message": f.message} for f in (*decision.reasons, *decision.warnings)
        ]
        route = decision.route
        changed = route != order["route"]
        if consents.get(provider) != "yes":
            route = "held"
            findings.append(
                {
                    "code": "NO_CONSENT_TO_SHARE",
                    "message": "The resident has not agreed to share their details with "
                    f"{catalogue.services[item.service].name}: the order is held.",
                }
            )
        result.policy_changed |= changed
        if route != "held":
            result.ordered.setdefault(provider, []).append(f"{item.name} × {line.quantity}")
        result.rows.append(
            {
                "id": order["id"],
                "visit_id": visit_id,
                "revision": revision,
                "resident_id": resident_id,
                "ordered_by": user.id,
                "ta_level": user.ta_level,
                "catalogue_id": catalogue.id,
                "catalogue_version": catalogue.version,
                "rules_version": order["rules_version"],
                "item_code": item.code,
                "item_name": item.name,
                "service": item.service,
                "provider_service": provider,
                "fitting": item.fitting,
                "quantity": line.quantity,
                "location": line.location,
                "side": line.side,
                "measurements": line.measurements,
                "reason": line.reason,
                "unit_cost_pence": item.unit_cost_pence,
                "device_route": order["route"],
                "route": route,
                "findings": findings,
                "policy_changed": changed,
                "status": STATUS_BY_ROUTE[route],
                "created_at": now,
                "updated_at": now,
            }
        )
    return result


def write_orders(revised: Iterable[uuid.UUID], rows: list[dict]) -> None:
    """Write the orders of new revisions (``rows``). For a ``revised`` visit these replace its
    orders not yet with a provider; a visit new to central has none to replace."""
    revised, kept = set(revised), set()
    if revised:
        db.session.execute(
            delete(CentralEquipmentOrder).where(
                CentralEquipmentOrder.visit_id.in_(revised),
                CentralEquipmentOrder.status.not_in(DONE),
            )
        )
        kept = set(
            db.session.scalars(
                select(CentralEquipmentOrder.id).where(CentralEquipmentOrder.visit_id.in_(revised))
            )
        )
    rows = [row for row in rows if row["id"] not in kept]
    if rows:
        db.session.execute(insert(CentralEquipmentOrder.__table__), rows)
