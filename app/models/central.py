"""What central keeps: accounts, devices, residents, every revision of every visit, the
results of every applied sync mutation, the change log devices pull, and an audit trail."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from flask_login import UserMixin
from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.field import ResidentDetails, utcnow

CENTRAL = {"info": {"role": "central"}}
ROLES = ("hsc", "team_leader", "provider", "admin")
TA_LEVELS = ("none", "L3", "L4")
PROVIDER_SERVICES = ("handyperson", "minor_adaptations", "assistive_technology")


class User(UserMixin, db.Model):
    __tablename__ = "user_account"
    __table_args__ = CENTRAL

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(120))
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20))
    ta_level: Mapped[str] = mapped_column(String(4), default="none")
    ta_signed_off_on: Mapped[date | None]
    ta_supervisor: Mapped[str] = mapped_column(String(120), default="")
    provider_service: Mapped[str | None] = mapped_column(String(40))
    active: Mapped[bool] = mapped_column(default=True)
    # Bumped whenever something a device holds about this user changes (name, TA level...).
    profile_version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    districts: Mapped[list[UserDistrict]] = relationship(
        cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def district_names(self) -> list[str]:
        return sorted(d.district for d in self.districts)


class UserDistrict(db.Model):
    """A team leader's districts (one or more); an HSC's home district."""

    __tablename__ = "user_district"
    __table_args__ = (UniqueConstraint("user_id", "district"), CENTRAL)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id"))
    district: Mapped[str] = mapped_column(String(40))


class SignInAttempt(db.Model):
    """Failed sign-ins, for rate limiting (by email, so it holds across server workers)."""

    __tablename__ = "sign_in_attempt"
    __table_args__ = (Index("ix_sign_in_attempt_email_at", "email", "at"), CENTRAL)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    email: Mapped[str] = mapped_column(String(254))
    at: Mapped[datetime] = mapped_column(default=utcnow)


class EnrolmentCode(db.Model):
    """A one-time, short-lived code that enrols one device for one user. Only a hash is kept."""

    __tablename__ = "enrolment_code"
    __table_args__ = CENTRAL

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id"))
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    device_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)


class Device(db.Model):
    __tablename__ = "device"
    __table_args__ = CENTRAL

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(120), default="")
    enrolled_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime | None]
    last_sync_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    # A short lease: one push at a time per device, across server workers.
    push_lease_until: Mapped[datetime | None]
    # The last heartbeat: outbox length, oldest unsynced age, quarantine count, versions, clock.
    heartbeat: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    oldest_unsynced_since: Mapped[datetime | None]
    clock_offset_seconds: Mapped[float | None]

    user: Mapped[User] = relationship(lazy="joined")


class CentralResident(ResidentDetails, db.Model):
    __tablename__ = "central_resident"
    __table_args__ = CENTRAL

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class CentralVisit(db.Model):
    """A visit as central knows it: the latest revision, and where it is in review."""

    __tablename__ = "central_visit"
    __table_args__ = (
        # The review queue: one district's visits awaiting review, oldest first.
        Index("ix_central_visit_queue", "district", "status", "received_at", "id"),
        CENTRAL,
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    resident_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("central_resident.id"))
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id"))
    device_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("device.id"))
    district: Mapped[str] = mapped_column(String(40))
    setting: Mapped[str] = mapped_column(String(20))
    # "first" or "follow_up" (the final visit that checks the works are done).
    kind: Mapped[str] = mapped_column(String(20), default="first")
    referral_source: Mapped[str] = mapped_column(String(40), default="")
    first_contact_date: Mapped[date | None]
    visit_date: Mapped[date | None]
    form_id: Mapped[str] = mapped_column(String(60))
    form_version: Mapped[int]
    revision: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    # received → approved | returned → (revised) received ...
    status: Mapped[str] = mapped_column(String(20), default="received")
    # What the review queue shows at a glance, worked out once per revision on ingest.
    flags: Mapped[list[str]] = mapped_column(JSON, default=list)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    first_received_at: Mapped[datetime | None]
    approved_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship(lazy="joined")
    resident: Mapped[CentralResident] = relationship(lazy="joined")


class VisitRevision(db.Model):
    """Every revision of every visit, as sent, with its hash and both clocks."""

    __tablename__ = "visit_revision"
    __table_args__ = (UniqueConstraint("visit_id", "revision"), CENTRAL)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    visit_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("central_visit.id"))
    revision: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    device_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("device.id"))
    mutation_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    device_time: Mapped[datetime | None]
    server_time: Mapped[datetime] = mapped_column(default=utcnow)
    clock_offset_seconds: Mapped[float | None]


class IngestJob(db.Model):
    """A received revision whose referrals and flags are still to be worked out.

    Written in the push's transaction (a server-side outbox), taken by the ingest worker
    after the receipt has gone back to the device, and deleted when its referrals exist.
    """

    __tablename__ = "ingest_job"
    __table_args__ = CENTRAL

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    visit_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("central_visit.id"), index=True)
    revision: Mapped[int]
    # The equipment the revision orders, in words, by provider queue (decided on push).
    ordered: Mapped[dict[str, list[str]]] = mapped_column(JSON, default=dict)
    queued_at: Mapped[datetime] = mapped_column(default=utcnow)
    attempts: Mapped[int] = mapped_column(default=0)
    # The exception's class name only: never anything from the visit.
    last_error: Mapped[str] = mapped_column(String(120), default="")


class SyncMutation(db.Model):
    """The stored result of every applied mutation, kept for ever: a replay gets it back."""

    __tablename__ = "sync_mutation"
    __table_args__ = CENTRAL

    mutation_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    device_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("device.id"))
    device_seq: Mapped[int]
    fingerprint: Mapped[str] = mapped_column(String(64))
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SyncCounter(db.Model):
    """One row: the source of the pull cursor. Taking the next value inside each write
    transaction holds the row lock to commit, so cursor values commit in order (PostgreSQL
    sequences do not)."""

    __tablename__ = "sync_counter"
    __table_args__ = CENTRAL

    id: Mapped[int] = mapped_column(primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


class ChangeLogEntry(db.Model):
    """What a user's devices pull: numbered, commit-ordered events."""

    __tablename__ = "change_log"
    __table_args__ = (Index("ix_change_log_user_seq", "user_id", "server_seq"), CENTRAL)

    server_seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id"))
    kind: Mapped[str] = mapped_column(String(40))
    record_id: Mapped[str] = mapped_column(String(36))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    at: Mapped[datetime] = mapped_column(default=utcnow)


