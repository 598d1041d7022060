"""Every query and every write of the field node, named ``<verb>_<entity>``.

Views call these and never touch the session's commit: each write function runs as one
transaction (``write_transaction``), so a Continue is on disk before the next page shows.
Edits are checked against the revision the page was rendered from: a page left open in a
second tab cannot silently overwrite what the first tab saved.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import defer

from app.db import write_transaction
from app.extensions import db
from app.models import AuditEvent, HscProfile, OutboxEntry, Resident, Visit
from app.models.field import utcnow
from app.orders import recheck_orders
from sync import faults
from sync.device import queue_visit

RECENT_COMPLETED_LIMIT = 50


class StaleEdit(Exception):
    """The record changed since the page was shown (another tab or window saved first)."""


class VisitLocked(Exception):
    """The visit is completed: it can be changed again only if a team leader returns it."""


@dataclass(frozen=True)
class VisitLists:
    drafts: list[Visit]
    completed: list[Visit]
    completed_total: int


def _audit(actor_id: uuid.UUID | None, action: str, record: Any, note: str = "") -> None:
    db.session.add(
        AuditEvent(
            actor_id=actor_id,
            action=action,
            record_type=record.__tablename__,
            record_id=str(record.id),
            note=note,
        )
    )


# Profiles -----------------------------------------------------------------------------


def get_profile_by_email(email: str) -> HscProfile | None:
    return db.session.scalar(
        select(HscProfile).where(func.lower(HscProfile.email) == email.strip().lower())
    )


def create_profile(name: str, email: str, passphrase_hash: str) -> HscProfile:
    with write_transaction():
        profile = HscProfile(
            name=name, email=email.strip().lower(), passphrase_hash=passphrase_hash
        )
        db.session.add(profile)
        db.session.flush()
        _audit(profile.id, "profile_created", profile)
    return profile


def record_sign_in(profile: HscProfile) -> None:
    with write_transaction():
        _audit(profile.id, "signed_in", profile)


# Visits -------------------------------------------------------------------------------


def list_visits(hsc_id: uuid.UUID) -> VisitLists:
    # The lists show who and when, so the answers are not loaded (nor parsed from JSON).
    base = (
        select(Visit)
        .where(Visit.hsc_id == hsc_id)
        .options(defer(Visit.answers), defer(Visit.progress), defer(Visit.consents))
    )
    drafts = db.session.scalars(
        base.where(Visit.status == "draft").order_by(Visit.updated_at.desc())
    ).all()
    completed = db.session.scalars(
        base.where(Visit.status != "draft")
        .order_by(Visit.updated_at.desc())
        .limit(RECENT_COMPLETED_LIMIT)
    ).all()
    total = db.session.scalar(
        select(func.count())
        .select_from(Visit)
        .where(Visit.hsc_id == hsc_id, Visit.status != "draft")
    )
    return VisitLists(list(drafts), list(completed), total or 0)


def get_visit(hsc_id: uuid.UUID, visit_id: uuid.UUID) -> Visit | None:
    """The visit if it belongs to this HSC; another HSC's visit is as good as missing."""
    return db.session.scalar(select(Visit).where(Visit.id == visit_id, Visit.hsc_id == hsc_id))


def _locked_visit(hsc_id: uuid.UUID, visit_id: uuid.UUID) -> Visit:
    visit = get_visit(hsc_id, visit_id)
    if visit is None:
        raise LookupError(visit_id)
    if visit.is_locked:
        raise VisitLocked(visit_id)
    return visit


def start_visit(
    hsc: HscProfile,
    resident_fields: Mapping[str, Any],
    visit_fields: Mapping[str, Any],
    form: tuple[str, int],
) -> Visit:
    with write_transaction():
        resident = Resident(created_by=hsc.id, **resident_fields)
        db.session.add(resident)
        db.session.flush()
        visit = Visit(
            resident_id=resident.id,
            hsc_id=hsc.id,
            form_id=form[0],
            form_version=form[1],
            answers={},
            progress={},
            consents={},
            **visit_fields,
        )
        db.session.add(visit)
        db.session.flush()
        _audit(hsc.id, "resident_created", resident)
        _audit(hsc.id, "visit_started", visit)
    return visit


