"""Signing in to central: passwords, the rate limit, inactive accounts and the idle timeout."""

from __future__ import annotations

from datetime import timedelta

import itsdangerous
import pytest
from sqlalchemy import func, select, update

from app.central import accounts
from app.db import write_transaction
from app.extensions import db
from app.models import CentralAuditEvent, SignInAttempt
from app.models.field import utcnow
from tests.support.accounts import PASSWORD, make_user

WRONG = "Enter a correct email address and password"
TOO_MANY = "Too many attempts. Wait 15 minutes, then try again"


@pytest.fixture
def hsc(central_app):
    with central_app.app_context():
        return make_user("hsc", email="sam@example.org")


def attempt(client, email: str, password: str):
    return client.submit("/sign-in", {"email": email, "password": password})


def failed_attempts(app, email: str) -> int:
    with app.app_context():
        return db.session.scalar(
            select(func.count()).select_from(SignInAttempt).where(SignInAttempt.email == email)
        )


@pytest.mark.parametrize(
    ("role", "home"),
    [
        ("admin", "/users"),
        ("team_leader", "/review"),
        ("provider", "/referrals"),
        ("hsc", "/start"),
    ],
)
def test_signing_in_takes_each_role_to_where_its_work_is(central_app, central_client, role, home):
    with central_app.app_context():
        user = make_user(role)
    response = central_client.sign_in(user.email, PASSWORD)
    assert response.headers["Location"] == "/"
    assert central_client.get("/").headers["Location"] == home
    assert central_client.get(home).status_code == 200


def test_the_start_page_says_who_is_signed_in(central_client, hsc):
    central_client.sign_in("SAM@example.org ", PASSWORD)  # case and spaces do not matter
    html = central_client.text("/start")
    assert "Signed in" in central_client.last_page.h1[0]
    assert hsc.name in html


def test_a_wrong_password_is_refused_with_a_message_and_counted(central_app, central_client, hsc):
    response = attempt(central_client, hsc.email, "not the password")
    assert response.status_code == 200
    assert WRONG in response.get_data(as_text=True)
    assert central_client.last_page.title.startswith("Error: Sign in")
    assert central_client.get("/users").status_code == 302
    assert failed_attempts(central_app, hsc.email) == 1


def test_an_unknown_email_gets_the_same_message_as_a_wrong_password(central_client):
    response = attempt(central_client, "nobody@example.org", PASSWORD)
    assert WRONG in response.get_data(as_text=True)


def test_an_inactive_user_is_refused_with_the_same_message_even_with_the_right_password(
    central_app, central_client, hsc
):
    with central_app.app_context():
        accounts.deactivate_user(None, hsc.id)
    response = attempt(central_client, hsc.email, PASSWORD)
    assert WRONG in response.get_data(as_text=True)
    assert central_client.get("/start").status_code == 302


def test_after_five_failures_the_sixth_attempt_is_refused_even_with_the_right_password(
    central_app, central_client, hsc
):
    for _ in range(4):
        assert WRONG in attempt(central_client, hsc.email, "wrong").get_data(as_text=True)
    # The fifth failure reaches the limit: the person is told at once.
    assert TOO_MANY in attempt(central_client, hsc.email, "wrong").get_data(as_text=True)
    response = attempt(central_client, hsc.email, PASSWORD)
    assert response.status_code == 200
    assert TOO_MANY in response.get_data(as_text=True)
    assert central_client.get("/start").status_code == 302
    # Refused attempts are not counted: the lock does not grow while someone keeps trying.
    assert failed_attempts(central_app, hsc.email) == 5


def test_the_limit_is_per_email_address(central_app, central_client, hsc):
    with central_app.app_context():
        other = make_user("admin")
    for _ in range(5):
        attempt(central_client, hsc.email, "wrong")
    central_client.sign_in(other.email, PASSWORD)


def test_the_limit_lifts_15_minutes_after_the_fifth_failure_and_success_clears_it(
    central_app, central_client, hsc
):
    for _ in range(5):
        attempt(central_client, hsc.email, "wrong")
    with central_app.app_context(), write_transaction():
        db.session.execute(
            update(SignInAttempt).values(at=SignInAttempt.at - timedelta(minutes=16))
        )
    central_client.sign_in(hsc.email, PASSWORD)
    assert failed_attempts(central_app, hsc.email) == 0


