"""Sync benchmark: how fast completed visits reach central, and what an idle pull costs.

1. Push throughput. A real central process (waitress, WAL, ``synchronous=FULL``) and a field
   database enrolled to it, with 10,000 completed visits in the outbox. For batch sizes 1, 100
   and 500 a fresh central receives them through ``sync.device.push_all``, the device's own
   code (outbox reads, gzip, HTTP, results written back), timed in-process. Batch 1 is timed
   over its first 1,000 pushes; every run stops at a time cap (``--cap``) if it has not drained.
   Baseline, the physical ceiling (sync-reference §2.6, §6): the same bodies written straight
   into a copy of central's database with stdlib sqlite3 (WAL/FULL, foreign keys on), the seven
   rows central stores per visit, ``BEGIN IMMEDIATE … COMMIT`` every 500 visits. Each push run
   is bracketed by the ceiling, measured just before and just after it (median of 3 each), and
   compared with their mean, so a change in the machine's speed during the run moves both
   figures. Each batch size is pushed ``--runs`` times (3), each run to a fresh central, and
   the medians are reported, as the ceiling's own figures are medians. Target: at batch 500, a
   median of at least 25% of the ceiling.
2. Pull with nothing new: p50/p95/max of ``GET /api/v1/sync/pull?cursor=<latest>`` over
   keep-alive sessions to two centrals, with 1,000 and 100,000 visits (change_log rows spread
   over five users), requests alternating; baseline ``GET /_status`` on the same path.
   Targets: p95 < 10 ms, and no slower at 100,000 (p95 ratio <= 1.5).

It asserts what it measured (central holds exactly the visits the device acknowledged, once
each; the pulls return nothing) but never fails on a timing: it prints PASS, MISS or INFO and
exits 0. The load average is printed: the figures mean little on a busy machine.
Run from the repo root: ``python bench/sync_bench.py``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from contextlib import closing, suppress
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402
from flask_migrate import upgrade  # noqa: E402

from app import create_app, queries  # noqa: E402
from app.auth import hash_passphrase  # noqa: E402
from app.extensions import db  # noqa: E402
from app.runtime import tune_gc  # noqa: E402
from bench.common import copy_db, open_db, pct, rows  # noqa: E402
from sync import device  # noqa: E402
from sync.canonical import sha256_of  # noqa: E402
from sync.client import SyncClient  # noqa: E402
from sync.schemas import PROTOCOL  # noqa: E402
from tests.browser.journey import CASE_STORIES  # noqa: E402
from tests.support.factories import resident_fields, visit_fields  # noqa: E402
from tests.support.nodes import CentralNode, FieldNode  # noqa: E402

EMAIL, PASSPHRASE = "bench.hsc@example.org", "bench passphrase 1"
BATCHES, ONE_BY_ONE, COMMIT_EVERY, PULLS, WARMUP = (1, 100, 500), 1_000, 500, 300, 10
NOW = "2026-11-22 09:00:00.000000"
# The rows central's push stores per visit: the ceiling writes them, the pull setup too.
COLUMNS = {
    "central_resident": "id given_name family_name date_of_birth address_line_1 address_line_2"
    " town postcode district phone nhs_number updated_at",
    "central_visit": "id resident_id user_id device_id district setting form_id form_version"
    " sha256 received_at updated_at kind referral_source first_contact_date visit_date"
    " first_received_at revision status flags",
    "visit_revision": "visit_id sha256 body device_id mutation_id device_time server_time"
    " revision clock_offset_seconds",
    "sync_mutation": "mutation_id device_id device_seq fingerprint result created_at",
    "change_log": "server_seq user_id record_id payload at kind",
    "central_audit_event": "at actor_id device_id record_id action record_type note",
    "ingest_job": "visit_id queued_at revision ordered attempts last_error",
}
FIXED = {"revision": "1", "status": "'received'", "clock_offset_seconds": "0.5", "flags": "'[]'"}
FIXED |= {"change_log.kind": "'visit.received'", "action": "'visit_created'"}
FIXED |= {"record_type": "'visit'"}
FIXED |= {"note": "'revision 1'", "ordered": "'{}'", "attempts": "0", "last_error": "''"}
INSERTS = {
    table: f"INSERT INTO {table} ({', '.join(names.split())}) VALUES "  # noqa: S608 - constants
    f"({', '.join(FIXED.get(f'{table}.{name}', FIXED.get(name, '?')) for name in names.split())})"
    for table, names in COLUMNS.items()
}
COUNT = "SELECT count(*), count(DISTINCT {0}) FROM {1}"
UNIQUE = {"central_visit": "id", "central_resident": "id", "sync_mutation": "mutation_id"}
UNIQUE |= {"visit_revision": "visit_id || '/' || revision", "change_log": "record_id"}


def clone_bodies(text: str, count: int):
    """``count`` copies of a visit body with fresh visit and resident ids (and surnames)."""
    for i in range(count):
        body, vid, rid = json.loads(text), uuid.uuid4(), uuid.uuid4()
        body["visit"]["id"], body["resident"]["id"] = str(vid), str(rid)
        body["resident"]["family_name"] += f" {i + 1}"
        yield vid, rid, body


def build_field(path: Path, count: int) -> None:
    """A field database: one visit completed through app.queries (which queues its outbox
    entry), then cloned with fresh ids, mutation ids and recomputed hashes in one transaction."""
    app = create_app("field", "test", SQLALCHEMY_DATABASE_URI=f"sqlite:///{path}")
    with app.app_context():
        upgrade()
        hsc = queries.create_profile("Bench HSC", EMAIL, hash_passphrase(PASSPHRASE))
        visit = queries.start_visit(hsc, resident_fields(), visit_fields(), ("housing-mot", 1))
        answers = CASE_STORIES["case-story-2"]["answers"]
        queries.save_answers(hsc.id, visit.id, "all", 0, answers, [], "")
        queries.save_consents(hsc.id, visit.id, 0, {"handyperson": "yes"}, True)
        db.engine.dispose()
    with closing(open_db(path)) as conn:
        conn.row_factory = sqlite3.Row
        tables = {t: [] for t in ("resident", "visit", "outbox")}
        resident, visit, entry = (
            dict(conn.execute(f"SELECT * FROM {t}").fetchone())  # noqa: S608 - fixed names
            for t in tables
        )
        for i, (vid, rid, body) in enumerate(clone_bodies(entry["body"], count - 1), start=2):
            tables["resident"].append(resident | {"id": rid.hex})
            tables["resident"][-1]["family_name"] = body["resident"]["family_name"]
            tables["visit"].append(visit | {"id": vid.hex, "resident_id": rid.hex})
            ids = {"seq": i, "visit_id": vid.hex, "mutation_id": uuid.uuid4().hex}
            tables["outbox"].append(entry | ids | {"body": json.dumps(body)})
            tables["outbox"][-1]["sha256"] = sha256_of(body)
        conn.execute("BEGIN IMMEDIATE")
        for table, values in [(t, v) for t, v in tables.items() if v]:
            names = ", ".join(values[0])
            marks = ", ".join(f":{n}" for n in values[0])
            sql = f"INSERT INTO {table} ({names}) VALUES ({marks})"  # noqa: S608 - fixed names
            conn.executemany(sql, values)
        conn.execute("COMMIT")


def central_rows(bodies, owners: list[tuple[str, str]], first_seq: int) -> dict[str, list]:
    """Central's seven rows per visit as sqlite3 parameters; visit i belongs to
    ``owners[i % len(owners)]`` (user id, device id)."""
    out: dict[str, list[tuple]] = {table: [] for table in INSERTS}
    for i, (body, text, sha, mutation) in enumerate(bodies):
        (user, dev), v, r = owners[i % len(owners)], body["visit"], body["resident"]
        vid, rid = uuid.UUID(v["id"]).hex, uuid.UUID(r["id"]).hex
        receipt = {"visit_id": v["id"], "revision": 1, "sha256": sha, "received_at": NOW}
        result = {"seq": i + 1, "mutation_id": str(mutation), "visit_id": v["id"]}
        result |= {"status": "created", "receipt": receipt}
        person = [r[k] for k in ("given_name", "family_name", "date_of_birth", "address_line_1")]
        person += [r[k] for k in ("address_line_2", "town", "postcode", "district", "phone")]
        out["central_resident"].append((rid, *person, r["nhs_number"], NOW))
        form = (v["setting"], v["form_id"], v["form_version"])
        about = (v["kind"], v["referral_source"], v["first_contact_date"], v["visit_date"], NOW)
        out["central_visit"].append(
            (vid, rid, user, dev, r["district"], *form, sha, NOW, NOW, *about)
        )
        out["visit_revision"].append((vid, sha, text, dev, mutation.hex, NOW, NOW))
        fingerprint = hashlib.sha256(text.encode()).hexdigest()
        result = json.dumps(result)
        out["sync_mutation"].append((mutation.hex, dev, i + 1, fingerprint, result, NOW))
        out["change_log"].append((first_seq + i, user, v["id"], json.dumps(receipt), NOW))
        out["central_audit_event"].append((NOW, user, dev, v["id"]))
        out["ingest_job"].append((vid, NOW))
    return out


def insert(conn: sqlite3.Connection, tables: dict[str, list[tuple]], every: int) -> None:
    for start in range(0, len(tables["change_log"]), every):
        conn.execute("BEGIN IMMEDIATE")
        for table, sql in INSERTS.items():
            if table in tables:
                conn.executemany(sql, tables[table][start : start + every])
        conn.execute("COMMIT")


def ceiling_rows(template: Path, field_db: Path) -> dict[str, list[tuple]]:
    """The parameters of central's seven rows for every queued visit (JSON text included),
    prepared once, before any clock starts."""
    queued = rows(field_db, "SELECT body, sha256, mutation_id FROM outbox ORDER BY seq")
    bodies = [(json.loads(t), t, sha, uuid.UUID(m)) for t, sha, m in queued]
    return central_rows(bodies, rows(template, "SELECT user_id, id FROM device"), 1)


def raw_ceiling(template: Path, directory: Path, tables: dict, runs: int = 3) -> float:
    """Visits/s: central's seven rows per visit, durably committed 500 visits at a time into
    a copy of a fresh central database. Median of 3."""
    visits, rates = len(tables["change_log"]), []
    for run in range(runs):
        copy_db(template, path := directory / f"ceiling-{run}.db")
        with closing(open_db(path)) as conn:
            count = "SELECT count(*) FROM {}"
            before = {t: conn.execute(count.format(t)).fetchone()[0] for t in INSERTS}
            start = time.perf_counter_ns()
            insert(conn, tables, COMMIT_EVERY)
            rates.append(visits / ((time.perf_counter_ns() - start) / 1e9))
            for table in INSERTS:
                (n,) = conn.execute(count.format(table)).fetchone()
                assert n - before[table] == visits, (table, n)
    return statistics.median(rates)


class Enough(Exception):
    """Stop here: enough pushes, or the time cap is reached."""


@dataclass
class TimedClient(SyncClient):
    """The device's client, counting pushes and timing their HTTP round trips."""

    stop_after: int | None = None
    deadline: int = 0
    pushes: int = 0
    http_ns: int = 0
    stopped: str = ""

    def push(self, body) -> dict:
        if self.pushes == self.stop_after:
            self.stopped = f"first {self.pushes:,} pushes only"
        elif self.pushes and time.perf_counter_ns() > self.deadline:  # at least one push
            self.stopped = f"stopped at the time cap after {self.pushes:,} pushes"
        if self.stopped:
            raise Enough
        start = time.perf_counter_ns()
        try:
            return super().push(body)
        finally:
            self.http_ns += time.perf_counter_ns() - start
            self.pushes += 1