class CentralAuditEvent(db.Model):
    """Who did what to which record, when, and from which device."""

    __tablename__ = "central_audit_event"
    __table_args__ = (Index("ix_central_audit_record", "record_type", "record_id"), CENTRAL)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user_account.id"))
    device_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    action: Mapped[str] = mapped_column(String(60))
    record_type: Mapped[str] = mapped_column(String(40))
    record_id: Mapped[str] = mapped_column(String(36))
    note: Mapped[str] = mapped_column(Text, default="")


REFERRAL_STATUSES = (
    "proposed",  # made from a visit's answers, awaiting the team leader
    "issued",  # approved: in the provider's queue
    "accepted",
    "completed",
    "declined",
    "cancelled",  # withdrawn, e.g. replaced by a later revision's proposals
    "information",  # no consent to share: information given to the resident, never sent
)
OPEN_REFERRAL_STATUSES = ("proposed", "issued", "accepted")


class Referral(db.Model):
    """A referral (or signpost) from one visit to one service, with the reasons in words.

    Central makes these from the form's rules on ingest of each revision (``proposed``); a
    team leader's approval issues them to the provider, who reports back. At most one open
    referral per resident and service.
    """

    __tablename__ = "referral"
    __table_args__ = (
        Index("ix_referral_service_status", "service", "status", "issued_at"),
        Index("ix_referral_resident_service", "resident_id", "service"),
        Index("ix_referral_visit", "visit_id"),
        CENTRAL,
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    visit_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("central_visit.id"))
    resident_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("central_resident.id"))
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id"))  # the HSC
    district: Mapped[str] = mapped_column(String(40))
    revision: Mapped[int]  # the visit revision it was made from
    kind: Mapped[str] = mapped_column(String(20))  # referral | signpost
    service: Mapped[str] = mapped_column(String(60))  # the form's output id
    provider_service: Mapped[bool] = mapped_column(default=False)
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    rules: Mapped[list[str]] = mapped_column(JSON, default=list)
    consent: Mapped[str | None] = mapped_column(String(3))  # yes | no | None (not asked)
    priority: Mapped[str] = mapped_column(String(10), default="standard")  # urgent | standard
    status: Mapped[str] = mapped_column(String(20), default="proposed")
    proposed_at: Mapped[datetime] = mapped_column(default=utcnow)
    issued_at: Mapped[datetime | None]
    accepted_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]  # server time of the report
    completed_on: Mapped[date | None]  # the date the provider says the work was done
    declined_at: Mapped[datetime | None]
    decline_reason: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    visit: Mapped[CentralVisit] = relationship(lazy="joined")
    resident: Mapped[CentralResident] = relationship(lazy="joined")


