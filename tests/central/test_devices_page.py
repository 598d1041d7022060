"""The devices page: who sees which devices, those unsynced for over a day first, the
heartbeat figures, and revoking a device."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import CentralAuditEvent, Device
from app.models.field import utcnow
from tests.support.accounts import PASSWORD, make_device, make_user

STALE_TAG = "Unsynced for over a day"


def card_titles(html: str) -> list[str]:
    titles = re.findall(r'<h2 class="govuk-summary-card__title">\s*(.*?)\s*</h2>', html, re.S)
    return [title.split(" – ")[0] for title in titles]


@pytest.fixture
def fleet(central_app):
    """Four HSCs' tablets in two districts, two of them holding visits for over a day."""
    now = utcnow()
    with central_app.app_context():
        users = {
            name: make_user("hsc", name=name, districts=(district,))
            for name, district in [
                ("Ann Blaby", "blaby"),
                ("Ben Blaby", "blaby"),
                ("Cat Melton", "melton"),
                ("Dee Charnwood", "charnwood"),
            ]
        }
        make_device(users["Ann Blaby"], oldest_unsynced_since=now - timedelta(hours=2))
        make_device(
            users["Ben Blaby"],
            oldest_unsynced_since=now - timedelta(days=2),
            last_sync_at=now - timedelta(days=2),
            clock_offset_seconds=-300.0,
            heartbeat={
                "outbox_length": 3,
                "oldest_unsynced_age_seconds": 2 * 86400,
                "quarantine_count": 1,
                "app_version": "0.1.0",
                "form_versions": {"housing-mot": 1},
                "device_clock": "2026-11-20T09:00:00Z",
            },
        )
        make_device(users["Cat Melton"], oldest_unsynced_since=now - timedelta(days=5))
        make_device(users["Dee Charnwood"])
    return users


def sign_in(central_app, client, role: str, **over):
    with central_app.app_context():
        user = make_user(role, **over)
    client.sign_in(user.email, PASSWORD)
    return user


def test_devices_holding_a_visit_unsynced_for_over_a_day_come_first_and_are_flagged(
    central_app, central_client, fleet
):
    sign_in(central_app, central_client, "admin")
    html = central_client.text("/devices")
    assert card_titles(html) == ["Cat Melton", "Ben Blaby", "Ann Blaby", "Dee Charnwood"]
    assert html.count(STALE_TAG) == 2
    assert "2 devices hold a visit that has not reached the office for more than a day" in html


def test_the_devices_page_shows_the_last_heartbeat(central_app, central_client, fleet):
    sign_in(central_app, central_client, "admin")
    html = central_client.text("/devices")
    for figure in (
        "3 visits",
        "2 days",
        "1 visit",
        "0.1.0",
        "housing-mot version 1",
        "2026-11-20T09:00:00Z",
        "5 minutes behind the office clock",
    ):
        assert figure in html, figure


def test_a_team_leader_sees_only_devices_of_hscs_in_their_districts(
    central_app, central_client, fleet
):
    sign_in(central_app, central_client, "team_leader", districts=("blaby", "melton"))
    html = central_client.text("/devices")
    assert card_titles(html) == ["Cat Melton", "Ben Blaby", "Ann Blaby"]
    assert "Revoke" not in html  # revoking is for admins


def test_a_team_leader_with_no_hscs_devices_is_told_so(central_app, central_client, fleet):
    sign_in(central_app, central_client, "team_leader", districts=("harborough",))
    assert "No devices are enrolled for HSCs in your districts" in central_client.text("/devices")


def test_revoking_a_device_asks_first_then_sets_revoked_at_and_is_audited(
    central_app, central_client, fleet
):
    admin = sign_in(central_app, central_client, "admin")
    with central_app.app_context():
        device = db.session.scalars(
            select(Device).where(Device.user_id == fleet["Ann Blaby"].id)
        ).one()
    confirm = central_client.text(f"/devices/{device.id}/revoke")
    assert "Revoke" in confirm and device.revoked_at is None
    response = central_client.submit(f"/devices/{device.id}/revoke")
    assert response.headers["Location"] == "/devices"
    with central_app.app_context():
        revoked = db.session.get(Device, device.id)
        assert revoked.revoked_at is not None
        event = db.session.scalars(
            select(CentralAuditEvent).where(CentralAuditEvent.action == "device_revoked")
        ).one()
        assert (event.actor_id, event.record_id, event.device_id) == (
            admin.id,
            str(device.id),
            device.id,
        )
    html = central_client.text("/devices")
    assert "Device revoked" in html and "govuk-tag--grey" in html
    # A revoked device offers no second revoke.
    assert central_client.get(f"/devices/{device.id}/revoke").status_code == 302


def test_a_team_leader_cannot_revoke_a_device(central_app, central_client, fleet):
    sign_in(central_app, central_client, "team_leader", districts=("blaby",))
    with central_app.app_context():
        device = db.session.scalars(select(Device)).first()
    assert central_client.get(f"/devices/{device.id}/revoke").status_code == 403