def start_central(directory: Path, worker: bool = True) -> tuple[CentralNode, str]:
    """A fresh central process with the HSC's account, and an enrolment code for it; its
    ingest worker is a process of its own, as the Procfile runs it."""
    central = CentralNode(directory, separate_worker=True)
    code = central.create_hsc("Bench HSC", EMAIL)
    return central.start(worker=worker), code


def start_pair(directory: Path, template: Path, worker: bool) -> tuple[CentralNode, FieldNode]:
    """A fresh central, and a copy of the field database enrolled to it."""
    central, code = start_central(directory / "central", worker)
    field = FieldNode(directory / "field")
    try:
        copy_db(template, field.db_path)
        field.enrol(central.url, code, PASSPHRASE)
    except BaseException:
        central.stop()
        raise
    return central, field


def time_push(field_db: Path, batch: int, stop_after: int | None, cap: float) -> dict:
    """Drain the outbox with ``push_all`` in-process, until done, ``stop_after`` pushes or
    ``cap`` seconds. The clock stops when the last batch's results are stored."""
    app = create_app("field", "test", SQLALCHEMY_DATABASE_URI=f"sqlite:///{field_db}")
    stored, record = [], device._record

    def timed_record(answered, *args) -> None:  # timing only: the device's own function works
        record(answered, *args)
        if answered is not None:
            stored.append(time.perf_counter_ns())

    with app.app_context():
        state = device.device_state()
        client = TimedClient(state.central_url, state.token, stop_after=stop_after)
        device.BATCH_RECORDS, device.BATCH_BYTES = batch, 1 << 30  # the count is the limit
        device._record, report = timed_record, device.SyncReport()
        try:
            start = time.perf_counter_ns()
            client.deadline = start + int(cap * 1e9)
            with suppress(Enough):
                device.push_all(state, client, report)
        finally:
            device._record = record
        db.engine.dispose()
    assert set(report.pushed) <= {"created"}, report.pushed
    timed = {"visits": sum(report.pushed.values()), "ns": stored[-1] - start}
    return timed | {"http_ns": client.http_ns, "pushes": len(stored), "stopped": client.stopped}


