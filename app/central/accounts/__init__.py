"""Every query and every commit for central's accounts, sign-in attempts, enrolment codes and
devices, named ``<verb>_<entity>``; callers use ``from app.central import accounts``.

Each write runs in ``write_transaction()`` and records a ``CentralAuditEvent`` naming who
did it and to which record. Two functions are made for the sync API's enrolment call and
run *inside the caller's transaction* instead of opening their own, so an enrolment happens
whole or not at all: ``redeem_enrolment_code`` and ``new_device``.

Secrets (temporary passwords, enrolment codes, device tokens) are handed back once and
only their hashes are kept. Functions that depend on the time take ``now`` (naive UTC).
"""

from app.central.accounts.enrolment import (
    CODE_ALPHABET,
    STALE_AFTER,
    EnrolmentRefused,
    create_enrolment_code,
    device_is_stale,
    get_device,
    get_device_by_token,
    hash_enrolment_code,
    hash_token,
    list_devices,
    list_devices_for,
    new_device,
    normalise_enrolment_code,
    redeem_enrolment_code,
    revoke_device,
)
from app.central.accounts.users import (
    SIGN_IN_LIMIT,
    SIGN_IN_WINDOW,
    TooManySignInAttempts,
    authenticate_user,
    check_account,
    create_user,
    deactivate_user,
    get_user,
    get_user_by_email,
    list_users,
    new_temporary_password,
    reactivate_user,
    reset_user_password,
    sign_in_locked,
    update_user,
)

__all__ = [
    "CODE_ALPHABET",
    "SIGN_IN_LIMIT",
    "SIGN_IN_WINDOW",
    "STALE_AFTER",
    "EnrolmentRefused",
    "TooManySignInAttempts",
    "authenticate_user",
    "check_account",
    "create_enrolment_code",
    "create_user",
    "deactivate_user",
    "device_is_stale",
    "get_device",
    "get_device_by_token",
    "get_user",
    "get_user_by_email",
    "hash_enrolment_code",
    "hash_token",
    "list_devices",
    "list_devices_for",
    "list_users",
    "new_device",
    "new_temporary_password",
    "normalise_enrolment_code",
    "reactivate_user",
    "redeem_enrolment_code",
    "reset_user_password",
    "revoke_device",
    "sign_in_locked",
    "update_user",
]
