"""The device's copy of where each referral from its HSC's visits has got to.

Central logs a ``referral.status`` change whenever a referral is issued, accepted, completed,
declined or cancelled; the device keeps the latest one per referral (keyed by central's
referral id) so the HSC can see it offline and close the loop on the final visit. A change
older than the one already applied (a lower ``server_seq``) is ignored, so a page applied
twice, or pages arriving out of order, change nothing.
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, date, datetime

from app.extensions import db
from app.models import ReferralStatus
from app.models.field import utcnow

log = logging.getLogger(__name__)
STATUSES = ("issued", "accepted", "completed", "declined", "cancelled")
OPEN_STATUSES = ("issued", "accepted")


def apply_referral_status(change: dict) -> None:
    """Upsert one referral's status. Call inside the pull page's transaction."""
    payload = change.get("payload") or {}
    try:
        referral_id = uuid.UUID(str(change.get("id")))
        seq = int(change.get("server_seq", 0))
        visit_id = uuid.UUID(str(payload["visit_id"]))
        resident_id = uuid.UUID(str(payload["resident_id"]))
    except (KeyError, TypeError, ValueError):
        # Only the change number is logged: the payload is about a resident.
        log.warning("pull: malformed referral.status change %r ignored", change.get("server_seq"))
        return
    status = payload.get("status")
    if status not in STATUSES:
        log.warning("pull: referral.status change %s has unknown status %r", seq, status)
        return
    referral = db.session.get(ReferralStatus, referral_id)
    if referral is None:
        referral = ReferralStatus(id=referral_id)
        db.session.add(referral)
    elif referral.server_seq >= seq:
        return  # the device already has this change, or a newer one
    service = str(payload.get("service") or "")[:60]
    referral.visit_id = visit_id
    referral.resident_id = resident_id
    referral.service = service
    referral.name = str(payload.get("name") or service)[:120]
    referral.status = status
    referral.consent = payload.get("consent") if payload.get("consent") in ("yes", "no") else None
    referral.issued_at = _time(payload.get("issued_at"))
    referral.completed_on = _date(payload.get("completed_on"))
    referral.decline_reason = str(payload.get("decline_reason") or "")
    referral.server_seq = seq
    referral.updated_at = utcnow()


def _time(value) -> datetime | None:
    try:
        moment = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)


def _date(value) -> date | None:
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        return None