def check_push(central_db: Path, field_db: Path, total: int, pushed: int) -> None:
    """Central holds exactly the visits the device acknowledged, each once; the rest are
    still in the outbox (after a full drain, every entry is acknowledged)."""
    for table, key in UNIQUE.items():  # as many rows as visits acknowledged, none twice
        assert rows(central_db, COUNT.format(key, table)) == [(pushed, pushed)], table
    states = dict(rows(field_db, "SELECT state, count(*) FROM outbox GROUP BY state"))
    assert states.get("acknowledged", 0) == pushed and sum(states.values()) == total, states
    acked = rows(field_db, "SELECT visit_id FROM outbox WHERE state = 'acknowledged'")
    assert set(acked) == set(rows(central_db, "SELECT id FROM central_visit"))
    query = "SELECT count(*) FROM visit WHERE central_revision = 1 AND office_status = 'received'"
    assert rows(field_db, query) == [(pushed,)]


def wait_for_referrals(central_db: Path, visits: int, cap: float) -> float | None:
    """Seconds until the ingest worker has made every received visit's referrals (no job
    left, no visit still ``processing``), or ``None`` at the cap. Then each visit has some."""
    start = time.perf_counter()
    query = "SELECT (SELECT count(*) FROM ingest_job) + (SELECT count(*) FROM central_visit"
    query += " WHERE status = 'processing')"
    while rows(central_db, query) != [(0,)]:
        if time.perf_counter() - start > cap:
            return None
        time.sleep(0.05)
    took = time.perf_counter() - start
    made = "SELECT count(DISTINCT visit_id) FROM referral WHERE kind = 'referral'"
    assert rows(central_db, made) == [(visits,)], rows(central_db, made)
    return took


