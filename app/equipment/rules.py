"""The ordering rules: may this trusted assessor order this item for this resident?

The same pure functions run on the tablet, as the assessor orders, and again on central
when the visit arrives (with the assessor's level on record and central's catalogue), so
both sides reach the same decision from the same inputs. An order is never dropped for
being outside the assessor's remit: it is kept and routed for approval, or held, with the
reasons in words. The catalogue's ``rules_version`` goes into every decision so an order can
be stored with the rules it was checked under, and central can flag a change of policy
rather than silently reject an order the tablet accepted.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from app.equipment.catalogue import Catalogue, Item, Measurement

TA_LEVELS_ORDER = {"none": 0, "L3": 1, "L4": 2}
RENTED = frozenset({"council_tenant", "housing_association_tenant", "private_tenant"})
MAX_QUANTITY = 20
MAX_LOCATION = 100
MAX_REASON = 1000
ROUTES = ("direct", "approval", "held", "refused")

# Finding codes: stable, shared by the tablet, central and the tests. Never reuse one.
NOT_A_TRUSTED_ASSESSOR = "NOT_A_TRUSTED_ASSESSOR"
UNKNOWN_ITEM = "UNKNOWN_ITEM"
ABOVE_LEVEL = "ABOVE_LEVEL"
OVER_CEILING = "OVER_CEILING"
COMPLEX_NEED = "COMPLEX_NEED"
NO_LANDLORD_CONSENT = "NO_LANDLORD_CONSENT"
KEY_SAFE_DOOR_CHAIN = "KEY_SAFE_DOOR_CHAIN"

_APPROVAL = "it goes to an occupational therapist or team leader for approval."
_CONSENT = {
    "waiting": "The landlord has been asked but has not agreed yet",
    "not_asked": "The landlord has not been asked yet",
    "refused": "The landlord has refused permission",
    "not_needed": (
        "The landlord's permission was recorded as not needed, but this item is fitted to the home"
    ),
}
_NOT_ANSWERED = "Nobody has recorded whether the landlord agrees"


@dataclass(frozen=True)
class OrderLine:
    item_code: str
    quantity: int
    location: str
    side: str
    measurements: dict[str, str | int]
    reason: str
    acknowledged: tuple[str, ...] = ()


@dataclass(frozen=True)
class Finding:
    code: str
    message: str


@dataclass(frozen=True)
class Decision:
    route: str
    reasons: tuple[Finding, ...]
    warnings: tuple[Finding, ...]
    problems: dict[str, str]
    rules_version: str


def check_order(
    catalogue: Catalogue,
    line: OrderLine,
    *,
    assessor_level: str,
    answers: Mapping[str, Any],
) -> Decision:
    """Decide where one order line goes, and what is wrong with what was entered.

    ``answers`` are the visit's answers as the rules see them (``VisitView.values``, where a
    hidden question is unanswered); P3, A8, A2, S_CHAIN and S10 are read.

    The route is the most restrictive that applies: ``refused`` (not a trusted assessor, or
    no such item: nothing to keep) over ``held`` (no landlord consent) over ``approval``
    (above the assessor's level, over the free-provision ceiling, or a complex need) over
    ``direct``. Held wins over approval because nothing can happen until the landlord
    agrees; every reason is listed, so whoever releases a held order sees that it also
    needs approval.

    Landlord consent is only asked of items fitted to the home (``fitting: true``): a
    landlord has no say over a perching stool or a pendant alarm, so those are never held.
    For a fitted item a tenant's order needs A8 'agreed'; 'not_needed' contradicts ordering
    something fitted, so it is held too. Owner-occupiers and 'other' tenures are not asked.
    """
    rank = TA_LEVELS_ORDER.get(assessor_level, 0)
    item = catalogue.item(line.item_code)
    refused = []
    if rank == 0:
        refused.append(
            Finding(
                NOT_A_TRUSTED_ASSESSOR,
                "Only a trusted assessor can order equipment: refer the resident to the "
                "service instead.",
            )
        )
    if item is None:
        refused.append(
            Finding(
                UNKNOWN_ITEM,
                f"There is no item {line.item_code} in the equipment catalogue "
                f"(version {catalogue.version}).",
            )
        )
    problems = _problems(item, line) if item is not None else {}
    if refused or item is None:
        return Decision("refused", tuple(refused), (), problems, catalogue.rules_version)

    approval = _approval_reasons(catalogue, item, line, rank, answers)
    held = _consent_reasons(item, answers)
    warnings = _warnings(item, answers)
    for warning in warnings:
        if warning.code not in line.acknowledged:
            problems["acknowledged"] = (
                "Confirm you have agreed with the resident how responders will get in past "
                "the door chain or bolt"
            )
    route = "held" if held else "approval" if approval else "direct"
    return Decision(route, (*held, *approval), tuple(warnings), problems, catalogue.rules_version)


def order_total_pence(catalogue: Catalogue, lines: Iterable[OrderLine]) -> int:
    """The running total of the priced items; unknown items and those without a unit cost
    (a weekly telecare charge) add nothing."""
    total = 0
    for line in lines:
        item = catalogue.item(line.item_code)
        if item is not None and item.unit_cost_pence is not None and _is_count(line.quantity):
            total += item.unit_cost_pence * max(line.quantity, 0)
    return total


def format_pence(pence: int) -> str:
    """£1,000 for whole pounds, £1,000.01 otherwise."""
    if pence % 100 == 0:
        return f"£{pence // 100:,}"
    return f"£{pence / 100:,.2f}"


def level_name(level: str) -> str:
    return {"L3": "Level 3", "L4": "Level 4"}.get(level, "no")


def _approval_reasons(
    catalogue: Catalogue, item: Item, line: OrderLine, rank: int, answers: Mapping[str, Any]
) -> list[Finding]:
    reasons = []
    if TA_LEVELS_ORDER[item.min_level] > rank:
        reasons.append(
            Finding(
                ABOVE_LEVEL,
                f"This item needs a {level_name(item.min_level)} trusted assessor: {_APPROVAL}",
            )
        )
    if item.minor_adaptation and item.unit_cost_pence is not None and _is_count(line.quantity):
        cost = item.unit_cost_pence * line.quantity
        if cost > catalogue.ceiling_pence:
            reasons.append(
                Finding(
                    OVER_CEILING,
                    f"This adaptation costs {format_pence(cost)}, over the "
                    f"{format_pence(catalogue.ceiling_pence)} limit for a free minor "
                    f"adaptation: {_APPROVAL}",
                )
            )
    if answers.get("A2") == "no":
        reasons.append(
            Finding(
                COMPLEX_NEED,
                "The resident's needs are not straightforward (complex, changing, or several "
                f"needs that affect each other): {_APPROVAL}",
            )
        )
    return reasons


def _consent_reasons(item: Item, answers: Mapping[str, Any]) -> list[Finding]:
    if answers.get("P3") not in RENTED or not item.fitting:
        return []
    consent = answers.get("A8")
    if consent == "agreed":
        return []
    why = _CONSENT.get(consent, _NOT_ANSWERED)
    return [
        Finding(
            NO_LANDLORD_CONSENT,
            f"{why}: the order is kept but held until the landlord agrees to it being fitted.",
        )
    ]


def _warnings(item: Item, answers: Mapping[str, Any]) -> list[Finding]:
    if not item.key_safe:
        return []
    if answers.get("S_CHAIN") == "yes":
        why = "The resident uses a door chain or bolt, or leaves keys in the lock"
    elif answers.get("S10") == "wanted":
        why = "The resident would like a door chain"
    else:
        return []
    return [
        Finding(
            KEY_SAFE_DOOR_CHAIN,
            f"{why}: responders using the key safe could not get in and would have to force "
            "entry. Agree with the resident how they will get in.",
        )
    ]


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _problems(item: Item, line: OrderLine) -> dict[str, str]:
    problems: dict[str, str] = {}
    if not _is_count(line.quantity):
        problems["quantity"] = "Quantity must be a whole number, like 2"
    elif not 1 <= line.quantity <= MAX_QUANTITY:
        problems["quantity"] = f"Quantity must be between 1 and {MAX_QUANTITY}"
    location = (line.location or "").strip()
    if item.fitting and not location:
        problems["location"] = "Enter where it is to be fitted, for example by the bath"
    elif len(location) > MAX_LOCATION:
        problems["location"] = f"Location must be {MAX_LOCATION} characters or fewer"
    reason = (line.reason or "").strip()
    if not reason:
        problems["reason"] = "Enter why the resident needs this item"
    elif len(reason) > MAX_REASON:
        problems["reason"] = f"Reason must be {MAX_REASON} characters or fewer"
    for measurement in item.measurements:
        if measurement.id == "side":
            # The side has its own field on an order line (a measurements["side"] is taken
            # in its place, so the two cannot disagree silently).
            value = line.side or line.measurements.get("side", "")
            problem = _choice_problem(measurement, value)
            if problem:
                problems["side"] = problem
            continue
        value = line.measurements.get(measurement.id)
        if measurement.kind == "choice":
            problem = _choice_problem(measurement, value)
        else:
            problem = _number_problem(measurement, value)
        if problem:
            problems[f"measurements.{measurement.id}"] = problem
    for key in line.measurements:
        if key != "side" and item.measurement(key) is None:
            problems[f"measurements.{key}"] = f"{item.name} has no measurement called {key}"
    return problems


def _lower(label: str) -> str:
    return label[:1].lower() + label[1:]


def _choice_problem(measurement: Measurement, value: Any) -> str | None:
    if str(value if value is not None else "").strip() in {v for v, _ in measurement.options}:
        return None
    return f"Select the {_lower(measurement.label)}"


def _number_problem(measurement: Measurement, value: Any) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return f"Enter the {_lower(measurement.label)}"
    unit = f" {measurement.unit}" if measurement.unit else ""
    if isinstance(value, bool):
        number = None
    elif isinstance(value, int):
        number = value
    else:
        text = str(value).strip()
        number = int(text) if text.isascii() and text.isdigit() else None
    if number is None:
        return f"{measurement.label} must be a whole number{' in' + unit if unit else ''}"
    low, high = measurement.minimum, measurement.maximum
    if (low is not None and number < low) or (high is not None and number > high):
        return f"{measurement.label} must be between {low}{unit} and {high}{unit}"
    return None
