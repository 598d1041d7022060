"""Roles on central: each page is for named roles only, and the header offers each role its
own pages."""

from __future__ import annotations

import re

import pytest

from app.central import accounts
from app.central.roles import role_required
from tests.support.accounts import PASSWORD, make_user

ADMIN_PAGES = ["/users", "/users/new", "/users/new/hsc"]


def signed_in_as(central_app, client, role: str):
    with central_app.app_context():
        user = make_user(role)
    client.sign_in(user.email, PASSWORD)
    return user


@pytest.mark.parametrize("role", ["hsc", "provider"])
def test_hscs_and_providers_are_refused_the_admin_pages_and_the_devices_page(
    central_app, central_client, role
):
    me = signed_in_as(central_app, central_client, role)
    for url in [*ADMIN_PAGES, f"/users/{me.id}", f"/users/{me.id}/edit", "/devices"]:
        response = central_client.get(url)
        assert response.status_code == 403, url
        assert "You do not have access to this page" in response.get_data(as_text=True)


def test_a_team_leader_is_refused_the_admin_pages_but_sees_devices(central_app, central_client):
    signed_in_as(central_app, central_client, "team_leader")
    for url in ADMIN_PAGES:
        assert central_client.get(url).status_code == 403, url
    assert central_client.get("/devices").status_code == 200


def test_a_refused_post_changes_nothing(central_app, central_client):
    me = signed_in_as(central_app, central_client, "hsc")
    central_client.get("/start")
    token = central_client.last_page.forms[0].hidden["csrf_token"]
    response = central_client.post(f"/users/{me.id}/reset-password", data={"csrf_token": token})
    assert response.status_code == 403
    with central_app.app_context():
        assert accounts.get_user(me.id).password_hash == me.password_hash


@pytest.mark.parametrize(
    ("role", "links"),
    [
        ("admin", ["Users", "Devices"]),
        ("team_leader", ["Visits", "Devices"]),
        ("hsc", []),
        ("provider", ["Referrals"]),
    ],
)
def test_the_header_offers_each_role_its_own_pages(central_app, central_client, role, links):
    signed_in_as(central_app, central_client, role)
    html = central_client.text("/start")
    found = re.findall(r'class="govuk-service-navigation__link" href="[^"]+"[^>]*>\s*(\w+)', html)
    assert found == links


def test_role_required_refuses_to_decorate_with_an_unknown_role():
    with pytest.raises(ValueError, match="roles"):
        role_required("superuser")
    with pytest.raises(ValueError):
        role_required()