def seed_central(path: Path, body: str, users: list[tuple[str, str]], count: int) -> int:
    """Bulk-insert ``count`` visits, taking turns over ``users``; returns the latest cursor."""
    with closing(open_db(path, synchronous="OFF")) as conn:
        (seq,) = conn.execute("SELECT value FROM sync_counter WHERE id = 1").fetchone()
        for done in range(0, count, 10_000):
            chunk = [
                (b, json.dumps(b), sha256_of(b), uuid.uuid4())
                for _, _, b in clone_bodies(body, min(10_000, count - done))
            ]
            tables = central_rows(chunk, users, seq + 1)
            del tables["ingest_job"]  # these visits' referrals are long since made
            insert(conn, tables, 10_000)
            seq += len(chunk)
        conn.execute("UPDATE sync_counter SET value = ? WHERE id = 1", (seq,))
    return seq


def add_users(path: Path, count: int) -> list[tuple[str, str]]:
    """Other HSCs, each with a device, inserted directly: their visits fill the change log."""
    added = [(uuid.uuid4().hex, uuid.uuid4().hex, i) for i in range(count)]
    with closing(open_db(path)) as conn:
        conn.executemany(
            "INSERT INTO user_account (id, name, email, password_hash, role, ta_level,"
            " ta_supervisor, active, profile_version, created_at) VALUES (?, 'Other HSC',"
            " 'other' || ? || '@example.org', 'x', 'hsc', 'none', '', 1, 1, ?)",
            [(user, i, NOW) for user, _, i in added],
        )
        conn.executemany(
            "INSERT INTO device (id, user_id, token_hash, name, enrolled_at, heartbeat)"
            " VALUES (?, ?, ?, 'other', ?, '{}')",
            [(dev, user, dev * 2, NOW) for user, dev, _ in added],
        )
    return [(user, dev) for user, dev, _ in added]