def test_failures_spread_over_more_than_15_minutes_do_not_lock(central_app, hsc):
    start = utcnow()
    with central_app.app_context():
        for minute in (0, 4, 8, 12, 16):
            assert (
                accounts.authenticate_user(hsc.email, "wrong", start + timedelta(minutes=minute))
                is None
            )
        assert accounts.authenticate_user(hsc.email, PASSWORD, start + timedelta(minutes=17)) == hsc


def test_the_lock_lasts_15_minutes_from_the_fifth_failure(central_app, hsc):
    start = utcnow()
    with central_app.app_context():
        for second in range(4):
            accounts.authenticate_user(hsc.email, "wrong", start + timedelta(seconds=second))
        with pytest.raises(accounts.TooManySignInAttempts):
            accounts.authenticate_user(hsc.email, "wrong", start + timedelta(minutes=10))
        for minutes in (10, 24.9):
            assert accounts.sign_in_locked(hsc.email, start + timedelta(minutes=minutes))
        assert not accounts.sign_in_locked(hsc.email, start + timedelta(minutes=25.1))
        assert accounts.authenticate_user(hsc.email, PASSWORD, start + timedelta(minutes=26)) == hsc


def test_signing_out_ends_the_session_and_signing_in_is_audited(central_app, central_client, hsc):
    central_client.sign_in(hsc.email, PASSWORD)
    response = central_client.submit("/start", form_index=0)  # the header's Sign out button
    assert response.headers["Location"] == "/sign-in"
    assert central_client.get("/start").status_code == 302
    with central_app.app_context():
        actions = db.session.scalars(
            select(CentralAuditEvent.action).where(CentralAuditEvent.actor_id == hsc.id)
        ).all()
    assert "signed_in" in actions


def test_central_sessions_end_after_30_idle_minutes_and_the_field_node_keeps_a_working_day(
    central_app, app
):
    assert central_app.permanent_session_lifetime == timedelta(minutes=30)
    assert central_app.config["SESSION_REFRESH_EACH_REQUEST"] is True
    assert app.permanent_session_lifetime == timedelta(hours=8)


def _clock_moved_on(monkeypatch, minutes: float) -> None:
    real = itsdangerous.TimestampSigner.get_timestamp
    monkeypatch.setattr(
        itsdangerous.TimestampSigner,
        "get_timestamp",
        lambda self: real(self) + int(minutes * 60),
    )


def test_a_session_idle_for_over_30_minutes_is_signed_out(central_client, hsc, monkeypatch):
    central_client.sign_in(hsc.email, PASSWORD)
    cookie = central_client.client.get_cookie("session")
    assert cookie.expires is not None  # a permanent session, not one for the browser's life
    _clock_moved_on(monkeypatch, 31)
    assert central_client.get("/start").status_code == 302


def test_each_request_renews_the_session_so_only_idleness_signs_out(
    central_client, hsc, monkeypatch
):
    central_client.sign_in(hsc.email, PASSWORD)
    _clock_moved_on(monkeypatch, 25)
    assert central_client.get("/start").status_code == 200  # renewed here
    monkeypatch.undo()
    _clock_moved_on(monkeypatch, 50)  # 50 minutes after sign-in, 25 after the last request
    assert central_client.get("/start").status_code == 200


def test_resetting_a_password_ends_the_users_existing_sessions(central_app, central_client, hsc):
    central_client.sign_in(hsc.email, PASSWORD)
    with central_app.app_context():
        accounts.reset_user_password(None, hsc.id)
    assert central_client.get("/start").status_code == 302


def test_deactivating_an_account_ends_its_sessions(central_app, central_client, hsc):
    central_client.sign_in(hsc.email, PASSWORD)
    with central_app.app_context():
        accounts.deactivate_user(None, hsc.id)
    assert central_client.get("/start").status_code == 302


def test_sign_in_only_returns_to_a_page_on_this_site(central_client, hsc):
    response = central_client.submit(
        "/sign-in?next=//evil.example/", {"email": hsc.email, "password": PASSWORD}
    )
    assert response.headers["Location"] == "/"
