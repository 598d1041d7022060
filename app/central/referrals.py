"""Referrals on central: made from a visit's answers on ingest, issued on approval, and
reported on by providers.

The rules are the form definition's own, evaluated by the same ``VisitView`` the field node
uses for its preview: there is no second copy of them. On ingest of a revision a visit gets
one ``proposed`` referral per service whose rules fired (with the reasons in words and the
consent recorded on the device) and its signposts. A resident never has two open referrals
to one service; a visit's proposals are made again from each new revision, and only then.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, select

from app.db import insert_many
from app.extensions import db
from app.formengine import FormDefinition, VisitView
from app.formengine.evaluation import Outcomes, age_on
from app.models import Referral
from app.models.central import OPEN_REFERRAL_STATUSES

# Flags the review queue shows, worked out from each revision on ingest.
FLAG_LABELS = {
    "safeguarding": "Safeguarding concern",
    "hospital_discharge": "Hospital discharge",
    "no_consent": "No consent to share",
    "home_visit_suggested": "Home visit suggested after a clinic visit",
    "policy_changed": "Order rules changed since the tablet checked",
}
URGENT_FLAGS = frozenset({"safeguarding", "hospital_discharge"})
# A safeguarding referral can go ahead without consent where the risk justifies it.
CONSENT_NOT_NEEDED = frozenset({"safeguarding"})


def view_of(definition: FormDefinition, body: Mapping[str, Any]) -> VisitView:
    """A visit revision's body evaluated exactly as the field node evaluates it."""
    visit, resident = body["visit"], body["resident"]
    return VisitView(
        definition,
        body["answers"],
        setting=visit["setting"],
        age=age_on(_date(resident["date_of_birth"]), _date(visit["visit_date"])),
        referral_source=visit["referral_source"],
        visit_kind=visit.get("kind", "first"),
    )