def pull_central(directory: Path, body: str, size: int):
    """A central with ``size`` visits over five users, and a keep-alive session for one of
    them whose device has already seen everything (its cursor is the latest)."""
    central, code = start_central(directory)
    try:
        answer = SyncClient(central.url).enrol(code, "bench", device.APP_VERSION, PROTOCOL)
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {answer['token']}"
        me = (uuid.UUID(answer["profile"]["user_id"]).hex, uuid.UUID(answer["device_id"]).hex)
        cursor = seed_central(central.db_path, body, [me, *add_users(central.db_path, 4)], size)
        assert rows(central.db_path, "SELECT count(*) FROM change_log") == [(size,)]
    except BaseException:
        central.stop()
        raise
    return central, session, f"{central.url}/api/v1/sync/pull", cursor


def measure_pulls(directory: Path, body: str, sizes: list[int]) -> dict:
    """Requests alternate between the centrals, so a change in machine load hits both; a
    ``GET /_status`` (one ``SELECT 1`` through the same stack) is the baseline."""
    nodes, samples = {}, {"status": []} | {size: [] for size in sizes}
    try:
        for size in sizes:
            began = time.perf_counter()
            nodes[size] = pull_central(directory / f"pull-{size}", body, size)
            print(f"  central with {size:,} visits ({size:,} change_log rows, 5 users) ", end="")
            print(f"seeded in {time.perf_counter() - began:.1f} s")
        for i in range(WARMUP + PULLS):
            for size, (_, session, url, cursor) in nodes.items():
                start = time.perf_counter_ns()
                response = session.get(url, params={"cursor": cursor}, timeout=10)
                if i >= WARMUP:
                    samples[size].append(time.perf_counter_ns() - start)
                page = response.json()
                assert response.status_code == 200, page
                assert page["changes"] == [] and page["next_cursor"] == cursor, page
            start = time.perf_counter_ns()
            assert session.get(url.replace("/api/v1/sync/pull", "/_status"), timeout=10).ok
            if i >= WARMUP:
                samples["status"].append(time.perf_counter_ns() - start)
    finally:
        for central, *_ in nodes.values():
            central.stop()
    return samples


