"""Central with casework in it: an HSC's device pushes case-story visits through the real sync
API (in process), so referrals are made exactly as on ingest in production.

``Casework(central_app)`` makes an HSC with a device, a team leader for the HSC's district,
a team leader elsewhere and one provider per service; ``push`` sends visit bodies and
returns the per-record results.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from app.extensions import db
from app.models.central import PROVIDER_SERVICES
from sync.canonical import sha256_of
from tests.browser.journey import CASE_STORIES
from tests.support.accounts import make_device, make_user

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


def story_body(
    story: str = "case-story-2",
    *,
    visit_id: uuid.UUID | str | None = None,
    resident_id: uuid.UUID | str | None = None,
    district: str = "blaby",
    consents: dict[str, str] | None = None,
    setting: str | None = None,
    referral_source: str | None = None,
    kind: str = "first",
    previous_visit_id: uuid.UUID | str | None = None,
    **answers: Any,
) -> dict:
    """A completed visit body for a case story; every referral consented to by default."""
    data = CASE_STORIES[story]
    resident = {**data["resident"], "id": str(resident_id or uuid.uuid4()), "district": district}
    consents = dict.fromkeys(data["expected_referrals"], "yes") if consents is None else consents
    return {
        "visit": {
            "id": str(visit_id or uuid.uuid4()),
            "setting": setting or data["visit"]["setting"],
            "kind": kind,
            "previous_visit_id": str(previous_visit_id) if previous_visit_id else None,
            "referral_source": referral_source or data["visit"]["referral_source"],
            "first_contact_date": date(2026, 11, 2).isoformat(),
            "visit_date": date(2026, 11, 9).isoformat(),
            "form_id": "housing-mot",
            "form_version": 1,
            "completed_at": NOW.isoformat(),
        },
        "resident": resident,
        "answers": {**data["answers"], **answers},
        "consents": consents,
    }


def _keep_loaded(user) -> None:
    """Load the user's fields and detach it, so tests can read them outside a context."""
    db.session.refresh(user)
    _ = user.district_names
    db.session.expunge(user)


class Casework:
    def __init__(self, app, district: str = "blaby", ta_level: str = "none") -> None:
        self.app = app
        self.api = app.test_client()
        self.seq = 0
        with app.app_context():
            self.hsc = make_user("hsc", name="Sam Patel", districts=(district,), ta_level=ta_level)
            device, self.token = make_device(self.hsc)
            self.device_id = device.id
            self.leader = make_user("team_leader", name="Terry Lead", districts=(district,))
            self.other_leader = make_user(
                "team_leader", name="Olga Elsewhere", districts=("melton",)
            )
            self.providers = {
                service: make_user("provider", name=f"{service} desk", provider_service=service)
                for service in PROVIDER_SERVICES
            }
            for user in (self.hsc, self.leader, self.other_leader, *self.providers.values()):
                _keep_loaded(user)
        self.revisions: dict[str, tuple[int, str]] = {}

    def push(
        self, *bodies: dict, revision: int | None = None, device_time: datetime = NOW
    ) -> list[dict]:
        mutations = []
        for body in bodies:
            visit_id = body["visit"]["id"]
            current, _ = self.revisions.get(visit_id, (0, ""))
            number = revision or current + 1
            self.seq += 1
            mutations.append(
                {
                    "seq": self.seq,
                    "mutation_id": str(uuid.uuid4()),
                    "type": "visit.complete",
                    "visit_id": visit_id,
                    "revision": number,
                    "base_revision": number - 1,
                    "sha256": sha256_of(body),
                    "device_time": device_time.isoformat(),
                    "body": body,
                }
            )
        self.last_request = {
            "protocol": 1,
            "device_id": str(self.device_id),
            "heartbeat": {
                "outbox_length": len(bodies),
                "oldest_unsynced_age_seconds": 60,
                "quarantine_count": 0,
                "app_version": "0.1.0",
                "form_versions": ["housing-mot@1"],
                "device_clock": NOW.isoformat(),
            },
            "mutations": mutations,
        }
        results = self.replay()
        for mutation, result in zip(mutations, results, strict=True):
            if result["status"] in ("created", "revised"):
                self.revisions[mutation["visit_id"]] = (mutation["revision"], mutation["sha256"])
        return results

    def replay(self) -> list[dict]:
        """Send the last push again, as a device does after a lost response."""
        response = self.api.post(
            "/api/v1/sync/push",
            json=self.last_request,
            headers={"Authorization": f"Bearer {self.token}"},
        )
        assert response.status_code == 200, response.get_json()
        return response.get_json()["results"]

    def pull(self, cursor: int = 0) -> dict:
        response = self.api.get(
            f"/api/v1/sync/pull?cursor={cursor}",
            headers={"Authorization": f"Bearer {self.token}"},
        )
        assert response.status_code == 200, response.get_json()
        return response.get_json()
