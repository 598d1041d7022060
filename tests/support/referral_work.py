"""Central casework for the provider tests: visits pushed and approved, referrals looked up,
providers signed in, reports made through the page or directly, and what a report changes."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import func, select

from app.central import providers, reviews
from app.extensions import db
from app.models import CentralAuditEvent, CentralVisit, ChangeLogEntry, Referral
from tests.support.accounts import PASSWORD
from tests.support.casework import Casework, story_body
from tests.support.pages import PageClient


def push(work: Casework, story: str = "case-story-2", **over) -> uuid.UUID:
    body = story_body(story, **over)
    assert work.push(body)[0]["status"] == "created"
    return uuid.UUID(body["visit"]["id"])


def approve(work: Casework, visit_id: uuid.UUID, now=None) -> None:
    with work.app.app_context():
        leader = db.session.merge(work.leader)
        visit = db.session.get(CentralVisit, visit_id)
        reviews.approve_visit(leader, visit_id, visit.sha256, now=now)


def issue(work: Casework, story: str = "case-story-2", now=None, **over) -> uuid.UUID:
    visit_id = push(work, story, **over)
    approve(work, visit_id, now)
    return visit_id


def referral_of(work: Casework, visit_id: uuid.UUID, service: str = "handyperson") -> Referral:
    with work.app.app_context():
        query = select(Referral).filter_by(visit_id=visit_id, service=service, kind="referral")
        return db.session.scalars(query).one()


def client_for(work: Casework, service: str = "handyperson") -> PageClient:
    client = PageClient(work.app.test_client(), sign_in_field="password")
    client.sign_in(work.providers[service].email, PASSWORD)
    return client


def csrf(client: PageClient) -> str:
    """A CSRF token from the signed-in header's sign-out form."""
    client.get("/start")
    return client.last_page.forms[0].hidden["csrf_token"]


def report(client: PageClient, referral_id, action: str, data: dict | None = None):
    """Fill in and send one of the report forms on the referral page, as a browser does."""
    url = f"/referrals/{referral_id}"
    client.get(url)
    forms = client.last_page.forms
    index = next(n for n, form in enumerate(forms) if form.action.endswith(f"/{action}"))
    return client.submit(url, data, form_index=index)


def day_parts(day: date) -> list[str]:
    return [str(day.day), str(day.month), str(day.year)]


def snapshot(work: Casework, referral_id) -> tuple:
    """Everything a report could change: the referral, its change log and audit trail."""
    with work.app.app_context():
        r = db.session.get(Referral, referral_id)
        changes = db.session.scalar(
            select(func.count()).where(ChangeLogEntry.record_id == str(referral_id))
        )
        audited = db.session.scalar(
            select(func.count()).where(
                CentralAuditEvent.record_id == str(referral_id),
                CentralAuditEvent.action != "referral_viewed",
            )
        )
        return (r.status, r.accepted_at, r.completed_at, r.completed_on, r.declined_at,
                r.decline_reason, r.updated_at, changes, audited)  # fmt: skip


def last_change(work: Casework, referral_id) -> ChangeLogEntry:
    with work.app.app_context():
        return db.session.scalars(
            select(ChangeLogEntry)
            .where(ChangeLogEntry.record_id == str(referral_id))
            .order_by(ChangeLogEntry.server_seq.desc())
        ).first()


def audit_actions(work: Casework, referral_id) -> list[tuple]:
    with work.app.app_context():
        events = db.session.scalars(
            select(CentralAuditEvent)
            .where(CentralAuditEvent.record_id == str(referral_id))
            .order_by(CentralAuditEvent.id)
        )
        return [(event.action, event.actor_id) for event in events]


def step(work: Casework, action: str, referral_id, *args, service: str = "handyperson"):
    """A report made directly, as the provider of ``service``: accept, complete or decline."""
    with work.app.app_context():
        provider = db.session.merge(work.providers[service])
        return getattr(providers, f"{action}_referral")(provider, referral_id, *args)