def push_run(directory: Path, template: Path, batch: int, args, tables: dict) -> dict:
    """One push of every queued visit to a fresh central, bracketed by the raw ceiling
    measured just before and just after it; the run's figures and its ratio to that ceiling."""
    fresh = directory / "ceiling-template.db"
    during = args.worker == "during"
    central, field = start_pair(directory / f"push-{batch}", template, during)
    try:
        if not tables:
            copy_db(central.db_path, fresh)  # central as it is before any push
            tables.update(ceiling_rows(fresh, template))
        before = raw_ceiling(fresh, directory, tables)
        stop = ONE_BY_ONE if batch == 1 else None
        timed = time_push(field.db_path, batch, stop, args.cap)
        if not during:
            central.start_worker()
        timed["drain"] = wait_for_referrals(central.db_path, timed["visits"], 600)
        check_push(central.db_path, field.db_path, args.visits, timed["visits"])
    finally:
        central.stop()
        shutil.rmtree(directory / f"push-{batch}", ignore_errors=True)
    after = raw_ceiling(fresh, directory, tables)
    timed["rate"] = timed["visits"] / (timed["ns"] / 1e9)
    timed["ceiling"] = ceiling = (before + after) / 2
    timed["ratio"] = timed["rate"] / ceiling
    print(f"  run: ceiling (raw sqlite3, median of 3) {before:,.0f}/s before, ", end="")
    print(f"{after:,.0f}/s after, mean {ceiling:,.0f} visits/s")
    print_push(batch, timed, args.visits)
    return timed


def ratio_of(run: dict) -> float:
    return run["ratio"]


