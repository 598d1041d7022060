"""The admin pages: creating accounts (with their validation), changing details, temporary
passwords, deactivating and reactivating, and enrolment codes."""

from __future__ import annotations

import hashlib
import re

import pytest
from sqlalchemy import select

from app.central import accounts
from app.extensions import db
from app.models import CentralAuditEvent, EnrolmentCode, User
from tests.support.accounts import PASSWORD, make_user
from tests.support.pages import PageClient

TEMPORARY_PASSWORD = re.compile(r'id="secret">([a-z2-9]{4}(?:-[a-z2-9]{4}){3})<')
CODE = re.compile(r'id="secret">([A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4})<')


@pytest.fixture
def admin(central_app, central_client):
    with central_app.app_context():
        user = make_user("admin", name="Alex Admin")
    central_client.sign_in(user.email, PASSWORD)
    return user


def user_by_email(app, email: str) -> User:
    with app.app_context():
        return accounts.get_user_by_email(email)


def audit_actions(app, record_id) -> list[str]:
    with app.app_context():
        return list(
            db.session.scalars(
                select(CentralAuditEvent.action).where(
                    CentralAuditEvent.record_id == str(record_id)
                )
            )
        )


def create(client: PageClient, role_slug: str, data: dict):
    response = client.submit("/users/new", {"role": role_slug.replace("-", "_")})
    assert response.headers["Location"] == f"/users/new/{role_slug}"
    return client.submit(f"/users/new/{role_slug}", data)


def test_the_users_page_lists_every_account_with_its_role(central_app, central_client, admin):
    with central_app.app_context():
        make_user("team_leader", name="Terry Walsh", districts=("blaby", "melton"))
    html = central_client.text("/users")
    assert "Terry Walsh" in html and "Blaby, Melton" in html and "Alex Admin" in html


