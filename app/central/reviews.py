"""Team-leader review: the queue, one visit with its history, and the two decisions.

A team leader sees only visits from their own districts; anything else is as good as
missing (the views answer 404). A decision is pinned to the revision hash the team leader
was shown: if a newer revision arrived in the meantime, it is refused and says why.
Approving issues the visit's proposed referrals and equipment orders; returning sends the
visit back to the HSC's device, editable, with the comment. Both are audited and reach the
device by pull.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import lazyload

from app.central.accounts.audit import audit
from app.central.order_issue import issue_orders
from app.db import write_transaction
from app.extensions import db
from app.formengine import FormDefinition
from app.formengine.formatting import format_answer
from app.models import CentralVisit, Referral, Review, User, VisitRevision
from app.models.central import OPEN_REFERRAL_STATUSES
from app.models.field import utcnow
from sync import server

QUEUE_PAGE_SIZE = 50
COMMENT_LIMIT = 2000


class ReviewRefused(Exception):
    """The decision cannot be made; ``str(error)`` says why, for the team leader."""


@dataclass(frozen=True)
class QueuePage:
    visits: list[CentralVisit]
    total: int
    page: int
    pages: int


def _in_districts(districts: Iterable[str]):
    return CentralVisit.district.in_(list(districts))


def review_queue(viewer: User, page: int = 1) -> QueuePage:
    """Visits from the viewer's districts awaiting review, oldest first."""
    where = (_in_districts(viewer.district_names), CentralVisit.status == "received")
    total = db.session.scalar(select(func.count()).select_from(CentralVisit).where(*where)) or 0
    pages = max(1, -(-total // QUEUE_PAGE_SIZE))
    page = min(max(page, 1), pages)
    # The page's ids come from the queue index alone; only those 50 visits are then loaded
    # with their HSC and resident, however deep the page.
    ids = (
        select(CentralVisit.id)
        .where(*where)
        .order_by(CentralVisit.received_at, CentralVisit.id)
        .limit(QUEUE_PAGE_SIZE)
        .offset((page - 1) * QUEUE_PAGE_SIZE)
    )
    visits = db.session.scalars(
        select(CentralVisit)
        .where(CentralVisit.id.in_(ids.scalar_subquery()))
        .order_by(CentralVisit.received_at, CentralVisit.id)
    ).all()
    return QueuePage(list(visits), total, page, pages)


def get_visit_for(viewer: User, visit_id: uuid.UUID) -> CentralVisit | None:
    """The visit if it is in one of the viewer's districts; otherwise None, as if missing."""
    return db.session.scalar(
        select(CentralVisit).where(
            CentralVisit.id == visit_id, _in_districts(viewer.district_names)
        )
    )


def record_view(viewer: User, visit: CentralVisit) -> None:
    """Every read of a resident's record on central is audited."""
    with write_transaction():
        audit(viewer.id, "visit_viewed", visit, note=f"revision {visit.revision}")


def revisions_of(visit: CentralVisit) -> list[VisitRevision]:
    return list(
        db.session.scalars(
            select(VisitRevision)
            .where(VisitRevision.visit_id == visit.id)
            .order_by(VisitRevision.revision)
        )
    )


def reviews_of(visit: CentralVisit) -> list[Review]:
    return list(
        db.session.scalars(select(Review).where(Review.visit_id == visit.id).order_by(Review.id))
    )


def referrals_of(visit: CentralVisit) -> list[Referral]:
    return list(
        db.session.scalars(
            select(Referral)
            .where(Referral.visit_id == visit.id, Referral.status != "cancelled")
            .order_by(Referral.kind, Referral.service)
            .options(lazyload(Referral.visit), lazyload(Referral.resident))
        )
    )


def open_elsewhere(visit: CentralVisit) -> list[Referral]:
    """The resident's open referrals from other visits (why a service may not be proposed)."""
    return list(
        db.session.scalars(
            select(Referral)
            .where(
                Referral.resident_id == visit.resident_id,
                Referral.visit_id != visit.id,
                Referral.status.in_(OPEN_REFERRAL_STATUSES),
            )
            .options(lazyload(Referral.visit), lazyload(Referral.resident))
        )
    )


def definition_of(visit: CentralVisit) -> FormDefinition:
    definition = current_app.extensions["forms"].get(visit.form_id, visit.form_version)
    if definition is None:
        raise LookupError(f"form {visit.form_id} v{visit.form_version} is not installed")
    return definition


@dataclass(frozen=True)
class Difference:
    label: str
    before: str
    after: str


def differences(
    definition: FormDefinition, before: Mapping[str, Any], after: Mapping[str, Any]
) -> list[Difference]:
    """What changed between two revision bodies, in the form's own words."""
    found: list[Difference] = []
    for part, label in (("visit", "Visit"), ("resident", "Resident")):
        old, new = before.get(part, {}), after.get(part, {})
        for key in sorted(set(old) | set(new)):
            if old.get(key) != new.get(key) and key not in ("completed_at",):
                name = f"{label}: {key.replace('_', ' ')}"
                found.append(Difference(name, _plain(old.get(key)), _plain(new.get(key))))
    old, new = before.get("answers", {}), after.get("answers", {})
    for question in definition.questions.values():
        if old.get(question.id) == new.get(question.id):
            continue

        def shown(value: Any, question=question) -> str:
            return "Not answered" if value in (None, "", []) else format_answer(question, value)

        found.append(
            Difference(question.label, shown(old.get(question.id)), shown(new.get(question.id)))
        )
    old, new = before.get("consents", {}), after.get("consents", {})
    for key in sorted(set(old) | set(new)):
        if old.get(key) != new.get(key):
            output = definition.outputs.get(key)
            name = f"Consent to share: {output.name if output else key}"
            found.append(Difference(name, _plain(old.get(key)), _plain(new.get(key))))
    return found


def _plain(value: Any) -> str:
    return "Not given" if value in (None, "") else str(value)


def decision_target(viewer: User, visit_id: uuid.UUID, revision_sha256: str) -> CentralVisit:
    visit = db.session.scalar(
        select(CentralVisit)
        .where(CentralVisit.id == visit_id, _in_districts(viewer.district_names))
        .with_for_update()
    )
    if visit is None:
        raise LookupError(visit_id)
    if visit.sha256 != revision_sha256:
        raise ReviewRefused(
            f"A newer revision of this visit (revision {visit.revision}) arrived after you "
            "opened it. Check the changes, then decide again."
        )
    if visit.status == "processing":
        raise ReviewRefused(
            "This revision's referrals are still being worked out. Wait a moment, then decide."
        )
    if visit.status != "received":
        raise ReviewRefused(f"This visit has already been {visit.status}.")
    return visit


def _record_decision(
    viewer: User, visit: CentralVisit, decision: str, now: datetime, comment: str = ""
) -> None:
    """The visit's new status and the ``Review`` pinned to the revision decided on."""
    visit.status, visit.updated_at = decision, now
    db.session.add(
        Review(
            visit_id=visit.id,
            revision=visit.revision,
            sha256=visit.sha256,
            reviewer_id=viewer.id,
            decision=decision,
            comment=comment,
            at=now,
        )
    )


def approve_visit(
    viewer: User, visit_id: uuid.UUID, revision_sha256: str, now: datetime | None = None
) -> list[Referral]:
    """Approve the revision shown and issue its proposed referrals and equipment orders."""
    now = now or utcnow()
    with write_transaction():
        visit = decision_target(viewer, visit_id, revision_sha256)
        visit.approved_at = now
        _record_decision(viewer, visit, "approved", now)
        issued = list(
            db.session.scalars(
                select(Referral).where(Referral.visit_id == visit.id, Referral.status == "proposed")
            )
        )
        for referral in issued:
            referral.status, referral.issued_at, referral.updated_at = "issued", now, now
        audit(viewer.id, "visit_approved", visit, note=f"revision {visit.revision}")
        server.log_change(
            visit.user_id,
            "visit.approved",
            visit.id,
            {"revision": visit.revision, "sha256": visit.sha256, "approved_at": server.iso(now)},
        )
        definition = definition_of(visit)
        for referral in issued:
            audit(viewer.id, "referral_issued", referral, note=referral.service)
            log_referral_change(referral, definition)
        # With the referrals issued, the visit's equipment goes with them.
        issue_orders(viewer, visit, now)
    return issued


def return_visit(
    viewer: User,
    visit_id: uuid.UUID,
    revision_sha256: str,
    comment: str,
    now: datetime | None = None,
) -> None:
    """Send the visit back to the HSC's device, editable, with the comment."""
    comment = comment.strip()
    if not comment:
        raise ReviewRefused("Enter a comment that tells the HSC what to change.")
    if len(comment) > COMMENT_LIMIT:
        raise ReviewRefused(f"The comment must be {COMMENT_LIMIT:,} characters or fewer.")
    now = now or utcnow()
    with write_transaction():
        visit = decision_target(viewer, visit_id, revision_sha256)
        _record_decision(viewer, visit, "returned", now, comment)
        audit(viewer.id, "visit_returned", visit, note=f"revision {visit.revision}")
        server.log_change(
            visit.user_id,
            "visit.returned",
            visit.id,
            {"revision": visit.revision, "comment": comment, "returned_at": server.iso(now)},
        )


def log_referral_change(referral: Referral, definition: FormDefinition | None = None) -> int:
    """Tell the HSC's devices where the referral has got to (pulled as ``referral.status``)."""
    if definition is None:
        definition = definition_of(referral.visit)
    output = definition.outputs.get(referral.service)
    return server.log_change(
        referral.user_id,
        "referral.status",
        referral.id,
        {
            "visit_id": str(referral.visit_id),
            "resident_id": str(referral.resident_id),
            "service": referral.service,
            "name": output.name if output else referral.service,
            "status": referral.status,
            "consent": referral.consent,
            "issued_at": server.iso(referral.issued_at) if referral.issued_at else None,
            "completed_on": referral.completed_on.isoformat() if referral.completed_on else None,
            "decline_reason": referral.decline_reason,
        },
    )
