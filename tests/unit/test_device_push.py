"""The device's push: the request says exactly what the outbox holds, batches are cut by the
canonical JSON size of their bodies, and a page of results lands on the entries and visits."""

from __future__ import annotations

import json
import threading
import time
import uuid
from datetime import UTC

import pytest
from sqlalchemy import select

from app import queries
from app.extensions import db
from app.models import OutboxEntry, Visit
from sync import device
from sync.canonical import canonical_json
from sync.client import Encoded, TryLater
from sync.schemas import PROTOCOL
from tests.support.factories import enrol_offline, make_visit

RECEIVED = "2026-11-22T09:00:00.123456+00:00"
NAMES = ("Joan", "Zoë", "Łukasz 🙂")  # stored escaped; canonical JSON is UTF-8


class RecordingClient:
    """Answers each push with ``answer(mutations)``; keeps every request it was sent."""

    def __init__(self, answer) -> None:
        self.answer = answer
        self.requests: list[dict] = []

    def push(self, body) -> dict:
        self.requests.append(json.loads(body.text) if isinstance(body, Encoded) else body)
        return self.answer(self.requests[-1]["mutations"])


def created(mutation: dict) -> dict:
    receipt = {
        "visit_id": mutation["visit_id"],
        "revision": mutation["revision"],
        "sha256": mutation["sha256"],
        "received_at": RECEIVED,
    }
    return {**_echo(mutation), "status": "created", "receipt": receipt}


def _echo(mutation: dict) -> dict:
    return {k: mutation[k] for k in ("seq", "mutation_id", "visit_id")}


@pytest.fixture
def queued(app, profile) -> list[uuid.UUID]:
    with app.app_context():
        ids = []
        for name in NAMES:
            visit = make_visit(profile, resident={"given_name": name})
            ids.append(queries.save_consents(profile.id, visit.id, 0, {}, complete=True).id)
        enrol_offline(profile.id)
        return ids


def outbox() -> list[OutboxEntry]:
    db.session.rollback()
    return list(db.session.scalars(select(OutboxEntry).order_by(OutboxEntry.seq)))


def test_the_push_request_carries_each_entry_and_its_stored_body_unchanged(app, queued):
    with app.app_context():
        expected = [
            {
                "seq": entry.seq,
                "mutation_id": str(entry.mutation_id),
                "type": "visit.complete",
                "visit_id": str(entry.visit_id),
                "revision": entry.revision,
                "base_revision": entry.base_revision,
                "sha256": entry.sha256,
                "device_time": entry.created_at.replace(tzinfo=UTC).isoformat(),
                "body": entry.body,
            }
            for entry in outbox()
        ]
        state = device.device_state()
        device_id = str(state.device_id)
        client = RecordingClient(lambda mutations: {"results": [created(m) for m in mutations]})
        device.push_all(state, client, device.SyncReport())

    [request] = client.requests
    assert request["protocol"] == PROTOCOL
    assert request["device_id"] == device_id
    assert request["mutations"] == expected
    assert [m["body"]["resident"]["given_name"] for m in request["mutations"]] == list(NAMES)
    heartbeat = request["heartbeat"]
    assert (heartbeat["outbox_length"], heartbeat["oldest_unsynced_age_seconds"]) == (0, None)
    assert heartbeat["quarantine_count"] == 0


@pytest.mark.parametrize("cut", [0, 1, 2])
def test_a_batch_is_cut_where_the_bodies_canonical_json_passes_the_byte_cap(
    app, queued, monkeypatch, cut
):
    with app.app_context():
        sizes = [len(canonical_json(entry.body)) for entry in outbox()]
        # A cap the first ``cut`` + 1 bodies fit exactly: one byte more would not take another.
        monkeypatch.setattr(device, "BATCH_BYTES", sum(sizes[: cut + 1]))
        client = RecordingClient(lambda mutations: {"results": [created(m) for m in mutations]})
        device.push_all(device.device_state(), client, device.SyncReport())
    assert len(client.requests[0]["mutations"]) == cut + 1
    assert sum(len(r["mutations"]) for r in client.requests) == len(NAMES)


@pytest.mark.parametrize("cut", [1, 2])
def test_a_cap_one_byte_short_of_a_body_leaves_that_body_for_the_next_push(
    app, queued, monkeypatch, cut
):
    with app.app_context():
        sizes = [len(canonical_json(entry.body)) for entry in outbox()]
        monkeypatch.setattr(device, "BATCH_BYTES", sum(sizes[: cut + 1]) - 1)
        client = RecordingClient(lambda mutations: {"results": [created(m) for m in mutations]})
        device.push_all(device.device_state(), client, device.SyncReport())
    assert len(client.requests[0]["mutations"]) == cut
    assert sum(len(r["mutations"]) for r in client.requests) == len(NAMES)


