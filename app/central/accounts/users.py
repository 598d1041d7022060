"""Accounts and signing in: every query and commit for ``User`` and ``SignInAttempt``."""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import delete, select
from werkzeug.security import check_password_hash

from app.auth import hash_passphrase
from app.central.account_rules import AccountDetails, account_problems, normalise_email
from app.central.accounts.audit import audit
from app.db import write_transaction
from app.extensions import db
from app.models.central import SignInAttempt, User, UserDistrict
from app.models.field import utcnow

SIGN_IN_LIMIT = 5
SIGN_IN_WINDOW = timedelta(minutes=15)
# Letters and digits that cannot be mistaken for one another when read aloud or typed.
READABLE_LOWERCASE = "abcdefghjkmnpqrstuvwxyz23456789"


class TooManySignInAttempts(Exception):
    """Five failed sign-ins for this email within 15 minutes: refused for 15 minutes."""


# Users ----------------------------------------------------------------------------------


def get_user(user_id: uuid.UUID) -> User | None:
    return db.session.get(User, user_id)


def get_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


def list_users() -> list[User]:
    return list(db.session.scalars(select(User).order_by(User.active.desc(), User.name)))


def check_account(details: AccountDetails, *, user_id: uuid.UUID | None = None) -> dict:
    """``account_problems`` for normalised ``details``, with the email checked against others."""
    other = get_user_by_email(details.email) if details.email else None
    return account_problems(details, email_taken=other is not None and other.id != user_id)


def new_temporary_password() -> str:
    """16 characters in groups of 4 (about 80 bits), easy to read out and type once."""
    letters = "".join(secrets.choice(READABLE_LOWERCASE) for _ in range(16))
    return "-".join(letters[i : i + 4] for i in range(0, 16, 4))


def create_user(actor_id: uuid.UUID | None, details: AccountDetails, password: str) -> User:
    """Create the account; ``details`` must be normalised and pass ``check_account``."""
    with write_transaction():
        user = User(
            name=details.name,
            email=details.email,
            password_hash=hash_passphrase(password),
            role=details.role,
            ta_level=details.ta_level,
            ta_signed_off_on=details.ta_signed_off_on,
            ta_supervisor=details.ta_supervisor,
            provider_service=details.provider_service,
            districts=[UserDistrict(district=d) for d in details.districts],
        )
        db.session.add(user)
        db.session.flush()
        audit(actor_id, "user_created", user, note=f"role {details.role}")
    return user


def update_user(actor_id: uuid.UUID, user_id: uuid.UUID, details: AccountDetails) -> User:
    """Change the name and role details (never the email or role) of an account."""
    with write_transaction():
        user = user_or_error(user_id)
        # Devices hold the user's name, TA level and districts: they pull a new version.
        holds = (user.name, user.ta_level, tuple(user.district_names))
        user.name = details.name
        user.ta_level = details.ta_level
        user.ta_signed_off_on = details.ta_signed_off_on
        user.ta_supervisor = details.ta_supervisor
        user.provider_service = details.provider_service
        # Remove and add only the differences: re-adding a kept district would collide with
        # the (user, district) unique constraint before the old row is deleted.
        for row in [d for d in user.districts if d.district not in details.districts]:
            user.districts.remove(row)
        for district in sorted(set(details.districts) - set(holds[2])):
            user.districts.append(UserDistrict(district=district))
        if holds != (user.name, user.ta_level, details.districts):
            user.profile_version += 1
        audit(actor_id, "user_updated", user)
    return user


def reset_user_password(actor_id: uuid.UUID | None, user_id: uuid.UUID) -> str:
    """A new temporary password, returned once; the old one stops working at once."""
    password = new_temporary_password()
    with write_transaction():
        user = user_or_error(user_id)
        user.password_hash = hash_passphrase(password)
        audit(actor_id, "password_reset", user)
    return password


def deactivate_user(actor_id: uuid.UUID | None, user_id: uuid.UUID) -> User:
    return _set_active(actor_id, user_id, active=False)


def reactivate_user(actor_id: uuid.UUID | None, user_id: uuid.UUID) -> User:
    return _set_active(actor_id, user_id, active=True)


def _set_active(actor_id: uuid.UUID | None, user_id: uuid.UUID, *, active: bool) -> User:
    with write_transaction():
        user = user_or_error(user_id)
        if user.active != active:
            user.active = active
            user.profile_version += 1  # devices stop (or start again) offering this user
            audit(actor_id, "user_reactivated" if active else "user_deactivated", user)
    return user


def user_or_error(user_id: uuid.UUID) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise LookupError(f"no user {user_id}")
    return user


# Signing in -----------------------------------------------------------------------------


@cache
def _unknown_user_hash() -> str:
    return hash_passphrase(secrets.token_hex(16))


def authenticate_user(email: str, password: str, now: datetime | None = None) -> User | None:
    """The active account with this email and password, or None.

    Failures are counted by email in ``sign_in_attempt`` (shared by every server worker).
    Raises ``TooManySignInAttempts`` once there have been 5 within 15 minutes, without
    checking the password. A success clears the count.
    """
    now = now or utcnow()
    email = normalise_email(email)
    if sign_in_locked(email, now):
        raise TooManySignInAttempts
    user = get_user_by_email(email)
    # An unknown email costs the same scrypt check, so timing does not tell who has an account.
    matches = check_password_hash(user.password_hash if user else _unknown_user_hash(), password)
    if user is not None and user.active and matches:
        with write_transaction():
            db.session.execute(delete(SignInAttempt).where(SignInAttempt.email == email))
            audit(user.id, "signed_in", user)
        return user
    with write_transaction():
        db.session.add(SignInAttempt(email=email, at=now))
        db.session.execute(delete(SignInAttempt).where(SignInAttempt.at < now - timedelta(days=1)))
    if sign_in_locked(email, now):
        raise TooManySignInAttempts
    return None


def sign_in_locked(email: str, now: datetime | None = None) -> bool:
    """True for 15 minutes after the failure that made 5 within 15 minutes."""
    now = now or utcnow()
    recent = db.session.scalars(
        select(SignInAttempt.at)
        .where(
            SignInAttempt.email == normalise_email(email),
            SignInAttempt.at > now - 2 * SIGN_IN_WINDOW,
            SignInAttempt.at <= now,
        )
        .order_by(SignInAttempt.at.desc())
        .limit(SIGN_IN_LIMIT)
    ).all()
    if len(recent) < SIGN_IN_LIMIT:
        return False
    newest, fifth = recent[0], recent[-1]
    return newest - fifth <= SIGN_IN_WINDOW and now < newest + SIGN_IN_WINDOW
