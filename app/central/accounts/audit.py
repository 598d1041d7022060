"""The audit trail of central's account and device changes."""

from __future__ import annotations

import uuid

from app.extensions import db
from app.models.central import CentralAuditEvent


def audit(actor_id: uuid.UUID | None, action: str, record, *, device_id=None, note="") -> None:
    db.session.add(
        CentralAuditEvent(
            actor_id=actor_id,
            device_id=device_id,
            action=action,
            record_type=record.__tablename__,
            record_id=str(record.id),
            note=note,
        )
    )