def print_push(batch: int, timed: dict, total: int) -> None:
    rate, http_ms = timed["rate"], timed["http_ns"] / 1e6 / timed["visits"]
    print(f"    batch {batch:>3} {rate:25,.1f} visits/s  {timed['ratio']:6.2%} of ceiling")
    done, seconds = f"{timed['visits']:,} of {total:,}", timed["ns"] / 1e9
    pushes = f"{timed['pushes']:,} push" + ("es" if timed["pushes"] != 1 else "")
    print(f"    {done} visits in {pushes}, {seconds:.1f} s", end="")
    print(f" ({timed['stopped']})" if timed["stopped"] else "")
    alone = f"alone {1e3 / http_ms:,.0f} visits/s"
    print(f"    per visit: HTTP round trip {http_ms:.2f} ms ({alone}),", end="")
    print(" device not overlapped with it", end="")
    print(f" {1e3 / rate - http_ms:.2f} ms")
    drain = timed["drain"]
    print("    referrals: ingest worker ", end="")
    print(f"done {drain:.1f} s after the last receipt" if drain is not None else "not done")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visits", type=int, default=10_000)
    parser.add_argument("--pull-sizes", type=int, nargs=2, default=[1_000, 100_000])
    parser.add_argument("--cap", type=float, default=40, help="seconds per batch size")
    parser.add_argument(
        "--batches", type=int, nargs="+", default=list(BATCHES), help="batch sizes to push"
    )
    parser.add_argument(
        "--runs", type=int, default=3, help="push runs per batch size (the median is taken)"
    )
    parser.add_argument("--no-pull", action="store_true", help="measure the push only")
    parser.add_argument(
        "--worker",
        choices=("during", "after"),
        default="during",
        help="run central's ingest worker during the push (as deployed) or start it after",
    )
    args = parser.parse_args()
    tune_gc()  # the device's side runs here: as in the field node's server process (serve)
    began, directory = time.perf_counter(), Path(tempfile.mkdtemp(prefix="hmot-sync-bench-"))
    os.environ["HMOT_INSTANCE_DIR"] = str(directory / "instance")
    load = "load average {:.2f} {:.2f} {:.2f}"
    print(f"Housing MOT sync benchmark: {os.cpu_count()} CPUs, Python {platform.python_version()}")
    print(f"  SQLite {sqlite3.sqlite_version}, {platform.platform()}, in {directory}")
    print(f"  {load.format(*os.getloadavg())}")
    try:
        template = directory / "template-field.db"
        build_field(template, args.visits)
        ((body, size),) = rows(template, "SELECT body, length(body) FROM outbox LIMIT 1")
        print(f"\n1. Setup: {args.visits:,} completed visits queued in the outbox in ", end="")
        print(f"{time.perf_counter() - began:.1f} s ({size:,} B of JSON per body)")

        print(f"\n2. Push {args.visits:,} visits to a fresh central (waitress) per batch size")
        pushed, tables = {}, {}
        for batch in args.batches:
            print(f"  batch {batch}, {args.runs} run{'s' if args.runs != 1 else ''}:")
            runs = [push_run(directory, template, batch, args, tables) for _ in range(args.runs)]
            pushed[batch] = {
                "rate": statistics.median(run["rate"] for run in runs),
                "ratio": statistics.median(run["ratio"] for run in runs),
            }
            ratios = ", ".join(f"{run['ratio']:.1%}" for run in sorted(runs, key=ratio_of))
            print(f"  batch {batch}: median {pushed[batch]['rate']:,.1f} visits/s, ", end="")
            print(f"median {pushed[batch]['ratio']:.2%} of ceiling (runs: {ratios})")
        print("  checked after each run: central holds exactly the acknowledged visits (visit,")
        print("  resident, revision, mutation, change_log rows), no duplicates; the rest queued")

        small, large = args.pull_sizes
        pulls = {} if args.no_pull else measure_pulls(directory, body, args.pull_sizes)
        if pulls:
            print(f"\n3. Pull with nothing new: {PULLS} GETs ?cursor=<latest> each, keep-alive")
        p95 = {n: pct(samples, 0.95) for n, samples in pulls.items()}
        for n, samples in pulls.items():
            p50, top = pct(samples, 0.5), max(samples) / 1e6
            label = "GET /_status (baseline)" if n == "status" else f"pull, {n:,} visits"
            figures = f"p50 {p50:6.2f} ms  p95 {p95[n]:6.2f} ms  max {top:6.2f} ms"
            print(f"  {label:<24} {figures}", end="")
            print("" if n == "status" else f"  {p95[n] / p95['status']:4.1f}x")
        if pulls:
            ratio = p95[large] / p95[small]
            print(f"  p95({large:,}) / p95({small:,}) = {ratio:.2f}")

        print(f"\nSummary ({args.visits:,} visits)")
        summary = [(f"push batch {n}", "-", f"{pushed[n]['rate']:,.1f}/s", None) for n in pushed]
        if 500 in pushed:
            efficiency = pushed[500]["ratio"]
            summary.append(
                ("push batch 500, of ceiling", ">= 25%", f"{efficiency:.2%}", efficiency >= 0.25)
            )
        if pulls:
            summary += [
                (f"pull p95, {small:,} visits", "< 10 ms", f"{p95[small]:.2f} ms", p95[small] < 10),
                (f"pull p95, {large:,} visits", "< 10 ms", f"{p95[large]:.2f} ms", p95[large] < 10),
                (f"pull p95 {large:,} / {small:,}", "<= 1.5", f"{ratio:.2f}", ratio <= 1.5),
            ]
        for name, target, value, passed in summary:
            verdict = "INFO" if passed is None else ("PASS" if passed else "MISS")
            print(f"  {name:<31} target {target:<8} measured {value:>10}  {verdict}")
        print(f"  runtime {time.perf_counter() - began:.1f} s; {load.format(*os.getloadavg())}")
    finally:
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
