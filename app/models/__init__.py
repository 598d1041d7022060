"""Database models. Each table belongs to one role's database (``info['role']``)."""

from app.models.central import (
    CentralAuditEvent,
    CentralResident,
    CentralVisit,
    ChangeLogEntry,
    Device,
    EnrolmentCode,
    SignInAttempt,
    SyncCounter,
    SyncMutation,
    User,
    UserDistrict,
    VisitRevision,
)
from app.models.field import AuditEvent, DeviceState, HscProfile, OutboxEntry, Resident, Visit

__all__ = [
    "AuditEvent",
    "CentralAuditEvent",
    "CentralResident",
    "CentralVisit",
    "ChangeLogEntry",
    "Device",
    "DeviceState",
    "EnrolmentCode",
    "HscProfile",
    "OutboxEntry",
    "Resident",
    "SignInAttempt",
    "SyncCounter",
    "SyncMutation",
    "User",
    "UserDistrict",
    "Visit",
    "VisitRevision",
]
