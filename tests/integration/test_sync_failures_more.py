"""More failure injection (sync-reference §7): A4, A7, B14, D22, E25, F31, F32, F33.

Like ``test_sync_failures.py``, these run central as a real process and each device's sync
as ``python -m app field sync`` in a process of its own, through a fault-injecting proxy,
and end by checking the invariants against both databases. To keep the suite fast, nodes
start from the session's migrated template databases and accounts and enrolment codes are
made in-process on central's database; only the enrolment itself runs the device's CLI.

The fleet of nodes is ``tests.support.fleet``.
"""

from __future__ import annotations

import gzip
import json
import random
import sqlite3
import string
import uuid
from contextlib import closing
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import requests
from flask import Flask

from app import queries
from app.db import write_transaction
from app.extensions import db
from app.models import CentralVisit
from sync import device as device_sync
from sync import server, worker
from sync.canonical import sha256_of
from sync.client import Refused, SyncClient, TryLater
from sync.device import SyncReport
from tests.browser.journey import CASE_STORIES
from tests.integration.conftest import EMAIL, rows
from tests.support.factories import enrol_offline
from tests.support.fleet import assert_central_consistent, hex_id, in_app

PASSWORD = "a long password 1"
YEAR = 365 * 24 * 3600


# A4 -----------------------------------------------------------------------------------------


def test_a4_a_push_slower_than_the_read_timeout_is_retried_and_applied_once(fleet, tmp_path):
    fleet.start_central(HMOT_FAULT="slow_push=6", HMOT_FAULT_ONCE=str(tmp_path / "slowed"))
    sam = fleet.add_device("Sam Patel", EMAIL)
    sam.complete_visits(2)
    first = sam.sync(HMOT_SYNC_READ_TIMEOUT="1")
    assert first.returncode != 0
    assert "ReadTimeout" in first.stderr, first.stderr
    assert (tmp_path / "slowed").exists()  # central is still inside that push, holding the lock
    assert {r[2] for r in sam.outbox()} == {"sent"}  # the outcome is unknown on the device
    retry = sam.sync()  # waits for the write lock, then gets the stored results
    assert retry.returncode == 0, retry.stderr
    assert "'unchanged': 2" in retry.stdout and "created" not in retry.stdout, retry.stdout
    assert sam.proxy.requests_seen("/sync/push") == ["pass", "pass"]
    assert len(rows(fleet.central.db_path, "SELECT * FROM visit_revision")) == 2
    sam.assert_converged()


# A7 -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("failures", range(12))
def test_a7_full_jitter_draws_anywhere_between_zero_and_the_capped_exponential(
    monkeypatch, failures
):
    monkeypatch.setattr(worker, "random", random.Random(failures))
    bound = min(worker.BACKOFF_CAP, worker.BACKOFF_BASE * 2**failures)
    draws = [worker.full_jitter(failures) for _ in range(2000)]
    assert all(0 <= d <= bound for d in draws)
    assert min(draws) < 0.05 * bound and max(draws) > 0.95 * bound  # full jitter, not fixed
    assert 0.45 * bound < sum(draws) / len(draws) < 0.55 * bound


class SimulatedTime:
    """Stands in for the worker's wake-up Event: records each wait and moves time on."""

    def __init__(self) -> None:
        self.now = 0.0
        self.waits: list[float] = []

    def wait(self, timeout: float | None = None) -> bool:
        self.waits.append(timeout)
        self.now += timeout
        return False

    def set(self) -> None:
        pass

    def clear(self) -> None:
        pass


OUTAGE = 600.0  # ten minutes of 503s / 429s


