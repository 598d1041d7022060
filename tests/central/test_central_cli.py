"""Central's commands: accounts, enrolment codes, devices and the demo accounts."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

from sqlalchemy import select

from app.central import accounts
from app.central.demo import DEMO_ACCOUNTS, DEMO_PASSWORD
from app.extensions import db
from app.models import Device
from app.models.field import utcnow
from tests.support.accounts import PASSWORD, make_device, make_user

CODE = re.compile(r"[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}")


def run(app, *args, env=None):
    return app.test_cli_runner().invoke(args=list(args), env=env or {})


def test_create_user_makes_an_account_that_can_sign_in_and_prints_nothing_secret(
    central_app, central_client
):
    result = run(
        central_app,
        "create-user",
        "--name",
        "Terry Walsh",
        "--email",
        "Terry@example.org",
        "--role",
        "team_leader",
        "--district",
        "blaby",
        "--district",
        "melton",
        env={"HMOT_PASSWORD": "a long password 1"},
    )
    assert result.exit_code == 0, result.output
    assert "a long password 1" not in result.output
    with central_app.app_context():
        assert accounts.get_user_by_email("terry@example.org").district_names == ["blaby", "melton"]
    central_client.sign_in("terry@example.org", "a long password 1")


def test_create_user_records_a_trusted_assessors_sign_off(central_app):
    result = run(
        central_app,
        "create-user",
        *("--name", "Tara", "--email", "tara@example.org", "--role", "hsc"),
        *("--district", "melton", "--ta-level", "L4", "--ta-date", "2025-03-14"),
        *("--ta-supervisor", "Olive Grant"),
        env={"HMOT_PASSWORD": "a long password 1"},
    )
    assert result.exit_code == 0, result.output
    with central_app.app_context():
        user = accounts.get_user_by_email("tara@example.org")
        assert (user.ta_level, str(user.ta_signed_off_on), user.ta_supervisor) == (
            "L4",
            "2025-03-14",
            "Olive Grant",
        )


def test_create_user_explains_what_is_wrong_and_creates_nothing(central_app):
    args = ["create-user", "--name", "Pat", "--email", "pat@example.org", "--role"]
    env = {"HMOT_PASSWORD": "a long password 1"}
    leader = run(central_app, *args, "team_leader", env=env)
    assert leader.exit_code != 0 and "Select at least one district" in leader.output
    ta = run(central_app, *args, "hsc", "--district", "blaby", "--ta-level", "L3", env=env)
    assert "Enter the date the trusted-assessor level was signed off" in ta.output
    district = run(central_app, *args, "hsc", "--district", "leicester", env=env)
    assert "leicester is not a district" in district.output
    short = run(central_app, *args, "admin", env={"HMOT_PASSWORD": "short"})
    assert "at least 12 characters" in short.output
    with central_app.app_context():
        assert accounts.list_users() == []
    assert run(central_app, *args, "admin", env=env).exit_code == 0
    again = run(central_app, *args, "admin", env=env)
    assert "An account with this email address already exists" in again.output


def test_reset_password_prints_a_new_password_that_works(central_app, central_client):
    with central_app.app_context():
        user = make_user("hsc")
    result = run(central_app, "reset-password", "--email", user.email)
    assert result.exit_code == 0, result.output
    password = result.output.strip().rsplit(" ", 1)[-1]
    central_client.sign_in(user.email, password)
    assert run(central_app, "reset-password", "--email", "nobody@example.org").exit_code != 0


def test_deactivate_user_stops_the_account_signing_in(central_app, central_client):
    with central_app.app_context():
        user = make_user("hsc")
    assert run(central_app, "deactivate-user", "--email", user.email).exit_code == 0
    response = central_client.submit("/sign-in", {"email": user.email, "password": PASSWORD})
    assert response.status_code == 200


def test_create_enrolment_code_prints_a_code_that_enrols_once_and_its_expiry(central_app):
    with central_app.app_context():
        user = make_user("hsc")
    result = run(central_app, "create-enrolment-code", "--email", user.email)
    assert result.exit_code == 0, result.output
    assert "expires at" in result.output
    code = CODE.search(result.output).group(0)
    with central_app.app_context():
        assert accounts.redeem_enrolment_code(code, uuid.uuid4(), utcnow()).id == user.id
    with central_app.app_context():
        provider = make_user("provider")
    refused = run(central_app, "create-enrolment-code", "--email", provider.email)
    assert refused.exit_code != 0 and "only for active HSC accounts" in refused.output


def test_list_devices_flags_stale_ones_first_and_revoke_device_revokes(central_app):
    with central_app.app_context():
        fresh = make_device(make_user("hsc", name="Fresh"))[0].id
        stale = make_device(
            make_user("hsc", name="Stale"), oldest_unsynced_since=utcnow() - timedelta(days=2)
        )[0].id
    listing = run(central_app, "list-devices").output.splitlines()
    assert listing[0].startswith(str(stale)) and "UNSYNCED OVER A DAY" in listing[0]
    assert listing[1].startswith(str(fresh))
    result = run(central_app, "revoke-device", str(fresh))
    assert result.exit_code == 0, result.output
    with central_app.app_context():
        assert db.session.get(Device, fresh).revoked_at is not None
    assert "REVOKED" in run(central_app, "list-devices").output
    missing = run(central_app, "revoke-device", "00000000-0000-4000-8000-000000000000")
    assert missing.exit_code != 0 and "There is no device" in missing.output


def test_seed_demo_creates_an_account_per_role_and_is_safe_to_run_twice(
    central_app, central_client
):
    assert "7 demo accounts created" in run(central_app, "seed-demo").output
    assert "already present" in run(central_app, "seed-demo").output
    with central_app.app_context():
        users = {user.email: user for user in accounts.list_users()}
        assert set(users) == {details.email for details in DEMO_ACCOUNTS}
        assert users["terry.lead@example.org"].district_names == ["blaby", "melton"]
        assert users["tara.ta@example.org"].ta_level == "L3"
        assert users["sam.hsc@example.org"].district_names == ["blaby"]
        services = {u.provider_service for u in users.values() if u.role == "provider"}
        assert services == {"handyperson", "minor_adaptations", "assistive_technology"}
        assert db.session.scalars(select(Device)).all() == []
    central_client.sign_in("admin@example.org", DEMO_PASSWORD)
