"""Equipment orders in words, for the team leader's review page and the provider's referral
sheet: the item, its measurements with the catalogue's labels and units, and its cost; and
the items each referral carries to its provider.

An order keeps its measurements by the catalogue's measurement ids; the labels and units come
from the catalogue on central. If the catalogue (or the item) is not there any more, the ids
are shown as they are rather than hiding what the assessor measured.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy import select

from app.equipment import Item, Measurement
from app.extensions import db
from app.models import CentralEquipmentOrder, Referral

STATUS_TAGS = {
    "proposed": ("To issue on approval", "govuk-tag--blue"),
    "approval": ("Needs approval", "govuk-tag--orange"),
    "held": ("Held", "govuk-tag--red"),
    "issued": ("Issued", "govuk-tag--light-blue"),
    "delivered": ("Delivered", "govuk-tag--green"),
    "fitted": ("Fitted", "govuk-tag--green"),
    "cancelled": ("Cancelled", "govuk-tag--grey"),
}
ROUTE_LABELS = {
    "direct": "within the assessor's remit",
    "approval": "needs an occupational therapist's or team leader's approval",
    "held": "held",
    "refused": "refused",
}
WITH_PROVIDER = ("issued", "delivered", "fitted")


@dataclass(frozen=True)
class OrderLine:
    order: CentralEquipmentOrder
    measurements: list[tuple[str, str]]

    @property
    def cost_pence(self) -> int | None:
        if self.order.unit_cost_pence is None:
            return None
        return self.order.unit_cost_pence * self.order.quantity

    @property
    def summary(self) -> str:
        return f"{self.order.item_name} × {self.order.quantity}"


def money(pence: int | None) -> str:
    if pence is None:
        return "Not known"
    return f"£{pence / 100:,.2f}"


def total_pence(lines: Iterable[OrderLine]) -> int:
    return sum(line.cost_pence or 0 for line in lines if line.order.status != "cancelled")


def _item(order: CentralEquipmentOrder) -> Item | None:
    catalogues = current_app.extensions.get("catalogues")
    if catalogues is None:
        return None
    catalogue = catalogues.get(order.catalogue_id, order.catalogue_version)
    if catalogue is None:
        try:
            catalogue = catalogues.latest(order.catalogue_id)
        except LookupError:
            return None
    return catalogue.item(order.item_code)


def _value(measurement: Measurement, value: Any) -> str:
    options = dict(measurement.options)
    if str(value) in options:
        return options[str(value)]
    return f"{value} {measurement.unit}" if measurement.unit else str(value)


def describe(order: CentralEquipmentOrder) -> OrderLine:
    """The order with its measurements in the catalogue's words, in the catalogue's order."""
    item = _item(order)
    known = {m.id: m for m in item.measurements} if item else {}
    shown: list[tuple[str, str]] = []
    for measurement_id, measurement in known.items():
        value = order.measurements.get(measurement_id)
        if value not in (None, ""):
            shown.append((measurement.label, _value(measurement, value)))
    for measurement_id, value in order.measurements.items():
        if measurement_id not in known and value not in (None, ""):
            shown.append((measurement_id.replace("_", " ").capitalize(), str(value)))
    return OrderLine(order, shown)


def describe_all(orders: Iterable[CentralEquipmentOrder]) -> list[OrderLine]:
    return [describe(order) for order in orders]


def items_of(referrals: Iterable[Referral]) -> dict[uuid.UUID, list[CentralEquipmentOrder]]:
    """The equipment each referral carries, by referral id, in the order it was ordered."""
    ids = [referral.id for referral in referrals]
    found: dict[uuid.UUID, list[CentralEquipmentOrder]] = {i: [] for i in ids}
    if not ids:
        return found
    orders = db.session.scalars(
        select(CentralEquipmentOrder)
        .where(
            CentralEquipmentOrder.referral_id.in_(ids),
            CentralEquipmentOrder.status.in_(WITH_PROVIDER),
        )
        .order_by(CentralEquipmentOrder.issued_at, CentralEquipmentOrder.created_at)
    )
    for order in orders:
        found[order.referral_id].append(order)
    return found


def items_in_words(orders: Iterable[CentralEquipmentOrder]) -> str:
    """The items and their quantities on one line, for the CSV export."""
    return "; ".join(f"{order.item_name} × {order.quantity}" for order in orders)