def update_visit_details(
    hsc_id: uuid.UUID,
    visit_id: uuid.UUID,
    rev: int,
    resident_fields: Mapping[str, Any],
    visit_fields: Mapping[str, Any],
) -> Visit:
    with write_transaction():
        visit = _locked_visit(hsc_id, visit_id)
        if visit.details_rev != rev:
            raise StaleEdit(visit_id)
        for name, value in resident_fields.items():
            setattr(visit.resident, name, value)
        for name, value in visit_fields.items():
            setattr(visit, name, value)
        visit.details_rev += 1
        visit.updated_at = utcnow()
        _audit(hsc_id, "visit_details_changed", visit)
        _audit(hsc_id, "resident_changed", visit.resident)
    return visit


def section_rev(visit: Visit, section_id: str) -> int:
    return int(visit.progress.get(section_id, {}).get("rev", 0))


def save_answers(
    hsc_id: uuid.UUID,
    visit_id: uuid.UUID,
    section_id: str,
    rev: int,
    answers: Mapping[str, Any],
    cleared: Iterable[str],
    resume_at: str,
) -> Visit:
    """Store one page's answers. ``cleared`` are optional questions left blank."""
    with write_transaction():
        visit = _locked_visit(hsc_id, visit_id)
        if section_rev(visit, section_id) != rev:
            raise StaleEdit(visit_id)
        merged = dict(visit.answers)
        merged.update(answers)
        for question_id in cleared:
            merged.pop(question_id, None)
        progress = dict(visit.progress)
        entry = dict(progress.get(section_id, {}))
        entry["rev"] = rev + 1
        entry.setdefault("completed", False)
        progress[section_id] = entry
        visit.answers = merged
        visit.progress = progress
        visit.last_page = resume_at
        visit.updated_at = utcnow()
        _audit(hsc_id, "answers_saved", visit, note=section_id)
    return visit


def mark_section(
    hsc_id: uuid.UUID, visit_id: uuid.UUID, section_id: str, rev: int, completed: bool
) -> Visit:
    with write_transaction():
        visit = _locked_visit(hsc_id, visit_id)
        if section_rev(visit, section_id) != rev:
            raise StaleEdit(visit_id)
        progress = dict(visit.progress)
        progress[section_id] = {"rev": rev + 1, "completed": completed}
        visit.progress = progress
        visit.updated_at = utcnow()
        action = "section_completed" if completed else "section_left_incomplete"
        _audit(hsc_id, action, visit, note=section_id)
    return visit


SUMMARY_KEY = "_summary"


def save_consents(
    hsc_id: uuid.UUID,
    visit_id: uuid.UUID,
    rev: int,
    consents: Mapping[str, str],
    complete: bool,
) -> Visit:
    """Record consent to share per referral; with ``complete``, lock the visit too."""
    with write_transaction():
        visit = _locked_visit(hsc_id, visit_id)
        if section_rev(visit, SUMMARY_KEY) != rev:
            raise StaleEdit(visit_id)
        merged = dict(visit.consents)
        merged.update(consents)
        visit.consents = merged
        progress = dict(visit.progress)
        progress[SUMMARY_KEY] = {"rev": rev + 1}
        visit.progress = progress
        now = utcnow()
        visit.updated_at = now
        _audit(hsc_id, "consents_recorded", visit, note=",".join(sorted(consents)))
        if complete:
            # The answers may have changed since equipment was ordered: route it again.
            recheck_orders(visit)
            visit.status = "completed"
            visit.completed_at = now
            queue_visit(visit)  # the outbox entry commits with the completion, or neither does
            _audit(hsc_id, "visit_completed", visit)
            faults.at("complete_before_commit")
    return visit


def reopen_for_correction(hsc_id: uuid.UUID, visit_id: uuid.UUID) -> Visit:
    """Open a visit the office could not accept, so the HSC can correct it and send it again."""
    with write_transaction():
        visit = get_visit(hsc_id, visit_id)
        if visit is None:
            raise LookupError(visit_id)
        entry = db.session.scalar(
            select(OutboxEntry)
            .where(OutboxEntry.visit_id == visit.id)
            .order_by(OutboxEntry.seq.desc())
            .limit(1)
        )
        if (
            visit.status != "completed"
            or entry is None
            or entry.state
            not in (
                "quarantined",
                "conflict",
            )
        ):
            raise VisitLocked(visit_id)
        entry.state = "withdrawn"
        visit.status = "draft"
        visit.updated_at = utcnow()
        _audit(hsc_id, "visit_reopened_for_correction", visit, note=entry.problem.get("code", ""))
    return visit