@pytest.mark.parametrize(
    ("error", "retry_after", "most_attempts"),
    [
        ("503 SERVER_BUSY", 120.0, 6),  # maintenance: every wait is at least the two minutes
        ("429 TOO_MANY_REQUESTS", 5.0, 20),
        ("503 SERVER_BUSY", 1.0, 20),
        ("office server not reachable (ConnectionError)", None, 20),
    ],
)
def test_a7_through_an_outage_the_worker_waits_at_least_retry_after_and_backs_off(
    monkeypatch, error, retry_after, most_attempts
):
    monkeypatch.setattr(worker, "random", random.Random(7))
    app = Flask(__name__)
    app.config["SYNC_INTERVAL_SECONDS"] = 30.0
    sync_worker = worker.SyncWorker(app)
    clock = SimulatedTime()
    sync_worker.wakeup = clock
    attempts: list[float] = []

    def fake_sync_once() -> SyncReport:
        attempts.append(clock.now)
        if clock.now < OUTAGE:
            return SyncReport(ran=True, error=error, retry_after=retry_after)
        sync_worker.stop()  # the server is back: this sync succeeds, then the test ends
        return SyncReport(ran=True, pushed={"created": 1})

    monkeypatch.setattr(worker, "sync_once", fake_sync_once)
    sync_worker.run()

    during = [w for t, w in zip(attempts, clock.waits, strict=True) if t < OUTAGE]
    assert len(during) <= most_attempts, f"{len(during)} attempts in ten minutes: {during}"
    assert all(w >= (retry_after or 0) for w in during), during
    assert all(w <= max(worker.BACKOFF_CAP, retry_after or 0) for w in during), during
    assert len(set(during)) > 1 or retry_after == 120.0  # jittered, not a fixed beat
    assert clock.waits[-1] == 30.0 and sync_worker.failures == 0  # back to the normal interval


def test_a7_an_unexpected_error_in_a_sync_backs_off_too(monkeypatch):
    monkeypatch.setattr(worker, "random", random.Random(11))
    app = Flask(__name__)
    sync_worker = worker.SyncWorker(app)
    clock = SimulatedTime()
    sync_worker.wakeup = clock

    def broken_sync_once() -> SyncReport:
        if clock.now >= OUTAGE:
            sync_worker.stop()
        raise RuntimeError("a bug in the sync")

    monkeypatch.setattr(worker, "sync_once", broken_sync_once)
    sync_worker.run()
    assert len(clock.waits) <= 20, clock.waits
    assert all(0 <= w <= worker.BACKOFF_CAP for w in clock.waits)


