"""Central's sync API in-process: an HSC with an enrolled device, and valid wire bodies."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

import pytest

from app.central import accounts
from app.central.account_rules import AccountDetails
from app.db import write_transaction
from sync.canonical import sha256_of
from tests.browser.journey import CASE_STORIES

STORY = CASE_STORIES["case-story-1"]
NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


class Api:
    def __init__(self, app, token: str, device_id: uuid.UUID, user_id: uuid.UUID) -> None:
        self.app = app
        self.client = app.test_client()
        self.token = token
        self.device_id = device_id
        self.user_id = user_id
        self.seq = 0

    def headers(self, token: str | None = None) -> dict:
        return {"Authorization": f"Bearer {token or self.token}"}

    def push(self, *mutations: dict, token: str | None = None, **over):
        body = {
            "protocol": 1,
            "device_id": str(self.device_id),
            "heartbeat": heartbeat(),
            "mutations": list(mutations),
            **over,
        }
        return self.client.post("/api/v1/sync/push", json=body, headers=self.headers(token))

    def pull(self, cursor: int = 0, token: str | None = None):
        return self.client.get(f"/api/v1/sync/pull?cursor={cursor}", headers=self.headers(token))

    def mutation(
        self,
        body: dict | None = None,
        *,
        revision: int = 1,
        base: int = 0,
        mutation_id: uuid.UUID | None = None,
    ) -> dict:
        body = body or visit_body()
        self.seq += 1
        return {
            "seq": self.seq,
            "mutation_id": str(mutation_id or uuid.uuid4()),
            "type": "visit.complete",
            "visit_id": body["visit"]["id"],
            "revision": revision,
            "base_revision": base,
            "sha256": sha256_of(body),
            "device_time": NOW.isoformat(),
            "body": body,
        }


def heartbeat(**over) -> dict:
    return {
        "outbox_length": 1,
        "oldest_unsynced_age_seconds": 60,
        "quarantine_count": 0,
        "app_version": "0.1.0",
        "form_versions": ["housing-mot@1"],
        "device_clock": NOW.isoformat(),
        **over,
    }


def visit_body(
    visit_id: uuid.UUID | None = None, resident_id: uuid.UUID | None = None, **answers: Any
) -> dict:
    resident = dict(STORY["resident"])
    resident["id"] = str(resident_id or uuid.uuid4())
    return {
        "visit": {
            "id": str(visit_id or uuid.uuid4()),
            "setting": "home",
            "referral_source": "gp",
            "first_contact_date": date(2026, 11, 2).isoformat(),
            "visit_date": date(2026, 11, 9).isoformat(),
            "form_id": "housing-mot",
            "form_version": 1,
            "completed_at": NOW.isoformat(),
        },
        "resident": resident,
        "answers": {**STORY["answers"], **answers},
        "consents": {"handyperson": "yes", "minor_adaptations": "yes"},
    }


def make_device(app, email: str = "sam@example.org") -> tuple[str, uuid.UUID, uuid.UUID]:
    with app.app_context():
        details = AccountDetails(name="Sam Patel", email=email, role="hsc", districts=("blaby",))
        user = accounts.create_user(None, details, "a long password 1")
        with write_transaction():
            device, token = accounts.new_device(user, "tablet", datetime(2026, 11, 22))
        return token, device.id, user.id


@pytest.fixture
def api(central_app) -> Api:
    token, device_id, user_id = make_device(central_app)
    return Api(central_app, token, device_id, user_id)
