"""Enrolment codes and devices: every query and commit for ``EnrolmentCode`` and ``Device``.

``redeem_enrolment_code`` and ``new_device`` are for the sync API's enrolment call and run
inside the caller's transaction, so an enrolment happens whole or not at all.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import case, select, update

from app.central.accounts.audit import audit
from app.central.accounts.users import user_or_error
from app.central.roles import ADMIN, HSC, TEAM_LEADER
from app.db import write_transaction
from app.extensions import db
from app.models.central import Device, EnrolmentCode, User, UserDistrict
from app.models.field import utcnow

STALE_AFTER = timedelta(hours=24)
# Letters and digits that cannot be mistaken for one another when read aloud or typed.
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


class EnrolmentRefused(Exception):
    """Why an enrolment code was refused; ``code`` is the sync API's error code."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


# Enrolment codes ------------------------------------------------------------------------


def normalise_enrolment_code(code: str) -> str:
    return "".join(ch for ch in (code or "").upper() if ch.isalnum())


def hash_enrolment_code(code: str) -> str:
    return hashlib.sha256(normalise_enrolment_code(code).encode()).hexdigest()


def create_enrolment_code(
    actor_id: uuid.UUID | None, user_id: uuid.UUID, now: datetime | None = None
) -> tuple[EnrolmentCode, str]:
    """A one-time code, like ``ABCD-EFGH-JKLM``, for an active HSC; returned once, kept hashed.

    A new code replaces any code the user has not used yet.
    """
    now = now or utcnow()
    minutes = current_app.config["ENROLMENT_CODE_MINUTES"]
    letters = "".join(secrets.choice(CODE_ALPHABET) for _ in range(12))
    code = "-".join(letters[i : i + 4] for i in range(0, 12, 4))
    with write_transaction():
        user = user_or_error(user_id)
        if user.role != HSC or not user.active:
            raise ValueError("Enrolment codes are only for active HSC accounts")
        db.session.execute(
            update(EnrolmentCode)
            .where(
                EnrolmentCode.user_id == user.id,
                EnrolmentCode.used_at.is_(None),
                EnrolmentCode.expires_at > now,
            )
            .values(expires_at=now)
        )
        record = EnrolmentCode(
            code_hash=hash_enrolment_code(code),
            user_id=user.id,
            created_by=actor_id,
            created_at=now,
            expires_at=now + timedelta(minutes=minutes),
        )
        db.session.add(record)
        db.session.flush()
        audit(actor_id, "enrolment_code_created", user, note=f"code {record.id}")
    return record, code


def redeem_enrolment_code(code: str, device_id: uuid.UUID, now: datetime) -> User:
    """The HSC a code enrols a device for, marking the code used by ``device_id``.

    Runs in the caller's ``write_transaction()`` and never commits: the code is used only
    if the caller's enrolment commits. Raises ``EnrolmentRefused`` with the sync API's code:
    ``ENROLMENT_CODE_INVALID`` (unknown, or the account is inactive), ``ENROLMENT_CODE_USED``,
    ``ENROLMENT_CODE_EXPIRED`` or ``NOT_AN_HSC``.
    """
    record = db.session.scalar(
        select(EnrolmentCode).where(EnrolmentCode.code_hash == hash_enrolment_code(code))
    )
    if record is None:
        raise EnrolmentRefused("ENROLMENT_CODE_INVALID")
    if record.used_at is not None:
        raise EnrolmentRefused("ENROLMENT_CODE_USED")
    if record.expires_at <= now:
        raise EnrolmentRefused("ENROLMENT_CODE_EXPIRED")
    user = db.session.get(User, record.user_id)
    if user is None or not user.active:
        raise EnrolmentRefused("ENROLMENT_CODE_INVALID")
    if user.role != HSC:
        raise EnrolmentRefused("NOT_AN_HSC")
    # A conditional update, so two enrolments racing on one code cannot both claim it.
    claimed = db.session.execute(
        update(EnrolmentCode)
        .where(EnrolmentCode.id == record.id, EnrolmentCode.used_at.is_(None))
        .values(used_at=now, device_id=device_id)
    )
    if claimed.rowcount != 1:
        raise EnrolmentRefused("ENROLMENT_CODE_USED")
    audit(user.id, "enrolment_code_redeemed", user, device_id=device_id, note=f"code {record.id}")
    return user


# Devices --------------------------------------------------------------------------------


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_device(
    user: User, device_name: str, now: datetime, *, device_id: uuid.UUID | None = None
) -> tuple[Device, str]:
    """Add a device for ``user`` with a new bearer token, returned once (only its hash is kept).

    Runs in the caller's ``write_transaction()`` and never commits. Pass the ``device_id``
    given to ``redeem_enrolment_code`` so the code and the device name each other.
    """
    token = secrets.token_urlsafe(32)
    device = Device(
        id=device_id or uuid.uuid4(),
        user_id=user.id,
        token_hash=hash_token(token),
        name=(device_name or "").strip()[:120],
        enrolled_at=now,
        heartbeat={},
    )
    db.session.add(device)
    db.session.flush()
    audit(user.id, "device_enrolled", device, device_id=device.id)
    return device, token


def get_device(device_id: uuid.UUID) -> Device | None:
    return db.session.get(Device, device_id)


def get_device_by_token(token: str) -> Device | None:
    """The device this bearer token belongs to, revoked or not (the caller decides)."""
    return db.session.scalar(select(Device).where(Device.token_hash == hash_token(token)))


def device_is_stale(device: Device, now: datetime | None = None) -> bool:
    """It holds a visit that has waited more than a day to reach central."""
    since = device.oldest_unsynced_since
    return since is not None and since < (now or utcnow()) - STALE_AFTER


def list_devices(
    now: datetime | None = None, *, districts: Iterable[str] | None = None
) -> list[Device]:
    """Devices, those holding a visit unsynced for over a day first (the longest waiting
    first), then by user name. With ``districts``, only devices of HSCs in those districts."""
    cutoff = (now or utcnow()) - STALE_AFTER
    stale = Device.oldest_unsynced_since < cutoff
    query = (
        select(Device)
        .join(User, Device.user_id == User.id)
        .order_by(
            case((stale, 0), else_=1),
            case((stale, Device.oldest_unsynced_since), else_=None),
            User.name,
            Device.enrolled_at,
        )
    )
    if districts is not None:
        in_districts = select(UserDistrict.user_id).where(UserDistrict.district.in_(districts))
        query = query.where(User.role == HSC, User.id.in_(in_districts))
    return list(db.session.scalars(query))


def list_devices_for(viewer: User, now: datetime | None = None) -> list[Device]:
    """What ``viewer`` may see: admins every device, a team leader their districts' HSCs'."""
    if viewer.role == ADMIN:
        return list_devices(now)
    if viewer.role == TEAM_LEADER:
        return list_devices(now, districts=viewer.district_names)
    return []


def revoke_device(actor_id: uuid.UUID | None, device_id: uuid.UUID, now=None) -> Device:
    """Stop the device syncing at once (its token is refused from now on)."""
    with write_transaction():
        device = db.session.get(Device, device_id)
        if device is None:
            raise LookupError(f"no device {device_id}")
        if device.revoked_at is None:
            device.revoked_at = now or utcnow()
            audit(actor_id, "device_revoked", device, device_id=device.id)
    return device