class AnsweringSession:
    """A requests session whose every request gets the same canned answer."""

    def __init__(self, status: int, headers: dict[str, str], body: dict) -> None:
        self.status, self.headers, self.body = status, headers, body

    def request(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        response = requests.Response()
        response.status_code = self.status
        response.headers.update({"Content-Type": "application/json", **self.headers})
        response._content = json.dumps(self.body).encode()
        return response


@pytest.mark.parametrize(
    ("status", "code", "retry_after"),
    [(503, "SERVER_BUSY", "120"), (429, "TOO_MANY_REQUESTS", "7"), (409, "PUSH_IN_PROGRESS", "1")],
)
def test_a7_retry_after_reaches_the_sync_report_the_worker_reads(app, status, code, retry_after):
    session = AnsweringSession(status, {"Retry-After": retry_after}, {"error": code})
    client = SyncClient("http://central.invalid", "token", session=session)
    with pytest.raises(TryLater) as caught:
        client.push({})
    assert caught.value.retry_after == float(retry_after)

    with app.app_context():
        profile = queries.create_profile("Sam Patel", EMAIL, "x")
        enrol_offline(profile.id)
        report = device_sync.sync_once(lambda state: SyncClient(state.central_url, session=session))
        assert report.ran and report.retry_after == float(retry_after)
        assert report.error.startswith(str(status)), report.error
        assert device_sync.device_state().sync_lease_until is None  # released for the retry


# B14 ----------------------------------------------------------------------------------------


def test_b14_a_poison_record_halts_its_devices_batch_there_and_nothing_else(fleet):
    fleet.start_central(HMOT_FAULT="poison=POISON")
    sam, alex = fleet.add_devices(("Sam Patel", EMAIL), ("Alex Jones", "alex.hsc@example.org"))
    before, poisoned, after = sam.complete_each([{}, {"WM_GOALS": "POISON"}, {}])

    for attempt in (1, 2):  # a retry halts at the same record: it is never skipped
        halted = sam.sync()
        assert halted.returncode != 0
        assert "stopped part way" in halted.stderr, halted.stderr
        assert set(sam.central_visits()) == {before}  # the earlier record is committed
        assert sam.outbox_states() == {
            before: "acknowledged",
            poisoned: "queued",
            after: "queued",
        }
        assert sam.state()["failures"] == attempt
    [(poisoned_seq,)] = rows(
        sam.field.db_path, "SELECT seq FROM outbox WHERE visit_id = ?", hex_id(poisoned)
    )
    log = fleet.central.log_path.read_text()
    assert f"push halted: device {uuid.UUID(sam.state()['device_id'])}, seq {poisoned_seq}" in log

    # Another device syncs normally meanwhile.
    alex.complete_visits(2)
    assert alex.sync().returncode == 0
    alex.assert_converged()

    # Central's bug is fixed (restarted without the fault): everything arrives, once.
    fleet.central.stop()
    fleet.central.env.pop("HMOT_FAULT")
    fleet.central.start()
    fixed = sam.sync()
    assert fixed.returncode == 0, fixed.stderr
    assert set(sam.central_visits()) == {before, poisoned, after}
    sam.assert_converged()
    alex.assert_converged()


# D22 ----------------------------------------------------------------------------------------


def visit_body(**answers: Any) -> dict[str, Any]:
    story = CASE_STORIES["case-story-1"]
    return {
        "visit": {
            "id": str(uuid.uuid4()),
            "setting": "home",
            "referral_source": "gp",
            "first_contact_date": date(2026, 11, 2).isoformat(),
            "visit_date": date(2026, 11, 9).isoformat(),
            "form_id": "housing-mot",
            "form_version": 1,
            "completed_at": "2026-11-09T10:00:00+00:00",
        },
        "resident": {**story["resident"], "id": str(uuid.uuid4())},
        "answers": {**story["answers"], **answers},
        "consents": {"handyperson": "yes"},
    }


class SkewedDevice:
    """A device speaking the protocol directly, with whatever clock a test gives it."""

    def __init__(self, client: SyncClient, device_id: str) -> None:
        self.client = client
        self.device_id = device_id
        self.seq = 0

    def mutation(
        self, body: dict, clock: datetime, revision: int = 1, base: int = 0
    ) -> dict[str, Any]:
        self.seq += 1
        return {
            "seq": self.seq,
            "mutation_id": str(uuid.uuid4()),
            "type": "visit.complete",
            "visit_id": body["visit"]["id"],
            "revision": revision,
            "base_revision": base,
            "sha256": sha256_of(body),
            "device_time": clock.isoformat(),
            "body": body,
        }

    def push(self, clock: datetime, *mutations: dict) -> list[dict]:
        heartbeat = {
            "outbox_length": len(mutations),
            "oldest_unsynced_age_seconds": 60,
            "quarantine_count": 0,
            "app_version": "0.1.0",
            "form_versions": ["housing-mot@1"],
            "device_clock": clock.isoformat(),
        }
        body = {
            "protocol": 1,
            "device_id": self.device_id,
            "heartbeat": heartbeat,
            "mutations": list(mutations),
        }
        return self.client.push(body)["results"]


def test_d22_a_device_clock_a_year_out_changes_no_ordering_dedup_or_conflict_outcome(fleet):
    central = fleet.start_central()
    code = fleet.enrolment_code("Dee Skew", "dee.hsc@example.org")
    now = datetime.now(UTC)
    ahead, behind = now + timedelta(seconds=YEAR), now - timedelta(seconds=YEAR)
    with requests.Session() as session:
        client = SyncClient(central.url, session=session)
        enrolled = client.enrol(code, "skewed tablet", "0.1.0", 1)
        client.token = enrolled["token"]
        tablet = SkewedDevice(client, enrolled["device_id"])

        def offset() -> float:
            [(value,)] = rows(
                central.db_path,
                "SELECT clock_offset_seconds FROM device WHERE id = ?",
                hex_id(tablet.device_id),
            )
            return value

        first, second, third = visit_body(), visit_body(), visit_body()
        a = tablet.mutation(first, ahead)
        assert [r["status"] for r in tablet.push(ahead, a)] == ["created"]
        assert offset() == pytest.approx(-YEAR, abs=600)  # central records the skew

        b, c = tablet.mutation(second, behind), tablet.mutation(third, behind)
        assert [r["status"] for r in tablet.push(behind, b, c)] == ["created", "created"]
        assert offset() == pytest.approx(YEAR, abs=600)

        # The clock jumps a year forward again: a replay is still a replay (device_time is
        # not part of the fingerprint), and a "newer" write of the same revision is still a
        # conflict, never last-writer-wins.
        replay = {**a, "device_time": behind.isoformat()}
        other = tablet.mutation({**third, "answers": {**third["answers"], "F1": "yes"}}, ahead)
        results = tablet.push(ahead, replay, other)
        assert [r["status"] for r in results] == ["unchanged", "conflict"]
        assert results[0]["replayed"] is True
        assert results[1]["server_sha256"] == c["sha256"]

        # Pull order is the order central applied the changes, whatever the device clocks.
        page = client.pull(0)
        seqs = [change["server_seq"] for change in page["changes"]]
        assert all(isinstance(s, int) for s in seqs) and seqs == sorted(set(seqs))
        assert [change["id"] for change in page["changes"]] == [
            first["visit"]["id"],
            second["visit"]["id"],
            third["visit"]["id"],
        ]
        assert page["next_cursor"] == seqs[-1] and isinstance(page["next_cursor"], int)
        assert client.pull(page["next_cursor"])["changes"] == []
        with pytest.raises(Refused) as ahead_of_server:
            client.pull(page["next_cursor"] + 1000)
        assert ahead_of_server.value.code == "CURSOR_AHEAD"

    stored = rows(
        central.db_path,
        "SELECT visit_id, sha256, clock_offset_seconds FROM visit_revision ORDER BY id",
    )
    assert [(r[0], r[1]) for r in stored] == [
        (hex_id(m["visit_id"]), m["sha256"]) for m in (a, b, c)
    ]
    assert [round(r[2] / YEAR) for r in stored] == [-1, 1, 1]  # kept for display and audit
    assert_central_consistent(central)


# E25 ----------------------------------------------------------------------------------------


def test_e25_a_revision_on_a_stale_base_is_a_conflict_and_overwrites_nothing(fleet):
    fleet.start_central()
    sam = fleet.add_device("Sam Patel", EMAIL)
    [visit_id] = sam.complete_visits(1)
    assert sam.sync().returncode == 0
    sam.assert_converged()

    # A team leader returns the visit; the device pulls it and the HSC corrects it...
    with in_app(fleet.central), write_transaction():
        visit = db.session.get(CentralVisit, uuid.UUID(visit_id))
        visit.status = "returned"
        server.log_change(
            visit.user_id,
            "visit.returned",
            visit.id,
            {"revision": 1, "comment": "Add the step height"},
        )
    assert sam.sync().returncode == 0
    [(status, office_status)] = rows(
        sam.field.db_path, "SELECT status, office_status FROM visit WHERE id = ?", hex_id(visit_id)
    )
    assert (status, office_status) == ("draft", "returned")

    # ...while revision 2 reaches central by another route.
    elsewhere = sha256_of({"revision 2": "from elsewhere"})
    with in_app(fleet.central), write_transaction():
        visit = db.session.get(CentralVisit, uuid.UUID(visit_id))
        visit.revision, visit.sha256 = 2, elsewhere
    with in_app(sam.field):
        profile = queries.get_profile_by_email(EMAIL)
        visit = queries.get_visit(profile.id, uuid.UUID(visit_id))
        queries.save_answers(
            profile.id, visit.id, "all", queries.section_rev(visit, "all"), {"F1": "yes"}, [], ""
        )
        rev = queries.section_rev(visit, queries.SUMMARY_KEY)
        queries.save_consents(profile.id, visit.id, rev, {}, complete=True)
    [first, correction] = sam.outbox()
    assert (correction[1], correction[2]) == (2, "queued")

    assert sam.sync().returncode == 0  # a conflict is a per-record answer, not a failure
    [first, correction] = sam.outbox()
    assert (first[2], correction[2]) == ("acknowledged", "conflict")
    [(problem, attempts)] = rows(
        sam.field.db_path, "SELECT problem, attempts FROM outbox WHERE state = 'conflict'"
    )
    assert json.loads(problem)["code"] == "SYNC_CONFLICT"
    assert json.loads(problem)["server_revision"] == 2
    [(office_status,)] = rows(
        sam.field.db_path, "SELECT office_status FROM visit WHERE id = ?", hex_id(visit_id)
    )
    assert office_status == "conflict"  # shown to the HSC, not resolved silently

    # Nothing on central was overwritten, and the conflict is not resent blindly.
    assert sam.central_visits()[visit_id][:3] == (2, elsewhere, "returned")
    assert rows(fleet.central.db_path, "SELECT revision, sha256 FROM visit_revision") == [
        (1, first[4])
    ]
    assert sam.sync().returncode == 0
    assert rows(sam.field.db_path, "SELECT attempts FROM outbox WHERE state = 'conflict'") == [
        (attempts,)
    ]
    [(heartbeat,)] = rows(fleet.central.db_path, "SELECT heartbeat FROM device")
    assert json.loads(heartbeat)["quarantine_count"] == 1  # visible centrally too
    [(result,)] = rows(
        fleet.central.db_path,
        "SELECT result FROM sync_mutation WHERE mutation_id = ?",
        correction[3],
    )
    assert json.loads(result)["status"] == "conflict"  # the stored answer for a replay


# F31 ----------------------------------------------------------------------------------------


def test_f31_a_mutation_id_resent_with_other_content_is_quarantined_not_applied(fleet):
    fleet.start_central()
    sam = fleet.add_device("Sam Patel", EMAIL)
    [visit_id] = sam.complete_visits(1)
    sam.proxy.then("drop_response")
    assert sam.sync().returncode != 0  # central applied it; the device did not hear
    [(seq, body, original_sha)] = rows(sam.field.db_path, "SELECT seq, body, sha256 FROM outbox")
    original = rows(fleet.central.db_path, "SELECT body, sha256 FROM visit_revision")

    # A client bug changes the in-flight entry's content under the same mutation id.
    changed = json.loads(body)
    changed["answers"]["WM_GOALS"] = "Something else entirely"
    with closing(sqlite3.connect(sam.field.db_path)) as connection, connection:
        connection.execute(
            "UPDATE outbox SET body = ?, sha256 = ? WHERE seq = ?",
            (json.dumps(changed), sha256_of(changed), seq),
        )

    assert sam.sync().returncode == 0
    [(state, problem)] = rows(sam.field.db_path, "SELECT state, problem FROM outbox")
    assert state == "quarantined"
    assert json.loads(problem)["code"] == "KEY_REUSED"
    # The pull still tells the device what central holds: the original, revision 1.
    assert rows(
        sam.field.db_path, "SELECT central_revision FROM visit WHERE id = ?", hex_id(visit_id)
    ) == [(1,)]
    assert rows(fleet.central.db_path, "SELECT body, sha256 FROM visit_revision") == original
    assert sam.central_visits()[visit_id][:2] == (1, original_sha)
    assert_central_consistent(fleet.central)


# F32 ----------------------------------------------------------------------------------------


def test_f32_an_unknown_protocol_is_refused_clearly_and_the_devices_data_stays(fleet, monkeypatch):
    fleet.start_central()
    sam = fleet.add_device("Sam Patel", EMAIL)
    sam.complete_visits(2)
    before = sam.outbox()
    token = sam.state()["token"]

    response = requests.post(
        f"{fleet.central.url}/api/v1/sync/push",
        json={"protocol": 2, "device_id": str(uuid.UUID(sam.state()["device_id"]))},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert response.status_code == 400
    assert response.json()["error"] == "UNSUPPORTED_PROTOCOL"
    assert "update" in response.json()["message"]
    assert response.json()["detail"] == {"supported": [1]}

    # The device's own sync, speaking a protocol central does not know.
    monkeypatch.setattr(device_sync, "PROTOCOL", 2)
    with in_app(sam.field), requests.Session() as session:
        report = device_sync.sync_once(
            lambda state: SyncClient(state.central_url, state.token, session=session)
        )
    assert report.ran and report.error.startswith("UNSUPPORTED_PROTOCOL"), report.error
    after = sam.outbox()
    assert [r[:2] + r[3:] for r in after] == [r[:2] + r[3:] for r in before]  # all kept as is
    assert {r[2] for r in after} == {"sent"}  # outcome unknown: sent again next time
    assert sam.central_visits() == {}
    assert rows(sam.field.db_path, "SELECT revoked FROM device_state") == [(0,)]

    assert sam.sync().returncode == 0  # the updated app (its own process) sends it all
    sam.assert_converged()


# F33 ----------------------------------------------------------------------------------------


def incompressible_text(rng: random.Random, length: int) -> str:
    return "".join(rng.choices(string.ascii_letters + string.digits + " ", k=length))


def test_f33_a_backlog_over_the_request_cap_is_sent_in_halved_batches(fleet):
    cap = 60_000
    fleet.start_central(HMOT_MAX_CONTENT_LENGTH=str(cap))
    sam = fleet.add_device("Sam Patel", EMAIL)
    rng = random.Random(33)
    sam.complete_each([{"WM_GOALS": incompressible_text(rng, 3000)} for _ in range(30)])
    whole = json.dumps(
        [json.loads(r[0]) for r in rows(sam.field.db_path, "SELECT body FROM outbox")]
    )
    assert len(gzip.compress(whole.encode())) > cap  # one push of everything is too large

    result = sam.sync()
    assert result.returncode == 0, result.stderr
    pushes = sam.proxy.requests_seen("/sync/push")
    assert len(pushes) >= 4, pushes  # all at once would be one push; each 413 costs one more
    assert len(sam.central_visits()) == 30
    sam.assert_converged()
