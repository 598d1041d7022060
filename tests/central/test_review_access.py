"""Who may see and decide a visit: only a team leader of the visit's district. Everyone else
is refused on every route that could show or change it, and learns nothing from the answer."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from app.central import reviews
from app.extensions import db
from app.models import CentralVisit, Review
from tests.support.accounts import PASSWORD, make_device, make_user
from tests.support.casework import Casework, story_body


@pytest.fixture
def work(central_app) -> Casework:
    return Casework(central_app)


@pytest.fixture
def visit(work) -> dict:
    body = story_body()
    work.push(body)
    with work.app.app_context():
        found = db.session.get(CentralVisit, uuid.UUID(body["visit"]["id"]))
        return {"id": body["visit"]["id"], "sha256": found.sha256, "name": "Marlow"}


def routes(visit_id: str) -> list[tuple[str, str]]:
    return [
        ("get", f"/review/visits/{visit_id}"),
        ("post", f"/review/visits/{visit_id}/approve"),
        ("post", f"/review/visits/{visit_id}/return"),
    ]


def _csrf(client) -> str:
    client.get("/start")
    forms = [f for f in client.last_page.forms if f.hidden.get("csrf_token")]
    return forms[0].hidden["csrf_token"] if forms else ""


def attempt(client, method: str, url: str, sha256: str):
    if method == "get":
        return client.get(url)
    data = {"csrf_token": _csrf(client), "sha256": sha256, "comment": "Sneaky"}
    return client.post(url, data=data)


def assert_untouched(app, visit) -> None:
    with app.app_context():
        found = db.session.get(CentralVisit, uuid.UUID(visit["id"]))
        assert found.status == "received"
        assert db.session.scalars(select(Review)).all() == []


def test_a_team_leader_of_another_district_gets_404_everywhere(work, visit, central_client):
    central_client.sign_in(work.other_leader.email, PASSWORD)
    for method, url in routes(visit["id"]):
        response = attempt(central_client, method, url, visit["sha256"])
        assert response.status_code == 404, (method, url)
        body = response.get_data(as_text=True)
        assert visit["name"] not in body and visit["sha256"] not in body
    assert visit["id"] not in central_client.text("/review")
    assert_untouched(work.app, visit)


@pytest.mark.parametrize("who", ["hsc", "provider"])
def test_an_hsc_or_a_provider_cannot_see_or_decide(work, visit, central_client, who):
    user = work.hsc if who == "hsc" else work.providers["minor_adaptations"]
    central_client.sign_in(user.email, PASSWORD)
    for method, url in [("get", "/review"), *routes(visit["id"])]:
        response = attempt(central_client, method, url, visit["sha256"])
        assert response.status_code == 403, (who, method, url)
        assert visit["name"] not in response.get_data(as_text=True)
    assert_untouched(work.app, visit)


def test_signed_out_visitors_are_sent_to_sign_in(work, visit, central_app):
    client = central_app.test_client()
    for method, url in [("get", "/review"), *routes(visit["id"])]:
        response = getattr(client, method)(url)
        assert response.status_code in (302, 400), (method, url)
        if response.status_code == 302:
            assert "/sign-in" in response.location
    assert_untouched(work.app, visit)


def test_a_device_pulls_only_its_own_users_decisions(work, visit, central_app):
    """Another HSC's device sees nothing of this visit's review through the sync API."""
    with central_app.app_context():
        other = make_user("hsc", districts=("blaby",))
        _, token = make_device(other)
        leader = db.session.merge(work.leader)
        reviews.approve_visit(leader, uuid.UUID(visit["id"]), visit["sha256"])
    response = central_app.test_client().get(
        "/api/v1/sync/pull?cursor=0", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200
    assert response.get_json()["changes"] == []
    assert visit["id"] not in response.get_data(as_text=True)