def test_one_push_results_are_recorded_on_the_entries_and_their_visits(app, queued):
    def answer(mutations: list[dict]) -> dict:
        first, second, _ = mutations  # central stopped before the third
        conflict = {**_echo(second), "status": "conflict", "code": "SYNC_CONFLICT"}
        conflict |= {"message": "Changed on the office system.", "server_revision": 2}
        return {"results": [created(first), conflict], "halted_at": second["seq"] + 1}

    report = device.SyncReport()
    with app.app_context():
        with pytest.raises(TryLater):
            device.push_all(device.device_state(), RecordingClient(answer), report)
        entries = outbox()
        visits = [db.session.get(Visit, visit_id) for visit_id in queued]

    assert report.pushed == {"created": 1, "conflict": 1}
    assert [e.state for e in entries] == ["acknowledged", "conflict", "queued"]
    assert [e.attempts for e in entries] == [1, 1, 1]
    assert entries[0].receipt["received_at"] == RECEIVED
    assert entries[0].acknowledged_at is not None and entries[0].problem == {}
    assert entries[1].problem == {
        "code": "SYNC_CONFLICT",
        "message": "Changed on the office system.",
        "errors": None,
        "server_revision": 2,
    }
    assert [v.office_status for v in visits] == ["received", "conflict", ""]
    assert [v.central_revision for v in visits] == [1, 0, 0]
    assert visits[0].received_at.isoformat() == "2026-11-22T09:00:00.123456"
    assert [v.received_at for v in visits[1:]] == [None, None]


class ScriptedClient(RecordingClient):
    """The n-th push gets ``script[n]`` (an exception to raise, or ``None``: every record
    created); later pushes have every record created."""

    def __init__(self, script: dict[int, Exception]) -> None:
        super().__init__(lambda mutations: {"results": [created(m) for m in mutations]})
        self.script = script
        self.in_flight = self.most_in_flight = 0
        self.lock = threading.Lock()

    def push(self, body) -> dict:
        with self.lock:
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            time.sleep(0.05)  # long enough for a second request to overlap, were one sent
            answer = super().push(body)
            if (failure := self.script.get(len(self.requests))) is not None:
                raise failure
            return answer
        finally:
            with self.lock:
                self.in_flight -= 1


def sent_seqs(client: RecordingClient) -> list[list[int]]:
    return [[m["seq"] for m in request["mutations"]] for request in client.requests]


def test_requests_go_one_at_a_time_in_seq_order_and_each_entry_is_acknowledged_once(
    app, queued, monkeypatch
):
    monkeypatch.setattr(device, "BATCH_RECORDS", 1)
    client = ScriptedClient({})
    with app.app_context():
        seqs = [entry.seq for entry in outbox()]
        report = device.SyncReport()
        device.push_all(device.device_state(), client, report)
        entries = outbox()
    assert sent_seqs(client) == [[seq] for seq in seqs]
    assert client.most_in_flight == 1  # never two requests at once
    assert report.pushed == {"created": 3}
    assert [(e.state, e.attempts) for e in entries] == [("acknowledged", 1)] * 3
    # Each request's heartbeat leaves out the entries in flight: its own and the one before.
    assert [r["heartbeat"]["outbox_length"] for r in client.requests] == [2, 1, 0]


def test_too_large_for_the_next_request_sends_what_is_left_in_smaller_batches(
    app, queued, monkeypatch
):
    monkeypatch.setattr(device, "BATCH_RECORDS", 2)
    client = ScriptedClient({2: device.TooLarge("too large")})
    with app.app_context():
        first, second, third = (entry.seq for entry in outbox())
        device.push_all(device.device_state(), client, device.SyncReport())
        entries = outbox()
    # The first two went; the next request (the third alone, batches of two) was too large,
    # so the third went again in a batch of one.
    assert sent_seqs(client) == [[first, second], [third], [third]]
    assert [(e.state, e.attempts) for e in entries] == [
        ("acknowledged", 1),
        ("acknowledged", 1),
        ("acknowledged", 2),
    ]


def test_a_halted_push_stops_there_and_the_request_made_ready_is_never_sent(
    app, queued, monkeypatch
):
    monkeypatch.setattr(device, "BATCH_RECORDS", 1)
    client = RecordingClient(lambda mutations: {"results": [], "halted_at": mutations[0]["seq"]})
    with app.app_context():
        with pytest.raises(TryLater):
            device.push_all(device.device_state(), client, device.SyncReport())
        entries = outbox()
    assert len(client.requests) == 1
    assert [(e.state, e.attempts) for e in entries] == [("queued", 1), ("queued", 0), ("queued", 0)]


def test_when_the_next_request_fails_the_results_of_the_one_before_are_kept(
    app, queued, monkeypatch
):
    monkeypatch.setattr(device, "BATCH_RECORDS", 1)
    client = ScriptedClient({2: TryLater("office server not reachable")})
    with app.app_context():
        with pytest.raises(TryLater):
            device.push_all(device.device_state(), client, device.SyncReport())
        entries = outbox()
        visits = [db.session.get(Visit, entry.visit_id) for entry in entries]
    assert len(client.requests) == 2
    assert [(e.state, e.attempts) for e in entries] == [
        ("acknowledged", 1),
        ("sent", 1),  # the outcome is unknown: it is sent again next time
        ("queued", 0),
    ]
    assert [v.office_status for v in visits] == ["received", "", ""]
