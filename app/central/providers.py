"""Providers on central: their service's issued referrals, and what they report back.

A provider sees a referral only once a team leader has issued it, only if it is to their own
service and only with the resident's consent to share; anything else (proposed, information
only, cancelled, another service's) is as good as missing, and the views answer 404. They
see the resident's name, address and phone, the reasons, the priority and the answers the
form says that service needs (``shares``): never the rest of the visit.

Reporting back is a small state machine: issued → accepted, issued or accepted → completed
(with the date the work was done) or declined (with a reason). A step that is not allowed
raises ``ReferralRefused`` and changes nothing. Each change is stamped with server time,
audited and put in the HSC's change log in the same transaction, so the HSC's device learns
of it on its next pull. Every read of a referral (the sheet, the CSV export) is audited.
The equipment a referral carries is reported item by item (``app.central.order_delivery``).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from flask import current_app
from sqlalchemy import case, func, select

from app.central.accounts.audit import audit
from app.central.order_display import items_in_words, items_of
from app.central.reviews import log_referral_change
from app.db import write_transaction
from app.extensions import db
from app.formengine.formatting import format_answer, format_date
from app.models import Referral, User, VisitRevision
from app.models.field import utcnow

PAGE_SIZE = 50
RECENTLY_CLOSED = 20
DECLINE_REASON_LIMIT = 1000
OPEN_STATUSES = ("issued", "accepted")
CLOSED_STATUSES = ("completed", "declined")
# What each report needs the referral to be first.
ALLOWED_FROM = {
    "accepted": ("issued",),
    "completed": ("issued", "accepted"),
    "declined": ("issued", "accepted"),
}
DONE = {"accepted": "accepted", "completed": "marked as completed", "declined": "declined"}
CSV_HEADER = (
    "Reference",
    "Referral id",
    "Priority",
    "Status",
    "Issued",
    "Accepted",
    "Given name",
    "Family name",
    "Address line 1",
    "Address line 2",
    "Town",
    "Postcode",
    "Phone",
    "Reasons",
    "Items",
)
# A spreadsheet reads a cell starting with one of these as a formula (OWASP CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class ReferralRefused(Exception):
    """The report cannot be made; ``str(error)`` says why. ``field`` names the form field at
    fault, or is None when the referral itself is not in a state to take the report."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class ReferralPage:
    referrals: list[Referral]
    total: int
    page: int
    pages: int


def their_referrals(provider: User) -> tuple:
    """Where-clauses for the referrals a provider may see at all."""
    return (
        Referral.kind == "referral",
        Referral.provider_service.is_(True),
        Referral.service == provider.provider_service,
        Referral.consent == "yes",
        Referral.status.in_(OPEN_STATUSES + CLOSED_STATUSES),
    )


def reference_of(referral: Referral) -> str:
    """A short reference to read out on the phone or write on a job sheet."""
    return referral.id.hex[:8].upper()


def list_open_referrals(provider: User, page: int = 1) -> ReferralPage:
    """Issued and accepted referrals to the provider's service: urgent first, then oldest."""
    where = (*their_referrals(provider), Referral.status.in_(OPEN_STATUSES))
    total = db.session.scalar(select(func.count()).select_from(Referral).where(*where)) or 0
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(page, 1), pages)
    referrals = db.session.scalars(
        select(Referral)
        .where(*where)
        .order_by(
            case((Referral.priority == "urgent", 0), else_=1),
            Referral.issued_at,
            Referral.id,
        )
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    ).all()
    return ReferralPage(list(referrals), total, page, pages)


def list_closed_referrals(provider: User, limit: int = RECENTLY_CLOSED) -> list[Referral]:
    """The provider's most recently completed or declined referrals, newest first."""
    return list(
        db.session.scalars(
            select(Referral)
            .where(*their_referrals(provider), Referral.status.in_(CLOSED_STATUSES))
            .order_by(Referral.updated_at.desc(), Referral.id)
            .limit(limit)
        )
    )


def get_referral_for(provider: User, referral_id: uuid.UUID) -> Referral | None:
    """The referral if the provider may see it; otherwise None, as if it did not exist."""
    return db.session.scalar(
        select(Referral).where(Referral.id == referral_id, *their_referrals(provider))
    )


def get_referrer(referral: Referral) -> User | None:
    """The HSC who made the referral, for the provider to contact about the job."""
    return db.session.get(User, referral.user_id)


def record_referral_view(provider: User, referral: Referral) -> None:
    """Every read of a resident's record on central is audited."""
    with write_transaction():
        audit(provider.id, "referral_viewed", referral, note=referral.service)


@dataclass(frozen=True)
class SharedAnswer:
    question_id: str
    label: str
    answer: str


