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


FIELD = {"info": {"role": "field"}}


class HscProfile(UserMixin, db.Model):
    """A Housing Support Coordinator who may sign in on this device."""

    __tablename__ = "hsc_profile"
    __table_args__ = FIELD

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(120))
    email: Mapped[str] = mapped_column(String(254), unique=True)
    passphrase_hash: Mapped[str] = mapped_column(String(255))
    ta_level: Mapped[str] = mapped_column(String(8), default="none")
    active: Mapped[bool] = mapped_column(default=True)
    # Set when the device is enrolled: the central account this profile belongs to.
    central_user_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    profile_version: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive profiles
        return self.active


class ResidentDetails:
    """Who the resident is and where they live: the same columns on the device and at central."""

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

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}"


class Resident(ResidentDetails, db.Model):
    __tablename__ = "resident"
    __table_args__ = FIELD

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    created_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("hsc_profile.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


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
        FIELD,
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    resident_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("resident.id"))
    hsc_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("hsc_profile.id"))
    setting: Mapped[str] = mapped_column(String(20))
    # "first", or "follow_up": the final visit that checks the works are done, started
    # from ``previous_visit_id`` with its answers.
    kind: Mapped[str] = mapped_column(String(20), default="first")
    previous_visit_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
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
    # The revision being (or last) sent, and the last one central acknowledged: a visit
    # completed again after the office returned it is sent as central_revision + 1.
    revision: Mapped[int] = mapped_column(default=0)
    central_revision: Mapped[int] = mapped_column(default=0)
    # What the office said, from the last pull: received, approved or returned (with a comment).
    office_status: Mapped[str] = mapped_column(String(20), default="")
    office_comment: Mapped[str] = mapped_column(Text, default="")
    received_at: Mapped[datetime | None]

    resident: Mapped[Resident] = relationship(lazy="joined")

    @property
    def is_locked(self) -> bool:
        return self.status != "draft"


class EquipmentOrder(db.Model):
    """An item a trusted assessor orders during a visit; it travels in the visit's body.

    ``route`` and ``findings`` are the ordering rules' decision on the device (direct,
    approval, held), made with the catalogue's ``rules_version``, which is kept with the
    order. ``delivery_status`` is where the provider has got to, as central last said.
    """

    __tablename__ = "equipment_order"
    __table_args__ = (Index("ix_equipment_order_visit", "visit_id"), FIELD)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    visit_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("visit.id"))
    catalogue_id: Mapped[str] = mapped_column(String(60))
    catalogue_version: Mapped[int]
    rules_version: Mapped[str] = mapped_column(String(40))
    item_code: Mapped[str] = mapped_column(String(40))
    quantity: Mapped[int] = mapped_column(default=1)
    location: Mapped[str] = mapped_column(String(100), default="")
    side: Mapped[str] = mapped_column(String(20), default="")
    measurements: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    reason: Mapped[str] = mapped_column(Text, default="")
    acknowledged: Mapped[list[str]] = mapped_column(JSON, default=list)
    ordered_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("hsc_profile.id"))
    ta_level: Mapped[str] = mapped_column(String(4))
    route: Mapped[str] = mapped_column(String(20))
    findings: Mapped[list[Any]] = mapped_column(JSON, default=list)
    delivery_status: Mapped[str] = mapped_column(String(20), default="")
    delivery_updated_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReferralStatus(db.Model):
    """Where a referral from one of this HSC's visits has got to, as central last said.

    Written only by pull (``referral.status`` changes); the id is central's referral id.
    """

    __tablename__ = "referral_status"
    __table_args__ = (Index("ix_referral_status_resident", "resident_id"), FIELD)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    visit_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    resident_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    service: Mapped[str] = mapped_column(String(60))
    name: Mapped[str] = mapped_column(String(120))
    status: Mapped[str] = mapped_column(String(20))
    consent: Mapped[str | None] = mapped_column(String(3))
    issued_at: Mapped[datetime | None]
    completed_on: Mapped[date | None]
    decline_reason: Mapped[str] = mapped_column(Text, default="")
    # central's change number: an older change never overwrites a newer one
    server_seq: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class AuditEvent(db.Model):
    """Who changed what, when: every change on the device is attributable."""

    __tablename__ = "audit_event"
    __table_args__ = FIELD

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("hsc_profile.id"))
    action: Mapped[str] = mapped_column(String(60))
    record_type: Mapped[str] = mapped_column(String(40))
    record_id: Mapped[str] = mapped_column(String(36))
    note: Mapped[str] = mapped_column(Text, default="")


class DeviceState(db.Model):
    """This device's enrolment and sync progress: one row, once enrolled."""

    __tablename__ = "device_state"
    __table_args__ = FIELD

    id: Mapped[int] = mapped_column(primary_key=True)
    central_url: Mapped[str] = mapped_column(String(300))
    device_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    token: Mapped[str] = mapped_column(String(100))
    profile_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("hsc_profile.id"))
    enrolled_at: Mapped[datetime] = mapped_column(default=utcnow)
    pull_cursor: Mapped[int] = mapped_column(default=0)
    last_attempt_at: Mapped[datetime | None]
    last_success_at: Mapped[datetime | None]
    last_error: Mapped[str] = mapped_column(Text, default="")
    failures: Mapped[int] = mapped_column(default=0)
    revoked: Mapped[bool] = mapped_column(default=False)
    # One sync at a time on this device, whichever process starts it. A lease whose holder
    # process has died (a crash, a kill) is free at once rather than when it runs out.
    sync_lease_until: Mapped[datetime | None]
    sync_lease_holder: Mapped[str] = mapped_column(String(60), default="")
    clock_offset_seconds: Mapped[float | None]
    central_forms: Mapped[list[Any]] = mapped_column(JSON, default=list)


class OutboxEntry(db.Model):
    """A completed visit revision waiting to reach central, or the record that it did.

    Written in the same transaction as the completion. ``seq`` never repeats (AUTOINCREMENT);
    ``mutation_id`` is the idempotency key central stores the result under.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_state_seq", "state", "seq"),
        # The heartbeat's oldest unsynced visit, without reading the bodies.
        Index("ix_outbox_state_created", "state", "created_at"),
        Index("ix_outbox_visit", "visit_id"),
        {"info": {"role": "field"}, "sqlite_autoincrement": True},
    )

    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    mutation_id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True, default=uuid.uuid4)
    visit_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("visit.id"))
    revision: Mapped[int]
    base_revision: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    # queued → sent → acknowledged | quarantined | conflict
    state: Mapped[str] = mapped_column(String(20), default="queued")
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    problem: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    receipt: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    acknowledged_at: Mapped[datetime | None]
