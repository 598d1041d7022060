"""Pull: a user's changes after a commit-ordered cursor, with the reference data."""

from __future__ import annotations

from app.db import write_transaction
from sync import server
from tests.sync.conftest import Api, make_device, visit_body


def test_pull_returns_the_receipts_after_the_cursor_in_order(api: Api):
    first, second = visit_body(), visit_body()
    api.push(api.mutation(first), api.mutation(second))
    page = api.pull(0).json
    assert [c["kind"] for c in page["changes"]] == ["visit.received", "visit.received"]
    assert [c["id"] for c in page["changes"]] == [first["visit"]["id"], second["visit"]["id"]]
    seqs = [c["server_seq"] for c in page["changes"]]
    assert seqs == sorted(seqs) and page["next_cursor"] == seqs[-1] and not page["has_more"]
    assert api.pull(page["next_cursor"]).json["changes"] == []


def test_pull_carries_the_users_profile_and_the_form_versions(api: Api):
    reference = api.pull(0).json["reference"]
    assert reference["profile"]["email"] == "sam@example.org"
    assert reference["profile"]["ta_level"] == "none"
    assert {"id": "housing-mot", "version": 1} in reference["forms"]


def test_a_user_sees_only_their_own_changes(central_app, api: Api):
    api.push(api.mutation())
    token, device_id, user_id = make_device(central_app, "other@example.org")
    other = Api(central_app, token, device_id, user_id)
    assert other.pull(0).json["changes"] == []


def test_pull_pages_with_has_more(central_app, api: Api):
    with central_app.app_context(), write_transaction():
        for _ in range(5):
            server.log_change(api.user_id, "visit.received", api.device_id, {"revision": 1})
    with central_app.app_context():
        from app.extensions import db
        from app.models import User

        user = db.session.get(User, api.user_id)
        page = server.pull_page(user, 0, limit=2)
        assert len(page["changes"]) == 2 and page["has_more"]
        rest = server.pull_page(user, page["next_cursor"], limit=10)
        assert len(rest["changes"]) == 3 and not rest["has_more"]


def test_a_cursor_ahead_of_the_server_is_refused_with_a_stable_code(api: Api):
    response = api.pull(10_000)
    assert response.status_code == 409 and response.json["error"] == "CURSOR_AHEAD"


def test_a_cursor_that_is_not_a_number_is_refused(api: Api):
    response = api.client.get("/api/v1/sync/pull?cursor=-1", headers=api.headers())
    assert response.status_code == 400 and response.json["error"] == "BAD_CURSOR"