class Review(db.Model):
    """A team leader's decision on one revision of a visit, pinned to its hash."""

    __tablename__ = "review"
    __table_args__ = (Index("ix_review_visit", "visit_id"), CENTRAL)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    visit_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("central_visit.id"))
    revision: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    reviewer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id"))
    decision: Mapped[str] = mapped_column(String(20))  # approved | returned
    comment: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(default=utcnow)

    reviewer: Mapped[User] = relationship(lazy="joined")


ORDER_STATUSES = (
    "proposed",  # within the assessor's remit: issued when the visit is approved
    "approval",  # kept for an occupational therapist's or team leader's approval
    "held",  # kept, held (e.g. waiting for the landlord's consent)
    "issued",  # with the delivering service, as part of its referral
    "delivered",
    "fitted",
    "cancelled",  # replaced by a later revision of the visit
)


class CentralEquipmentOrder(db.Model):
    """A trusted assessor's order from a visit revision, re-checked by central on ingest.

    ``device_route`` is what the tablet decided; ``route`` is central's own check with the
    assessor's level on record and central's catalogue. When they differ the order is kept
    and ``policy_changed`` is set for the team leader, never silently rejected.
    """

    __tablename__ = "central_equipment_order"
    __table_args__ = (
        Index("ix_central_equipment_order_visit", "visit_id"),
        Index("ix_central_equipment_order_referral", "referral_id"),
        CENTRAL,
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    visit_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("central_visit.id"))
    revision: Mapped[int]
    resident_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("central_resident.id"))
    ordered_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id"))
    ta_level: Mapped[str] = mapped_column(String(4))  # the orderer's level on record
    catalogue_id: Mapped[str] = mapped_column(String(60))
    catalogue_version: Mapped[int]
    rules_version: Mapped[str] = mapped_column(String(40))  # the version the tablet used
    item_code: Mapped[str] = mapped_column(String(40))
    item_name: Mapped[str] = mapped_column(String(120))
    service: Mapped[str] = mapped_column(String(40))  # the delivering service
    provider_service: Mapped[str] = mapped_column(String(40))  # the queue it goes to
    fitting: Mapped[bool] = mapped_column(default=False)
    quantity: Mapped[int] = mapped_column(default=1)
    location: Mapped[str] = mapped_column(String(100), default="")
    side: Mapped[str] = mapped_column(String(20), default="")
    measurements: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    reason: Mapped[str] = mapped_column(Text, default="")
    unit_cost_pence: Mapped[int | None]
    device_route: Mapped[str] = mapped_column(String(20))
    route: Mapped[str] = mapped_column(String(20))
    findings: Mapped[list[Any]] = mapped_column(JSON, default=list)
    policy_changed: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(20))
    referral_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("referral.id"))
    approved_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("user_account.id"))
    issued_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    fitted_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