def list_shared_answers(referral: Referral) -> list[SharedAnswer]:
    """The answers the form shares with the referral's service, from the revision it was
    made from, in the form's own words. Unanswered questions are left out."""
    body = db.session.scalar(
        select(VisitRevision.body).where(
            VisitRevision.visit_id == referral.visit_id,
            VisitRevision.revision == referral.revision,
        )
    )
    if body is None:
        return []
    visit = body.get("visit", {})
    definition = current_app.extensions["forms"].get(
        visit.get("form_id", referral.visit.form_id),
        visit.get("form_version", referral.visit.form_version),
    )
    output = definition.outputs.get(referral.service) if definition else None
    if output is None:
        return []
    answers: dict[str, Any] = body.get("answers", {})
    shared = []
    for question_id in output.shares:
        value = answers.get(question_id)
        if value in (None, "", []):
            continue
        question = definition.questions[question_id]
        shared.append(SharedAnswer(question_id, question.label, format_answer(question, value)))
    return shared


def lock_referral_for(provider: User, referral_id: uuid.UUID) -> Referral:
    """The provider's referral, locked for a report on it; LookupError if not theirs."""
    referral = db.session.scalar(
        select(Referral)
        .where(Referral.id == referral_id, *their_referrals(provider))
        .with_for_update()
    )
    if referral is None:
        raise LookupError(referral_id)
    return referral


def _target(provider: User, referral_id: uuid.UUID, status: str) -> Referral:
    referral = lock_referral_for(provider, referral_id)
    if referral.status not in ALLOWED_FROM[status]:
        if referral.status == status:
            raise ReferralRefused(f"This referral has already been {DONE[status]}.")
        raise ReferralRefused(
            f"This referral has been {DONE[referral.status]}, so it cannot be {DONE[status]}."
        )
    return referral


def _report(provider: User, referral: Referral, action: str, note: str) -> None:
    audit(provider.id, action, referral, note=note)
    log_referral_change(referral)


def accept_referral(
    provider: User, referral_id: uuid.UUID, now: datetime | None = None
) -> Referral:
    now = now or utcnow()
    with write_transaction():
        referral = _target(provider, referral_id, "accepted")
        referral.status, referral.accepted_at, referral.updated_at = "accepted", now, now
        _report(provider, referral, "referral_accepted", referral.service)
    return referral


def check_completion_date(referral: Referral, completed_on: date | None, today: date) -> None:
    if completed_on is None:
        raise ReferralRefused("Enter the date the work was completed", "completed_on")
    if completed_on > today:
        raise ReferralRefused("Date of completion must be today or in the past", "completed_on")
    issued_on = referral.issued_at.date() if referral.issued_at else None
    if issued_on and completed_on < issued_on:
        raise ReferralRefused(
            "Date of completion must be on or after the date the referral was issued, "
            f"{format_date(issued_on)}",
            "completed_on",
        )


def complete_referral(
    provider: User,
    referral_id: uuid.UUID,
    completed_on: date | None,
    now: datetime | None = None,
    today: date | None = None,
) -> Referral:
    """Record that the work was done on ``completed_on`` (the date the provider gives)."""
    now = now or utcnow()
    with write_transaction():
        referral = _target(provider, referral_id, "completed")
        check_completion_date(referral, completed_on, today or date.today())
        referral.status, referral.completed_on = "completed", completed_on
        referral.completed_at = referral.updated_at = now
        _report(provider, referral, "referral_completed", f"completed on {completed_on}")
    return referral


def clean_decline_reason(reason: str | None) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ReferralRefused("Enter the reason for declining the referral", "reason")
    if len(reason) > DECLINE_REASON_LIMIT:
        raise ReferralRefused(
            f"Reason for declining must be {DECLINE_REASON_LIMIT:,} characters or fewer", "reason"
        )
    return reason


def decline_referral(
    provider: User, referral_id: uuid.UUID, reason: str, now: datetime | None = None
) -> Referral:
    """Decline the referral; the reason goes back to the HSC."""
    reason = clean_decline_reason(reason)
    now = now or utcnow()
    with write_transaction():
        referral = _target(provider, referral_id, "declined")
        referral.status, referral.decline_reason = "declined", reason
        referral.declined_at = referral.updated_at = now
        _report(provider, referral, "referral_declined", referral.service)
    return referral


def neutralise_cell(value: Any) -> str:
    """The cell as text a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def _day(moment: datetime | None) -> str:
    return moment.date().isoformat() if moment else ""


def export_open_referrals(provider: User) -> list[Sequence[str]]:
    """Every open referral to the provider's service as CSV rows (header first), in queue
    order. Exporting is a read of each resident's record, so each is audited."""
    with write_transaction():
        referrals = db.session.scalars(
            select(Referral)
            .where(*their_referrals(provider), Referral.status.in_(OPEN_STATUSES))
            .order_by(
                case((Referral.priority == "urgent", 0), else_=1),
                Referral.issued_at,
                Referral.id,
            )
        ).all()
        rows: list[Sequence[str]] = [CSV_HEADER]
        items = items_of(referrals)
        for referral in referrals:
            resident = referral.resident
            row = (
                reference_of(referral),
                str(referral.id),
                referral.priority,
                referral.status,
                _day(referral.issued_at),
                _day(referral.accepted_at),
                resident.given_name,
                resident.family_name,
                resident.address_line_1,
                resident.address_line_2,
                resident.town,
                resident.postcode,
                resident.phone,
                "; ".join(referral.reasons),
                items_in_words(items[referral.id]),
            )
            rows.append([neutralise_cell(value) for value in row])
            audit(provider.id, "referral_exported", referral, note=referral.service)
    return rows