def _date(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def flags_of(outcomes: Outcomes, visit: Mapping[str, Any]) -> list[str]:
    """The flags a revision's answers raise by themselves (``no_consent`` is added when its
    referrals are made, once it is known which are not already open)."""
    found = outcomes.by_output()
    flags = []
    if "safeguarding" in found:
        flags.append("safeguarding")
    if visit["referral_source"] == "hospital_discharge":
        flags.append("hospital_discharge")
    if "home_visit_suggested" in found:
        flags.append("home_visit_suggested")
    return flags


@dataclass
class Ingested:
    """One new revision of a visit, evaluated, waiting for its referrals to be written."""

    visit_id: uuid.UUID
    resident_id: uuid.UUID
    user_id: uuid.UUID
    district: str
    revision: int
    kind: str
    outcomes: Outcomes
    consents: dict[str, str]
    flags: list[str] = field(default_factory=list)
    # The answers as the rules see them (for the equipment orders' checks).
    values: dict[str, Any] = field(default_factory=dict)
    # Items ordered by a trusted assessor, in words, by the provider queue they go to.
    ordered: dict[str, list[str]] = field(default_factory=dict)

    @property
    def priority(self) -> str:
        return "urgent" if URGENT_FLAGS & set(self.flags) else "standard"


def ingest(
    visit_id: uuid.UUID,
    user_id: uuid.UUID,
    definition: FormDefinition,
    body: Mapping[str, Any],
) -> Ingested:
    view = view_of(definition, body)
    visit, consents = body["visit"], dict(body["consents"])
    return Ingested(
        visit_id=visit_id,
        resident_id=uuid.UUID(str(body["resident"]["id"])),
        user_id=user_id,
        district=body["resident"]["district"],
        revision=0,
        kind=visit.get("kind", "first"),
        outcomes=view.outcomes,
        consents=consents,
        flags=flags_of(view.outcomes, visit),
        values=view.values,
    )


def plan_proposals(items: Iterable[Ingested], now: datetime) -> list[dict]:
    """The referral rows of each visit's new revision, replacing its unissued ones.

    Deletes the visits' unissued referrals and reads every referral of the residents
    concerned once, so a batch of visits costs a delete and a query, not a query per visit.
    Adds the ``no_consent`` flag to a visit that makes an information-only referral. The
    caller writes the visits, then the rows (``insert_proposals``).
    """
    items = list(items)
    if not items:
        return []
    visit_ids = {item.visit_id for item in items}
    db.session.execute(
        delete(Referral).where(
            Referral.visit_id.in_(visit_ids),
            Referral.status.in_(("proposed", "information")),
        )
    )
    existing: dict[tuple[uuid.UUID, str], list[_Known]] = {}
    known = db.session.execute(
        select(
            Referral.resident_id,
            Referral.service,
            Referral.visit_id,
            Referral.status,
            Referral.reasons,
        )
        .where(Referral.resident_id.in_({item.resident_id for item in items}))
        .order_by(Referral.proposed_at)
    )
    for resident_id, service, visit_id, status, reasons in known:
        existing.setdefault((resident_id, service), []).append(_Known(visit_id, status, reasons))
    rows: list[dict] = []
    for item in items:
        made = _rows_for(item, existing, now)
        if any(
            row["kind"] == "referral"
            and row["status"] == "information"
            and row["service"] not in CONSENT_NOT_NEEDED
            for row in made
        ):
            item.flags = _with_flag(item.flags, "no_consent")
        rows.extend(made)
    return rows


def insert_proposals(rows: list[dict]) -> None:
    # One executemany, not the ORM's bulk path: a visit makes a dozen rows, none loaded back.
    insert_many(Referral.__table__, rows)


def _with_flag(flags: list[str], flag: str) -> list[str]:
    order = list(FLAG_LABELS)
    return sorted({*flags, flag}, key=order.index)


@dataclass(frozen=True)
class _Known:
    """A referral the duplicate check needs to see: stored, or made earlier in this batch."""

    visit_id: uuid.UUID
    status: str
    reasons: list[str]


def _rows_for(item: Ingested, existing: dict, now: datetime) -> list[dict]:
    rows, priority = [], item.priority
    findings = [(f, "referral") for f in item.outcomes.referrals]
    findings += [(f, "signpost") for f in item.outcomes.signposts]
    for finding, kind in findings:
        service = finding.output.id
        consent = item.consents.get(service) if kind == "referral" else None
        others = _from_other_visits(item, service, existing)
        if kind == "referral":
            if any(r.status in OPEN_REFERRAL_STATUSES for r in others):
                continue  # one open referral per resident and service: never a second
            if item.kind == "follow_up" and _already_done(others, finding.reasons):
                continue  # the final visit raises new needs, not the ones already met
        status = "proposed" if kind == "referral" and consent == "yes" else "information"
        row = {
            "id": uuid.uuid4(),
            "visit_id": item.visit_id,
            "resident_id": item.resident_id,
            "user_id": item.user_id,
            "district": item.district,
            "revision": item.revision,
            "kind": kind,
            "service": service,
            "provider_service": finding.output.provider_service,
            "reasons": list(finding.reasons),
            "rules": list(finding.rules),
            "consent": consent,
            "priority": priority,
            "status": status,
            "proposed_at": now,
            "decline_reason": "",
            "updated_at": now,
        }
        rows.append(row)
        existing.setdefault((item.resident_id, service), []).append(
            _Known(row["visit_id"], row["status"], row["reasons"])
        )
    _add_orders(item, rows, existing, now, priority)
    return rows


def _add_orders(
    item: Ingested, rows: list[dict], existing: dict, now: datetime, priority: str
) -> None:
    """Equipment goes to a provider as part of that service's referral: say what is ordered
    in the referral's reasons, and propose the referral if the rules did not."""
    for service, items in item.ordered.items():
        reason = "Equipment ordered by the trusted assessor: " + ", ".join(items)
        row = next((r for r in rows if r["kind"] == "referral" and r["service"] == service), None)
        if row is not None:
            row["reasons"] = [*row["reasons"], reason]
            continue
        others = _from_other_visits(item, service, existing)
        if any(r.status in OPEN_REFERRAL_STATUSES for r in others):
            continue  # the open referral to this service carries them
        consent = item.consents.get(service)
        rows.append(
            {
                "id": uuid.uuid4(),
                "visit_id": item.visit_id,
                "resident_id": item.resident_id,
                "user_id": item.user_id,
                "district": item.district,
                "revision": item.revision,
                "kind": "referral",
                "service": service,
                "provider_service": True,
                "reasons": [reason],
                "rules": ["EQUIPMENT_ORDER"],
                "consent": consent,
                "priority": priority,
                "status": "proposed" if consent == "yes" else "information",
                "proposed_at": now,
                "decline_reason": "",
                "updated_at": now,
            }
        )


def _from_other_visits(item: Ingested, service: str, existing: dict) -> list[_Known]:
    """The resident's referrals to ``service`` from visits other than this one."""
    return [r for r in existing.get((item.resident_id, service), []) if r.visit_id != item.visit_id]


def _already_done(others: list, reasons: tuple[str, ...]) -> bool:
    done = [r for r in others if r.status == "completed"]
    return bool(done) and set(done[-1].reasons) == set(reasons)
