"""Equipment orders and catalogue items as the visit's pages show them, in words."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from app import orders
from app.equipment import Item, Measurement
from app.equipment.rules import format_pence
from app.formengine import VisitView
from app.models import EquipmentOrder

# Where most items go: quick to tap, with "Somewhere else" for the rest.
ROOMS = (
    ("Bathroom", "Bathroom"),
    ("Toilet", "Toilet"),
    ("Stairs", "Stairs"),
    ("Bedroom", "Bedroom"),
    ("Living room", "Living room"),
    ("Kitchen", "Kitchen"),
    ("Hall or landing", "Hall or landing"),
    ("Front door", "Front door"),
    ("Back door", "Back door"),
    ("Outside", "Outside"),
)
NEED_KINDS = ("referral", "signpost")
ROUTES = {
    "direct": ("Order", "govuk-tag--green"),
    "approval": ("Needs approval", "govuk-tag--yellow"),
    "held": ("Held", "govuk-tag--orange"),
}


def route_tag(route: str) -> tuple[str, str]:
    return ROUTES.get(route, (route.capitalize(), "govuk-tag--grey"))


def item_cost(item: Item) -> str:
    if item.unit_cost_pence is None:
        return "Charged weekly"
    return f"{format_pence(item.unit_cost_pence)} each"


def mot_needs(view: VisitView, item: Item) -> list[str]:
    """The needs the MOT found that suggest this item: the reasons of the form's rules whose
    conditions read the same answers as the item's ``suggested_if`` and hold for this visit."""
    condition = item.suggested_if
    values = view.values
    if condition is None or condition(values) is not True:
        return []
    needs: list[str] = []
    outputs = view.definition.outputs
    for rule in view.definition.rules:
        if outputs[rule.output].kind not in NEED_KINDS:
            continue  # a warning (key safe and door chain) is not a need the item meets
        if rule.requires is not None and rule.requires(values) is not True:
            continue
        for clause in rule.clauses:
            if clause.when.names & condition.names and clause.when(values):
                # Worded as the referral's reasons are ("Grab rails needed: by the bath").
                need = view._reason(clause.reason)
                if need not in needs:
                    needs.append(need)
    return needs or [item.need]


@dataclass(frozen=True)
class Field:
    """A measurement asked on the item page (the side is asked by itself)."""

    measurement: Measurement
    name: str
    hint: str


def measurement_fields(item: Item) -> list[Field]:
    result = []
    for measurement in item.measurements:
        if measurement.id == "side":
            continue
        hint = measurement.hint
        if measurement.kind == "number":
            unit = f" {measurement.unit}" if measurement.unit else ""
            between = f"Between {measurement.minimum}{unit} and {measurement.maximum}{unit}."
            hint = f"{between} {hint}".strip()
        result.append(Field(measurement, f"measurement-{measurement.id}", hint))
    return result


def _measurement_text(item: Item | None, key: str, value) -> str:
    measurement = item.measurement(key) if item else None
    if measurement is None:
        return f"{key}: {value}"
    if measurement.kind == "choice":
        shown = dict(measurement.options).get(str(value), str(value))
    else:
        shown = f"{value} {measurement.unit}".strip()
    return f"{measurement.label}: {shown}"


@dataclass(frozen=True)
class OrderRow:
    order: EquipmentOrder
    name: str
    details: list[str]
    cost_pence: int | None
    route: str
    route_label: str
    route_class: str
    reasons: list[str]
    provider_service: str

    @property
    def cost(self) -> str:
        return format_pence(self.cost_pence) if self.cost_pence is not None else "Charged weekly"


def order_row(order: EquipmentOrder, route: str | None = None, findings=None) -> OrderRow:
    """One order as shown; ``route`` and ``findings`` when re-checked rather than as stored."""
    catalogue = orders.catalogue_of(order)
    item = catalogue.item(order.item_code)
    details = [order.location] if order.location else []
    if order.side:
        side = item.measurement("side") if item else None
        details.append(
            f"Side: {dict(side.options).get(order.side, order.side) if side else order.side}"
        )
    details += [_measurement_text(item, k, v) for k, v in order.measurements.items()]
    cost = None
    if item is not None and item.unit_cost_pence is not None:
        cost = item.unit_cost_pence * order.quantity
    route = route or order.route
    label, tag = route_tag(route)
    found = order.findings if findings is None else findings
    return OrderRow(
        order=order,
        name=item.name if item else order.item_code,
        details=details,
        cost_pence=cost,
        route=route,
        route_label=label,
        route_class=tag,
        reasons=[f["message"] for f in found],
        provider_service=catalogue.provider_service(item) if item else "",
    )


def order_rows(placed: Iterable[EquipmentOrder]) -> list[OrderRow]:
    return [order_row(order) for order in placed]


def total_of(rows: Iterable[OrderRow]) -> int:
    return sum(row.cost_pence or 0 for row in rows)
