"""The field node's residents: each with their visits and where their referrals have got to,
and the follow-up visit that checks the works are done.

A follow-up starts from the resident's last completed visit with its answers (nothing known
is typed again) and its finished sections still finished, except those holding questions
asked only on a follow-up (the after-works rating), which are left in progress. Consent to
share is never copied: it is asked again for each referral.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import defer

from app.db import write_transaction
from app.extensions import db
from app.formengine import FormDefinition, VisitView
from app.formengine.evaluation import HIDDEN, SHOWN, age_on
from app.models import HscProfile, ReferralStatus, Resident, Visit
from app.queries import _audit
from sync.referral_status import OPEN_STATUSES

FOLLOW_UP = "follow_up"


class FollowUpRefused(Exception):
    """A follow-up cannot start from this visit; ``str(error)`` says why, for the HSC."""


class FollowUpInProgress(FollowUpRefused):
    """The resident already has a visit in progress: carry on with that one instead."""

    def __init__(self, visit: Visit) -> None:
        super().__init__("A visit with this resident is already in progress")
        self.visit = visit


@dataclass(frozen=True)
class ResidentRecord:
    """One resident as the HSC sees them: their visits, newest first, and referrals."""

    resident: Resident
    visits: list[Visit]
    referrals: list[ReferralStatus]

    @property
    def last_visit(self) -> Visit:
        return self.visits[0]

    @property
    def last_completed(self) -> Visit | None:
        return next((v for v in self.visits if v.status == "completed"), None)

    @property
    def in_progress(self) -> Visit | None:
        return next((v for v in self.visits if v.status == "draft"), None)


def _visits_of(hsc_id: uuid.UUID):
    # Newest first; the lists show who and when, so the answers are not loaded.
    return (
        select(Visit)
        .where(Visit.hsc_id == hsc_id)
        .options(defer(Visit.answers), defer(Visit.progress), defer(Visit.consents))
        .order_by(Visit.visit_date.desc(), Visit.created_at.desc())
    )


def _records(visits: list[Visit], referrals: list[ReferralStatus]) -> list[ResidentRecord]:
    by_resident: dict[uuid.UUID, list[Visit]] = {}
    for visit in visits:
        by_resident.setdefault(visit.resident_id, []).append(visit)
    statuses: dict[uuid.UUID, list[ReferralStatus]] = {}
    for referral in referrals:
        statuses.setdefault(referral.resident_id, []).append(referral)
    return [
        ResidentRecord(group[0].resident, group, statuses.get(resident_id, []))
        for resident_id, group in by_resident.items()
    ]


def _referrals_where(*where) -> list[ReferralStatus]:
    return list(
        db.session.scalars(
            select(ReferralStatus)
            .where(*where)
            .order_by(ReferralStatus.issued_at, ReferralStatus.name)
        )
    )


def list_residents(hsc_id: uuid.UUID) -> list[ResidentRecord]:
    """This HSC's residents, most recently visited first: two queries, however many."""
    visits = list(db.session.scalars(_visits_of(hsc_id)))
    mine = select(Visit.resident_id).where(Visit.hsc_id == hsc_id)
    return _records(visits, _referrals_where(ReferralStatus.resident_id.in_(mine)))


def get_resident(hsc_id: uuid.UUID, resident_id: uuid.UUID) -> ResidentRecord | None:
    """The resident if this HSC has visited them; anyone else's is as good as missing."""
    visits = list(db.session.scalars(_visits_of(hsc_id).where(Visit.resident_id == resident_id)))
    if not visits:
        return None
    [record] = _records(visits, _referrals_where(ReferralStatus.resident_id == resident_id))
    return record


def open_referrals(resident_id: uuid.UUID) -> dict[str, ReferralStatus]:
    """The resident's referrals still with a provider (issued or accepted), by service."""
    return {
        referral.service: referral
        for referral in _referrals_where(
            ReferralStatus.resident_id == resident_id,
            ReferralStatus.status.in_(OPEN_STATUSES),
        )
    }


def _follow_up_only(view_first: VisitView, view_follow_up: VisitView) -> set[str]:
    """Questions a follow-up asks that a first visit does not (the after-works questions)."""
    return {
        question.id
        for question in view_first.definition.questions.values()
        if view_first.state(question) == HIDDEN and view_follow_up.state(question) == SHOWN
    }


def _carried_over(
    definition: FormDefinition, previous: Visit, visit_date: date, setting: str
) -> tuple[dict, dict]:
    """The answers and section progress a follow-up starts with."""
    age = age_on(previous.resident.date_of_birth, visit_date)

    def view(answers: dict, kind: str) -> VisitView:
        return VisitView(
            definition,
            answers,
            setting=setting,
            age=age,
            referral_source=previous.referral_source,
            visit_kind=kind,
        )

    answers = dict(previous.answers)
    asked_again = _follow_up_only(view(answers, "first"), view(answers, FOLLOW_UP))
    for question_id in asked_again:  # a second follow-up asks them afresh too
        answers.pop(question_id, None)
    follow_up = view(answers, FOLLOW_UP)
    progress = {}
    for section in definition.sections:
        before = previous.progress.get(section.id) or {}
        rev = int(before.get("rev", 0))
        reopened = any(q.id in asked_again for q in section.questions)
        done = bool(before.get("completed")) and not follow_up.missing(section)
        if done and not reopened:
            progress[section.id] = {"rev": rev, "completed": True}
        elif rev or reopened:
            progress[section.id] = {"rev": max(rev, 1), "completed": False}
    return answers, progress


def start_follow_up(
    hsc: HscProfile, previous_visit_id: uuid.UUID, visit_date: date, setting: str
) -> Visit:
    """Start the final visit for a resident from their completed visit, prefilled."""
    with write_transaction():
        previous = db.session.scalar(
            select(Visit).where(Visit.id == previous_visit_id, Visit.hsc_id == hsc.id)
        )
        if previous is None:
            raise LookupError(previous_visit_id)
        if previous.status != "completed":
            raise FollowUpRefused("A follow-up visit can start only from a completed visit")
        in_progress = db.session.scalar(
            select(Visit).where(
                Visit.hsc_id == hsc.id,
                Visit.resident_id == previous.resident_id,
                Visit.status == "draft",
            )
        )
        if in_progress is not None:
            raise FollowUpInProgress(in_progress)
        definition = current_app.extensions["forms"].latest(previous.form_id)
        answers, progress = _carried_over(definition, previous, visit_date, setting)
        visit = Visit(
            resident_id=previous.resident_id,
            hsc_id=hsc.id,
            setting=setting,
            kind=FOLLOW_UP,
            previous_visit_id=previous.id,
            referral_source=previous.referral_source,
            first_contact_date=previous.first_contact_date,
            visit_date=visit_date,
            form_id=definition.key[0],
            form_version=definition.key[1],
            answers=answers,
            progress=progress,
            consents={},
        )
        db.session.add(visit)
        db.session.flush()
        _audit(hsc.id, "follow_up_started", visit, note=f"from visit {previous.id}")
    return visit