def test_a_new_accounts_temporary_password_is_shown_once_and_works(
    central_app, central_client, admin
):
    response = create(
        central_client,
        "hsc",
        {
            "name": "Pat Lee",
            "email": "Pat.Lee@example.org",
            "district": "blaby",
            "ta_level": "none",
        },
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "Account created" in html
    password = TEMPORARY_PASSWORD.search(html).group(1)
    user = user_by_email(central_app, "pat.lee@example.org")
    assert user.role == "hsc" and user.district_names == ["blaby"]
    assert password not in user.password_hash and user.password_hash.startswith("scrypt:")
    assert password not in central_client.text(f"/users/{user.id}")
    assert audit_actions(central_app, user.id) == ["user_created"]
    newcomer = PageClient(central_app.test_client(), sign_in_field="password")
    newcomer.sign_in("pat.lee@example.org", password)


def test_a_trusted_assessor_is_created_with_their_level_date_and_supervisor(
    central_app, central_client, admin
):
    create(
        central_client,
        "hsc",
        {
            "name": "Tara Okafor",
            "email": "tara@example.org",
            "district": "melton",
            "ta_level": "L4",
            "ta_signed_off_on": ["14", "3", "2025"],
            "ta_supervisor": "Olive Grant",
        },
    )
    user = user_by_email(central_app, "tara@example.org")
    assert (user.ta_level, user.ta_signed_off_on.isoformat(), user.ta_supervisor) == (
        "L4",
        "2025-03-14",
        "Olive Grant",
    )


@pytest.mark.parametrize(
    ("role_slug", "data", "messages"),
    [
        ("admin", {}, ["Enter the person’s full name", "Enter an email address"]),
        (
            "admin",
            {"name": "A", "email": "not-an-email"},
            ["Enter an email address in the correct format, like name@example.org"],
        ),
        (
            "team-leader",
            {"name": "Terry", "email": "terry@example.org"},
            ["Select at least one district"],
        ),
        (
            "provider",
            {"name": "Fixers", "email": "fix@example.org"},
            ["Select the service this provider delivers"],
        ),
        (
            "hsc",
            {"name": "Pat", "email": "pat@example.org"},
            ["Select the district the HSC works in", "Select the trusted-assessor level"],
        ),
        (
            "hsc",
            {"name": "Pat", "email": "pat@example.org", "district": "blaby", "ta_level": "L3"},
            [
                "Enter the date the trusted-assessor level was signed off",
                "Enter the name of the supervisor who signed off the trusted-assessor level",
            ],
        ),
        (
            "hsc",
            {
                "name": "Pat",
                "email": "pat@example.org",
                "district": "blaby",
                "ta_level": "L3",
                "ta_signed_off_on": ["31", "2", "2025"],
                "ta_supervisor": "Olive",
            },
            ["Date of sign-off must be a real date"],
        ),
    ],
)
def test_account_details_are_checked_with_specific_messages(
    central_app, central_client, admin, role_slug, data, messages
):
    response = create(central_client, role_slug, data)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert central_client.last_page.title.startswith("Error: New account")
    for message in messages:
        assert message in html
    with central_app.app_context():
        assert len(accounts.list_users()) == 1  # only the admin


def test_an_email_address_can_have_only_one_account(central_app, central_client, admin):
    response = create(central_client, "admin", {"name": "Another", "email": admin.email.upper()})
    assert "An account with this email address already exists" in response.get_data(as_text=True)


def test_changing_an_hscs_ta_level_and_district_bumps_the_version_devices_pull(
    central_app, central_client, admin
):
    with central_app.app_context():
        hsc = make_user("hsc", districts=("blaby",))
    assert central_client.text(f"/users/{hsc.id}/edit")  # the form is filled in
    response = central_client.submit(
        f"/users/{hsc.id}/edit",
        {
            "name": hsc.name,
            "district": "melton",
            "ta_level": "L3",
            "ta_signed_off_on": ["6", "1", "2025"],
            "ta_supervisor": "Olive Grant",
        },
    )
    assert response.headers["Location"] == f"/users/{hsc.id}"
    changed = user_by_email(central_app, hsc.email)
    assert (changed.district_names, changed.ta_level) == (["melton"], "L3")
    assert changed.profile_version == hsc.profile_version + 1
    assert "user_updated" in audit_actions(central_app, hsc.id)


def test_a_team_leaders_districts_can_change_while_keeping_some(central_app, central_client, admin):
    with central_app.app_context():
        leader = make_user("team_leader", districts=("blaby", "melton"))
    central_client.submit(
        f"/users/{leader.id}/edit", {"name": leader.name, "districts": ["blaby", "charnwood"]}
    )
    assert user_by_email(central_app, leader.email).district_names == ["blaby", "charnwood"]


def test_saving_unchanged_details_keeps_the_profile_version(central_app, central_client, admin):
    with central_app.app_context():
        provider = make_user("provider")
    html = central_client.text(f"/users/{provider.id}/edit")
    assert f'value="{provider.name}"' in html and 'value="handyperson" checked' in html
    response = central_client.submit(
        f"/users/{provider.id}/edit", {"name": provider.name, "provider_service": "handyperson"}
    )
    assert response.status_code == 302
    assert user_by_email(central_app, provider.email).profile_version == provider.profile_version


def test_resetting_a_password_shows_a_new_one_once_and_the_old_one_stops_working(
    central_app, central_client, admin
):
    with central_app.app_context():
        hsc = make_user("hsc")
    response = central_client.submit(f"/users/{hsc.id}/reset-password")
    password = TEMPORARY_PASSWORD.search(response.get_data(as_text=True)).group(1)
    person = PageClient(central_app.test_client(), sign_in_field="password")
    refused = person.submit("/sign-in", {"email": hsc.email, "password": PASSWORD})
    assert "Enter a correct email address and password" in refused.get_data(as_text=True)
    person.sign_in(hsc.email, password)
    assert "password_reset" in audit_actions(central_app, hsc.id)


def test_deactivating_and_reactivating_an_account(central_app, central_client, admin):
    with central_app.app_context():
        hsc = make_user("hsc")
    assert "Deactivate" in central_client.text(f"/users/{hsc.id}/deactivate")
    response = central_client.submit(f"/users/{hsc.id}/deactivate")
    assert response.headers["Location"] == f"/users/{hsc.id}"
    assert user_by_email(central_app, hsc.email).active is False
    assert "Deactivated" in central_client.text("/users")
    central_client.submit(f"/users/{hsc.id}/reactivate")
    assert user_by_email(central_app, hsc.email).active is True
    assert audit_actions(central_app, hsc.id)[-2:] == ["user_deactivated", "user_reactivated"]


def test_an_admin_cannot_deactivate_their_own_account(central_app, central_client, admin):
    response = central_client.get(f"/users/{admin.id}/deactivate")
    assert response.status_code == 302
    assert "cannot deactivate your own account" in central_client.text(f"/users/{admin.id}")
    assert user_by_email(central_app, admin.email).active is True


def test_an_enrolment_code_is_shown_once_and_only_its_hash_is_stored(
    central_app, central_client, admin
):
    with central_app.app_context():
        hsc = make_user("hsc")
    response = central_client.submit(f"/users/{hsc.id}/enrolment-code")
    code = CODE.search(response.get_data(as_text=True)).group(1)
    with central_app.app_context():
        record = db.session.scalars(select(EnrolmentCode)).one()
        assert record.code_hash == hashlib.sha256(code.replace("-", "").encode()).hexdigest()
        assert (record.expires_at - record.created_at).total_seconds() == 15 * 60
        assert record.created_by == admin.id
    assert code not in central_client.text(f"/users/{hsc.id}")


@pytest.mark.parametrize("role", ["team_leader", "provider", "admin"])
def test_enrolment_codes_are_only_for_hsc_accounts(central_app, central_client, admin, role):
    with central_app.app_context():
        other = make_user(role)
    assert central_client.get(f"/users/{other.id}/enrolment-code").status_code == 404
    assert "enrolment code" not in central_client.text(f"/users/{other.id}")


def test_an_unknown_account_is_not_found(central_client, admin):
    missing = "00000000-0000-4000-8000-000000000000"
    assert central_client.get(f"/users/{missing}").status_code == 404
    assert central_client.get("/users/new/wizard").status_code == 404
