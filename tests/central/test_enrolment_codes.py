"""Enrolment codes and device tokens, as the sync API's enrolment call uses them: codes are
kept only as hashes, expire, work once, and are claimed in the caller's transaction."""

from __future__ import annotations

import hashlib
import re
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from app.central import accounts
from app.db import write_transaction
from app.extensions import db
from app.models import Device, EnrolmentCode, User
from app.models.field import utcnow
from tests.support.accounts import make_user


@pytest.fixture
def ctx(central_app):
    with central_app.app_context():
        yield central_app


def redeem(code: str, now=None) -> tuple[User, uuid.UUID]:
    device_id = uuid.uuid4()
    with write_transaction():
        user = accounts.redeem_enrolment_code(code, device_id, now or utcnow())
    return user, device_id


def refusal(code: str, now=None) -> str:
    with pytest.raises(accounts.EnrolmentRefused) as refused:
        redeem(code, now)
    return refused.value.code


def test_a_code_is_12_unambiguous_characters_in_groups_of_4_kept_only_as_a_hash(ctx):
    hsc = make_user("hsc")
    record, code = accounts.create_enrolment_code(None, hsc.id)
    assert re.fullmatch(r"[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}", code)
    stored = db.session.execute(select(EnrolmentCode.__table__)).one()
    assert code.replace("-", "") not in repr(stored) and code not in repr(stored)
    assert record.code_hash == hashlib.sha256(code.replace("-", "").encode()).hexdigest()


def test_redeeming_a_code_returns_its_hsc_and_marks_it_used_by_the_device(ctx):
    hsc = make_user("hsc")
    _, code = accounts.create_enrolment_code(None, hsc.id)
    user, device_id = redeem(code.lower().replace("-", " "))  # typed loosely on a tablet
    assert user.id == hsc.id
    record = db.session.scalars(select(EnrolmentCode)).one()
    assert record.used_at is not None and record.device_id == device_id


def test_a_code_works_only_once(ctx):
    _, code = accounts.create_enrolment_code(None, make_user("hsc").id)
    redeem(code)
    assert refusal(code) == "ENROLMENT_CODE_USED"


def test_a_code_expires_after_the_configured_minutes(ctx):
    ctx.config["ENROLMENT_CODE_MINUTES"] = 5
    now = utcnow()
    record, code = accounts.create_enrolment_code(None, make_user("hsc").id, now)
    assert record.expires_at == now + timedelta(minutes=5)
    assert refusal(code, now + timedelta(minutes=5, seconds=1)) == "ENROLMENT_CODE_EXPIRED"
    redeem(code, now + timedelta(minutes=4))


def test_an_unknown_code_is_refused_as_invalid(ctx):
    assert refusal("ABCD-EFGH-JKLM") == "ENROLMENT_CODE_INVALID"


def test_a_code_for_an_account_deactivated_since_is_refused_as_invalid(ctx):
    hsc = make_user("hsc")
    _, code = accounts.create_enrolment_code(None, hsc.id)
    accounts.deactivate_user(None, hsc.id)
    assert refusal(code) == "ENROLMENT_CODE_INVALID"


def test_a_code_whose_account_is_no_longer_an_hsc_is_refused(ctx):
    hsc = make_user("hsc")
    _, code = accounts.create_enrolment_code(None, hsc.id)
    with write_transaction():
        db.session.execute(update(User).where(User.id == hsc.id).values(role="provider"))
    assert refusal(code) == "NOT_AN_HSC"


@pytest.mark.parametrize("role", ["team_leader", "provider", "admin"])
def test_codes_are_made_only_for_hsc_accounts(ctx, role):
    with pytest.raises(ValueError, match="only for active HSC accounts"):
        accounts.create_enrolment_code(None, make_user(role).id)


def test_a_new_code_replaces_one_not_yet_used(ctx):
    hsc = make_user("hsc")
    _, first = accounts.create_enrolment_code(None, hsc.id)
    _, second = accounts.create_enrolment_code(None, hsc.id)
    assert refusal(first) == "ENROLMENT_CODE_EXPIRED"
    assert redeem(second)[0].id == hsc.id


def test_redeeming_does_not_commit_by_itself_so_a_failed_enrolment_leaves_the_code_usable(ctx):
    hsc = make_user("hsc")
    _, code = accounts.create_enrolment_code(None, hsc.id)
    with pytest.raises(RuntimeError), write_transaction():
        accounts.redeem_enrolment_code(code, uuid.uuid4(), utcnow())
        raise RuntimeError("the device could not be added")
    assert redeem(code)[0].id == hsc.id


def test_a_new_device_keeps_only_the_hash_of_its_token_and_is_found_by_the_token(ctx):
    _, code = accounts.create_enrolment_code(None, make_user("hsc").id)
    now = utcnow()
    with write_transaction():
        user = accounts.redeem_enrolment_code(code, uuid.uuid4(), now)
        device, token = accounts.new_device(user, "Sam’s tablet", now)
    assert len(token) >= 40
    assert (
        device.token_hash
        == accounts.hash_token(token)
        == hashlib.sha256(token.encode()).hexdigest()
    )
    stored = db.session.execute(select(Device.__table__)).one()
    assert token not in repr(stored)
    assert accounts.get_device_by_token(token).id == device.id
    assert accounts.get_device_by_token("not a token") is None


def test_the_device_id_given_when_redeeming_names_the_new_device(ctx):
    hsc = make_user("hsc")
    _, code = accounts.create_enrolment_code(None, hsc.id)
    now = utcnow()
    device_id = uuid.uuid4()
    with write_transaction():
        user = accounts.redeem_enrolment_code(code, device_id, now)
        device, _ = accounts.new_device(user, "Tablet", now, device_id=device_id)
    assert device.id == device_id
    assert db.session.scalars(select(EnrolmentCode.device_id)).one() == device_id
