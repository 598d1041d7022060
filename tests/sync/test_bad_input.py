"""Bad input to the sync API: a 4xx with a stable code and message, never a 500, no change."""

from __future__ import annotations

import gzip
import json
import uuid

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import CentralVisit, SyncMutation
from sync.errors import ERRORS
from tests.sync.conftest import Api, heartbeat, make_device


def nothing_stored(app) -> bool:
    with app.app_context():
        visits = db.session.scalar(select(func.count()).select_from(CentralVisit))
        mutations = db.session.scalar(select(func.count()).select_from(SyncMutation))
    return visits == 0 and mutations == 0


def assert_error(response, status: int, code: str) -> None:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.json["error"] == code
    assert response.json["message"] == ERRORS[code].message


def valid_push(api: Api) -> dict:
    return {
        "protocol": 1,
        "device_id": str(api.device_id),
        "heartbeat": heartbeat(),
        "mutations": [api.mutation()],
    }


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"{not json", "MALFORMED_BODY"),
        (b"[1, 2]", "MALFORMED_BODY"),
        (b"\xff\xfe", "MALFORMED_BODY"),
        (b'{"protocol": NaN}', "MALFORMED_BODY"),  # NaN and the infinities are not JSON
        (b'{"protocol": 1, "mutations": [Infinity]}', "MALFORMED_BODY"),
        (b'{"protocol": 1, "mutations": [-Infinity]}', "MALFORMED_BODY"),
        (b'{"protocol": 2}', "UNSUPPORTED_PROTOCOL"),
        (b'{"protocol": "1"}', "UNSUPPORTED_PROTOCOL"),
    ],
)
def test_malformed_bodies_are_refused(api: Api, data, code):
    response = api.client.post(
        "/api/v1/sync/push", data=data, headers=api.headers(), content_type="application/json"
    )
    assert_error(response, 400, code)
    assert nothing_stored(api.app)


def test_unknown_fields_are_refused_with_a_clear_error(api: Api):
    body = valid_push(api)
    body["sneaky"] = True
    response = api.client.post("/api/v1/sync/push", json=body, headers=api.headers())
    assert_error(response, 400, "VALIDATION_FAILED")
    assert response.json["detail"]["sneaky"] == ["Unknown field."]
    assert nothing_stored(api.app)


def test_wrong_types_are_refused_field_by_field(api: Api):
    body = valid_push(api)
    body["heartbeat"]["outbox_length"] = "many"
    body["mutations"] = "all of them"
    response = api.client.post("/api/v1/sync/push", json=body, headers=api.headers())
    assert_error(response, 400, "VALIDATION_FAILED")
    assert set(response.json["detail"]) == {"heartbeat", "mutations"}


def test_an_unknown_field_inside_a_record_rejects_only_that_record(api: Api):
    body = valid_push(api)
    body["mutations"][0]["body"]["resident"]["favourite_colour"] = "green"
    result = api.client.post("/api/v1/sync/push", json=body, headers=api.headers()).json
    assert result["results"][0]["status"] == "rejected"
    assert "favourite_colour" in json.dumps(result["results"][0]["errors"])
    with api.app.app_context():
        assert db.session.scalar(select(func.count()).select_from(CentralVisit)) == 0


def test_a_huge_body_is_refused_as_too_large(api: Api):
    response = api.client.post(
        "/api/v1/sync/push",
        data=b"x" * (9 * 1024 * 1024),
        headers=api.headers(),
        content_type="application/json",
    )
    assert_error(response, 413, "PAYLOAD_TOO_LARGE")


def test_a_gzip_bomb_is_refused_as_too_large(api: Api):
    bomb = gzip.compress(b" " * (20 * 1024 * 1024))
    assert len(bomb) < 100_000
    response = api.client.post(
        "/api/v1/sync/push",
        data=bomb,
        content_type="application/json",
        headers={**api.headers(), "Content-Encoding": "gzip"},
    )
    assert_error(response, 413, "PAYLOAD_TOO_LARGE")


def test_a_truncated_gzip_body_is_refused(api: Api):
    data = gzip.compress(json.dumps(valid_push(api)).encode())[:-20]
    response = api.client.post(
        "/api/v1/sync/push",
        data=data,
        content_type="application/json",
        headers={**api.headers(), "Content-Encoding": "gzip"},
    )
    assert_error(response, 400, "MALFORMED_BODY")
    assert nothing_stored(api.app)


def test_a_gzipped_push_is_accepted(api: Api):
    data = gzip.compress(json.dumps(valid_push(api)).encode())
    response = api.client.post(
        "/api/v1/sync/push",
        data=data,
        content_type="application/json",
        headers={**api.headers(), "Content-Encoding": "gzip"},
    )
    assert response.status_code == 200
    assert response.json["results"][0]["status"] == "created"


def test_an_unknown_content_encoding_is_refused(api: Api):
    response = api.client.post(
        "/api/v1/sync/push",
        data=b"{}",
        content_type="application/json",
        headers={**api.headers(), "Content-Encoding": "br"},
    )
    assert_error(response, 415, "UNSUPPORTED_ENCODING")


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer not-a-token", "Basic abc"])
def test_a_missing_or_unknown_token_is_unauthenticated(api: Api, header):
    headers = {"Authorization": header} if header else {}
    response = api.client.post("/api/v1/sync/push", json=valid_push(api), headers=headers)
    assert_error(response, 401, "UNAUTHENTICATED")
    assert_error(
        api.client.get("/api/v1/sync/pull?cursor=0", headers=headers), 401, "UNAUTHENTICATED"
    )
    assert nothing_stored(api.app)


def test_a_forged_device_id_is_refused(api: Api):
    body = valid_push(api)
    body["device_id"] = str(uuid.uuid4())
    response = api.client.post("/api/v1/sync/push", json=body, headers=api.headers())
    assert_error(response, 403, "NOT_PERMITTED")
    assert nothing_stored(api.app)


def test_another_devices_token_cannot_push_for_this_device(central_app, api: Api):
    token, _, _ = make_device(central_app, "other@example.org")
    response = api.client.post(
        "/api/v1/sync/push", json=valid_push(api), headers=api.headers(token)
    )
    assert_error(response, 403, "NOT_PERMITTED")
    assert nothing_stored(api.app)


def test_a_revoked_device_is_refused_at_once(api: Api):
    from app.central import accounts

    with api.app.app_context():
        accounts.revoke_device(None, api.device_id)
    assert_error(api.push(api.mutation()), 403, "DEVICE_REVOKED")
    assert_error(api.pull(0), 403, "DEVICE_REVOKED")
    assert nothing_stored(api.app)


def test_unknown_api_addresses_and_methods_answer_json(api: Api):
    assert_error(api.client.get("/api/v1/sync/nothing"), 404, "NOT_FOUND")
    assert_error(
        api.client.get("/api/v1/sync/push", headers=api.headers()), 405, "METHOD_NOT_ALLOWED"
    )


def test_a_number_too_large_for_64_bits_is_refused_as_not_an_integer(api: Api):
    body = valid_push(api)
    body["mutations"][0]["revision"] = 2**64
    response = api.client.post(
        "/api/v1/sync/push",
        data=json.dumps(body),
        headers=api.headers(),
        content_type="application/json",
    )
    [result] = response.json["results"]
    assert (result["status"], result["code"]) == ("rejected", "RECORD_REJECTED")
    assert result["errors"] == {"revision": ["Not a valid integer."]}
    assert nothing_stored(api.app)
