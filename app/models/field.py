"""What the field node keeps: the HSC's local profile, residents, visits and an audit trail."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from flask_login import UserMixin
from sqlalchemy import JSON, ForeignKey, Index, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class HscProfile(UserMixin, db.Model):
    """A Housing Support Coordinator who may sign in on this device."""

    __tablename__ = "hsc_profile"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(120))
    email: Mapped[str] = mapped_column(String(254), unique=True)
    passphrase_hash: Mapped[str] = mapped_column(String(255))
    ta_level: Mapped[str] = mapped_column(String(8), default="none")
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive profiles
        return self.active


class Resident(db.Model):
    __tablename__ = "resident"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    given_name: Mapped[str] = mapped_column(String(100))
    family_name: Mapped[str] = mapped_column(String(100))
    date_of_birth: Mapped[date]
    address_line_1: Mapped[str] = mapped_column(String(200))
    address_line_2: Mapped[str] = mapped_column(String(200), default="")
    town: Mapped[str] = mapped_column(String(100))
    postcode: Mapped[str] = mapped_column(String(8))
    district: Mapped[str] = mapped_column(String(40))
    phone: Mapped[str] = mapped_column(String(30), default="")
    nhs_number: Mapped[str | None] = mapped_column(String(10))
    created_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("hsc_profile.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}"


class Visit(db.Model):
    """One Housing MOT. ``answers`` is keyed by question id; ``progress`` by section id.

    ``progress[section]["rev"]`` counts saves of that section: a page posts the revision it
    was rendered from, and a save from a stale page is refused rather than overwriting.
    """

    __tablename__ = "visit"
    __table_args__ = (
        # Drafts: one HSC's visits of one status, newest first.
        Index("ix_visit_hsc_status_updated", "hsc_id", "status", "updated_at"),
        # Recent completed visits: newest first, walking the index until 50 are found.
        Index("ix_visit_hsc_updated", "hsc_id", "updated_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    resident_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("resident.id"))
    hsc_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("hsc_profile.id"))
    setting: Mapped[str] = mapped_column(String(20))
    referral_source: Mapped[str] = mapped_column(String(40))
    first_contact_date: Mapped[date]
    visit_date: Mapped[date]
    form_id: Mapped[str] = mapped_column(String(60))
    form_version: Mapped[int]
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    progress: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    consents: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    details_rev: Mapped[int] = mapped_column(default=0)
    last_page: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(20), default="draft")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[datetime | None]

    resident: Mapped[Resident] = relationship(lazy="joined")

    @property
    def is_locked(self) -> bool:
        return self.status != "draft"


class AuditEvent(db.Model):
    """Who changed what, when: every change on the device is attributable."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("hsc_profile.id"))
    action: Mapped[str] = mapped_column(String(60))
    record_type: Mapped[str] = mapped_column(String(40))
    record_id: Mapped[str] = mapped_column(String(36))
    note: Mapped[str] = mapped_column(Text, default="")
