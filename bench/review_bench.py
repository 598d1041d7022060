"""Review benchmark: the team leader's queue and visit page with 100,000 visits on central.

1. Setup. A central database built by running the migrations, with a team leader and three
   HSCs (each with an enrolled device) for each of the seven districts, made by
   ``app.central.accounts``. A dozen *cases* (a case-story visit approved, awaiting review,
   returned, revised after a return, with no consent, from a hospital discharge, a
   follow-up visit...) go through the real code once: pushed in process through
   ``POST /api/v1/sync/push`` (as ``tests/support/casework.py`` does, so referrals are made
   exactly as on ingest) and decided with ``app.central.reviews``. Every row central wrote
   for each case (resident, visit, revisions, referrals, reviews, sync mutations, change log,
   audit events) is read back and cloned in bulk with stdlib sqlite3 until central holds
   100,000 visits (``--visits``) spread over the districts, HSCs and the last twelve months:
   each clone has new ids, a resident's name, recomputed hashes and its own timeline.
2. Two real central processes (waitress), one with 1,000 visits (``--small``) and one with
   100,000, each signed in to as the Blaby team leader through the sign-in page. Requests
   alternate between them: ``GET /review``, ``GET /review?page=<last>`` and
   ``GET /review/visits/<id>`` (a rotation of Blaby visits with one and with two revisions);
   baseline ``GET /_status`` on the same central, in the same rotation, and, as the floor
   of the visit page's audit write, one durable INSERT + COMMIT on a bare sqlite3
   connection (WAL, ``synchronous=FULL``). Target: p95 < 100 ms for the queue and the visit
   page with 100,000 visits.
3. With ``--profile``: each page in process (Flask test client) on the 100,000-visit
   database, timed, then under cProfile with the SQL statements counted and timed, and a
   breakdown of where a request's time goes.

It asserts what it measured (every response a 200 for the signed-in team leader, the
queue's count and its pages' visits, oldest first, equal to what was seeded, the resident's
name on the visit page, one ``visit_viewed`` audit event per visit page) but never fails
on a timing: it prints PASS, MISS or INFO and exits 0. The load average is printed.
Run from the repo root: ``python bench/review_bench.py``.
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import json
import os
import platform
import pstats
import random
import re
import shutil
import sqlite3
import sys
import tempfile
import time
import uuid
from collections import Counter
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from operator import itemgetter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402
from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import event, func, select, update  # noqa: E402

from app import create_app  # noqa: E402
from app.central import accounts, reviews  # noqa: E402
from app.central.account_rules import AccountDetails  # noqa: E402
from app.central.reviews import QUEUE_PAGE_SIZE  # noqa: E402
from app.db import write_transaction  # noqa: E402
from app.extensions import db  # noqa: E402
from app.models import CentralAuditEvent, CentralVisit, ChangeLogEntry, User  # noqa: E402
from app.models.field import utcnow  # noqa: E402
from app.visits.forms import DISTRICTS  # noqa: E402
from bench.common import copy_db, open_db, pct, rows  # noqa: E402
from sync import server  # noqa: E402
from sync.canonical import canonical_json, sha256_of  # noqa: E402
from tests.support.casework import story_body  # noqa: E402
from tests.support.nodes import CentralNode  # noqa: E402

LEADER_EMAIL, PASSWORD = "bench.lead@example.org", "bench password 1"
HOME = "blaby"  # the signed-in team leader's district
HSCS_PER_DISTRICT, WARMUP, CHUNK, SAMPLE = 3, 10, 2_000, 60
TARGET_MS = 100
EPOCH = datetime(2026, 1, 5, 9, 0)  # the cases' own timeline (naive UTC), shifted per clone
DAY = timedelta(days=1)
GIVEN, FAMILY = "Zzgivenzz", "Zzfamilyzz"  # the cases' resident, renamed in every clone
_NAMES = {
    "given": "Margaret Edith Joan Dorothy Patricia Barbara Jean Sheila Brenda Maureen Irene"
    " Eileen Doreen Pauline Kathleen John Peter David Michael Brian Alan Keith Roy Dennis"
    " Kenneth Ronald Derek Terence Graham Colin",
    "family": "Hollis Marlow Smith Jones Taylor Brown Wilson Johnson Wright Walker Robinson"
    " Thompson White Hughes Edwards Green Hall Wood Harris Lewis Martin Jackson Clarke Clark"
    " Turner Hill Scott Cooper Morris Ward Moore King Watson Baker Harrison Morgan Patel Young"
    " Allen Mitchell James Anderson Phillips Lee Bell Parker Davis Cook Bailey Kaur",
    "hsc": "Sam Patel, Tara Singh, Owen Price, Priya Shah, Dan Hughes, Lucy Ward, Amir Khan,"
    " Ruth Cole, Ben Fraser, Nina Lowe, Joe Bright, Kate Mills, Raj Gill, Emma Stone, Tom Reid,"
    " Sara Webb, Adam Fox, Leah Moss, Chris Dale, Jade Pike, Mo Akhtar",
}
GIVEN_NAMES, FAMILY_NAMES = _NAMES["given"].split(), _NAMES["family"].split()
HSC_NAMES = _NAMES["hsc"].split(", ")

TIMESTAMP = r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[+-]\d{2}:\d{2})?"
# Where a case's rows are, in the order they are inserted (foreign keys are on).
TABLES = (
    "central_resident",
    "central_visit",
    "visit_revision",
    "referral",
    "review",
    "sync_mutation",
    "change_log",
    "central_audit_event",
)
AUTOINCREMENT = {"visit_revision", "review", "central_audit_event"}  # ``id`` left to SQLite


def central_app(path: Path):
    return create_app("central", "test", SQLALCHEMY_DATABASE_URI=f"sqlite:///{path}")


# Accounts ---------------------------------------------------------------------------------


@dataclass
class Staff:
    leaders: dict[str, uuid.UUID]  # district -> team leader
    hscs: dict[str, list[tuple[uuid.UUID, uuid.UUID, str]]]  # district -> (user, device, token)


def add_user(name: str, email: str, role: str, district: str) -> User:
    details = AccountDetails(name=name, email=email, role=role, districts=(district,))
    details = details.normalised()
    assert accounts.check_account(details) == {}, details
    return accounts.create_user(None, details, PASSWORD)


def build_base(path: Path) -> Staff:
    """Migrations, then a team leader and HSCs (each with a device) for every district."""
    app, names = central_app(path), iter(HSC_NAMES)
    staff = Staff({}, {})
    with app.app_context():
        upgrade()
        for district, label in DISTRICTS:
            email = LEADER_EMAIL if district == HOME else f"lead.{district}@example.org"
            leader = add_user(f"{label} Team Leader", email, "team_leader", district)
            staff.leaders[district], staff.hscs[district] = leader.id, []
            for n in range(HSCS_PER_DISTRICT):
                email = f"hsc{n + 1}.{district}@example.org"
                user = add_user(next(names), email, "hsc", district)
                with write_transaction():
                    device, token = accounts.new_device(user, "Tablet", utcnow())
                staff.hscs[district].append((user.id, device.id, token))
        db.engine.dispose()
    return staff


# The cases: real pushes and decisions, once ---------------------------------------------


class Recorder:
    """Pushes visits through the real sync API (in process) at a chosen server time, and
    takes decisions through ``app.central.reviews`` at a chosen time."""

    def __init__(self, app, staff: Staff) -> None:
        self.app, self.api = app, app.test_client()
        _, self.device_id, self.token = staff.hscs[HOME][0]
        self.leader_id = staff.leaders[HOME]
        self.seq = 0
        self.revisions: dict[str, int] = {}

    def push(self, body: dict, at: datetime) -> None:
        visit_id = body["visit"]["id"]
        revision = self.revisions.get(visit_id, 0) + 1
        clock = at.replace(tzinfo=UTC).isoformat()
        body["visit"]["completed_at"] = clock
        self.seq += 1
        mutation = {
            "seq": self.seq,
            "mutation_id": str(uuid.uuid4()),
            "type": "visit.complete",
            "visit_id": visit_id,
            "revision": revision,
            "base_revision": revision - 1,
            "sha256": sha256_of(body),
            "device_time": clock,
            "body": body,
        }
        heartbeat = {
            "outbox_length": 1,
            "oldest_unsynced_age_seconds": 60,
            "quarantine_count": 0,
            "app_version": "0.1.0",
            "form_versions": ["housing-mot@1"],
            "device_clock": clock,
        }
        request = {"protocol": 1, "device_id": str(self.device_id), "heartbeat": heartbeat}
        real_clock = server.utcnow
        server.utcnow = lambda: at  # the server's time of this push
        try:
            response = self.api.post(
                "/api/v1/sync/push",
                json=request | {"mutations": [mutation]},
                headers={"Authorization": f"Bearer {self.token}"},
            )
        finally:
            server.utcnow = real_clock
        assert response.status_code == 200, response.get_json()
        (result,) = response.get_json()["results"]
        assert result["status"] in ("created", "revised"), result
        self.revisions[visit_id] = revision

    def decide(self, decision: str, visit_id: str, at: datetime) -> None:
        """Approve or return the latest revision at ``at``. The review, visit and referral
        rows take ``at`` from the call; the change-log and audit rows it adds are stamped
        with the clock, so they are moved to ``at`` too."""
        with self.app.app_context():
            leader = db.session.get(User, self.leader_id)
            visit = db.session.get(CentralVisit, uuid.UUID(visit_id))
            seq = db.session.scalar(select(func.max(ChangeLogEntry.server_seq)))
            audited = db.session.scalar(select(func.max(CentralAuditEvent.id)))
            if decision == "approve":
                reviews.approve_visit(leader, visit.id, visit.sha256, now=at)
            else:
                comment = "Please check the heating questions with the resident and send again."
                reviews.return_visit(leader, visit.id, visit.sha256, comment, now=at)
            with write_transaction():
                db.session.execute(
                    update(ChangeLogEntry).where(ChangeLogEntry.server_seq > seq).values(at=at)
                )
                db.session.execute(
                    update(CentralAuditEvent).where(CentralAuditEvent.id > audited).values(at=at)
                )
            db.session.remove()


def body_for(story: str, resident_id: str, at: datetime, **over) -> dict:
    """A case-story body for the case's resident, dated by the case's timeline."""
    body = story_body(story, resident_id=resident_id, district=HOME, **over)
    body["resident"] |= {"given_name": GIVEN, "family_name": FAMILY}
    body["visit"]["first_contact_date"] = (at - 16 * DAY).date().isoformat()
    body["visit"]["visit_date"] = (at - 2 * DAY).date().isoformat()
    return body


# Changed on a second revision, after the team leader returned the first.
REVISED = {
    "case-story-1": {"P10": 5, "G_LIFESTYLE": "yes"},
    "case-story-2": {"G4": "yes", "G6": "yes", "P10": 6},
}


def case_steps(name: str, rec: Recorder, resident: str) -> None:
    """Run one case through the real code: pushes and decisions on the case's timeline."""
    t0 = EPOCH
    story = "case-story-1" if name.endswith("-s1") else "case-story-2"
    over = {
        "no-consent": {"consents": {}},
        "discharge": {"referral_source": "hospital_discharge", "consents": {"handyperson": "yes"}},
        "clinic": {"setting": "gp_clinic"},
    }
    options = next((v for k, v in over.items() if k in name), {})
    body = body_for(story, resident, t0, **options)
    visit = body["visit"]["id"]
    rec.push(body, t0)
    if name.startswith("two-revisions"):
        rec.decide("return", visit, t0 + DAY)
        body = json.loads(json.dumps(body))
        body["answers"] |= REVISED[story]
        rec.push(body, t0 + 3 * DAY)
        t0 += 3 * DAY
    if name.startswith("follow-up"):
        rec.decide("approve", visit, t0 + 2 * DAY)
        later = t0 + 56 * DAY
        extra = {"WM_RATING_AFTER": "4", "WM_ACHIEVED": "yes"}
        follow = body_for(story, resident, later, kind="follow_up", previous_visit_id=visit)
        follow["answers"] |= extra
        rec.push(follow, later)
        visit, t0 = follow["visit"]["id"], later
    if name.startswith("returned"):
        rec.decide("return", visit, t0 + DAY)
    elif "awaiting" not in name:
        rec.decide("approve", visit, t0 + 2 * DAY)


# Case name -> weight (cases drawn per clone). The names say what each case is; -s1 and -s2
# are the two case stories. About 5% of visits end up awaiting review.
CASES = {
    "approved-s2": 30,
    "approved-s1": 24,
    "approved-no-consent-s2": 6,
    "approved-discharge-s1": 5,
    "approved-clinic-s2": 5,
    "two-revisions-approved-s2": 7,
    "follow-up-approved-s1": 6,
    "awaiting-s2": 2.2,
    "awaiting-discharge-s1": 0.6,
    "two-revisions-awaiting-s1": 0.8,
    "follow-up-awaiting-s2": 0.8,
    "returned-s2": 0.6,
}


SEP = "\x1f"  # between a table's text values in its one format string


@dataclass
class Compiled:
    """A case's rows of one table: the constants, one ``str.format`` template for all the
    text that names the case (joined with SEP), and an itemgetter per row that picks each
    column from ``constants + formatted``."""

    columns: list[str]
    constants: list
    format: str
    getters: list[itemgetter]


@dataclass
class Template:
    """A case's rows as central wrote them, with every value that names the case (ids,
    hashes, times, dates, the resident's name, the HSC, the district) made a placeholder."""

    name: str
    weight: float
    tables: dict[str, list[dict]]
    visits: list[tuple[str, int, str, datetime]]  # (old hex id, revisions, status, received)
    anchor: datetime  # the case's last receipt: a clone's timeline is set by it
    uuids: list[uuid.UUID] = field(default_factory=list)
    ids: list[tuple[str, str]] = field(default_factory=list)  # each uuid, as hex and as text
    times: dict[str, datetime] = field(default_factory=dict)
    dates: list[str] = field(default_factory=list)
    revisions: list[tuple[str, str, int, str]] = field(default_factory=list)  # sha, fp, rev, visit
    keys: list[str] = field(default_factory=list)  # the placeholders, in format-index order
    # Each revision's body as canonical JSON (sync.canonical), as a format: its hash is the
    # SHA-256 of the formatted text, as only string values change between clones.
    canonical: list[str] = field(default_factory=list)
    compiled: dict[str, Compiled] = field(default_factory=dict)

    @property
    def awaiting(self) -> bool:
        return any(status != "approved" for _, _, status, _ in self.visits)


def read_case(conn: sqlite3.Connection, name: str, visit_ids: list[str]) -> Template:
    """Every row central holds for the case's visits, as dicts."""

    def fetch(table: str, where: str, values, order: str = "rowid") -> list[dict]:
        marks = ", ".join("?" * len(values))
        sql = f"SELECT * FROM {table} WHERE {where} IN ({marks}) ORDER BY {order}"  # noqa: S608
        return [dict(row) for row in conn.execute(sql, list(values))]

    hexes = [uuid.UUID(v).hex for v in visit_ids]
    tables = {"central_visit": fetch("central_visit", "id", hexes)}
    tables["central_resident"] = fetch(
        "central_resident", "id", {v["resident_id"] for v in tables["central_visit"]}
    )
    tables["visit_revision"] = fetch("visit_revision", "visit_id", hexes, "visit_id, revision")
    tables["referral"] = fetch("referral", "visit_id", hexes)
    tables["review"] = fetch("review", "visit_id", hexes)
    mutations = [r["mutation_id"] for r in tables["visit_revision"]]
    tables["sync_mutation"] = fetch("sync_mutation", "mutation_id", mutations)
    records = visit_ids + [str(uuid.UUID(r["id"])) for r in tables["referral"]]
    tables["change_log"] = fetch("change_log", "record_id", records, "server_seq")
    tables["central_audit_event"] = fetch("central_audit_event", "record_id", records, "id")
    received = {r["id"]: datetime.fromisoformat(r["received_at"]) for r in tables["central_visit"]}
    visits = [
        (
            h,
            max(r["revision"] for r in tables["visit_revision"] if r["visit_id"] == h),
            s,
            received[h],
        )
        for h, s in ((v["id"], v["status"]) for v in tables["central_visit"])
    ]
    return Template(name, CASES[name], tables, visits, max(received.values()))


def record_cases(base: Path, path: Path, staff: Staff) -> list[Template]:
    """Each case through the real push and review code on a copy of the base database."""
    copy_db(base, path)
    app = central_app(path)
    rec, made = Recorder(app, staff), {}
    for name in CASES:
        resident = str(uuid.uuid4())
        before = set(rec.revisions)
        case_steps(name, rec, resident)
        made[name] = [v for v in rec.revisions if v not in before]
    with app.app_context():
        db.engine.dispose()
    with closing(sqlite3.connect(path)) as conn:
        conn.row_factory = sqlite3.Row
        templates = [read_case(conn, name, ids) for name, ids in made.items()]
        for table in TABLES:  # every row the cases wrote belongs to one case
            (total,) = conn.execute(f"SELECT count(*) FROM {table}").fetchone()  # noqa: S608
            (before,) = rows(base, f"SELECT count(*) FROM {table}")[0]  # noqa: S608
            assert total - before == sum(len(t.tables[table]) for t in templates), table
    for template in templates:
        tokenise(template, staff)
    return templates


def tokenise(template: Template, staff: Staff) -> None:
    """Check the case's hashes, then split every text value into literal parts and
    placeholders (ids, hashes, times, dates, names, people, district) and compile each
    table's rows into one format string and a getter per row."""
    tables = template.tables
    ids = [r["id"] for r in tables["central_visit"] + tables["central_resident"]]
    ids += [r["id"] for r in tables["referral"]]
    ids += [r["mutation_id"] for r in tables["sync_mutation"]]
    template.uuids = [uuid.UUID(i) for i in ids]
    template.ids = [(u.hex, str(u)) for u in template.uuids]
    user, device, _ = staff.hscs[HOME][0]
    people = [user, device, staff.leaders[HOME]]
    for revision in tables["visit_revision"]:
        body = json.loads(revision["body"])
        assert sha256_of(body) == revision["sha256"]  # the stored hash is the body's
        (mutation,) = (
            m for m in tables["sync_mutation"] if m["mutation_id"] == revision["mutation_id"]
        )
        visit = str(uuid.UUID(revision["visit_id"]))
        key = ["visit.complete", visit, revision["revision"], revision["revision"] - 1]
        assert sha256_of([*key, revision["sha256"]]) == mutation["fingerprint"]
        template.revisions.append(
            (revision["sha256"], mutation["fingerprint"], revision["revision"], visit)
        )
        for part in ("first_contact_date", "visit_date"):
            template.dates.append(body["visit"][part])
    literals = {u.hex for u in template.uuids + people} | {str(u) for u in template.uuids + people}
    literals |= {sha for sha, _, _, _ in template.revisions}
    literals |= {fp for _, fp, _, _ in template.revisions}
    literals |= {HOME, GIVEN, FAMILY, *template.dates}
    alternatives = [TIMESTAMP, *(re.escape(t) for t in sorted(literals, key=len, reverse=True))]
    pattern = re.compile("(" + "|".join(alternatives) + ")")
    split = {
        table: [
            {
                column: pattern.split(value) if isinstance(value, str) else [value]
                for column, value in row.items()
                if not (table in AUTOINCREMENT and column == "id")
            }
            for row in table_rows
        ]
        for table, table_rows in tables.items()
    }
    for table_rows in split.values():
        for row in table_rows:
            for parts in row.values():
                for token in parts[1::2]:
                    if token not in literals:
                        template.times[token] = when(token)
    template.keys = sorted(literals | set(template.times))
    index = {key: n for n, key in enumerate(template.keys)}

    def as_format(parts: list[str]) -> str:
        return "".join(
            part.replace("{", "{{").replace("}", "}}") if n % 2 == 0 else f"{{{index[part]}}}"
            for n, part in enumerate(parts)
        )

    for table, table_rows in split.items():
        constants, formats, picks = [], [], []
        for row in table_rows:
            pick = []
            for parts in row.values():
                if len(parts) == 1:
                    pick.append(len(constants))
                    constants.append(parts[0])
                else:
                    pick.append(-1 - len(formats))  # text: placed after the constants
                    formats.append(as_format(parts))
            picks.append(pick)
        getters = [
            itemgetter(*(i if i >= 0 else len(constants) - 1 - i for i in pick)) for pick in picks
        ]
        columns = list(table_rows[0]) if table_rows else []
        template.compiled[table] = Compiled(columns, constants, SEP.join(formats), getters)
        if table == "visit_revision":
            template.canonical = [
                as_format(pattern.split(canonical_json(json.loads(r["body"])).decode()))
                for r in tables[table]
            ]


def when(token: str) -> datetime:
    moment = datetime.fromisoformat(token.replace(" ", "T"))
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def shifted(token: str, moment: datetime) -> str:
    """``moment`` written the way ``token`` was (SQLAlchemy's or ISO 8601 with an offset)."""
    if "T" in token:
        return (
            moment.replace(tzinfo=UTC).isoformat()
            if token.endswith("+00:00")
            else moment.isoformat()
        )
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f" if "." in token else "%Y-%m-%d %H:%M:%S")


# Seeding ----------------------------------------------------------------------------------


@dataclass
class Seeded:
    """What was cloned, for the checks: the home district's visits and row counts."""

    visits: int = 0
    home: list[tuple[str, int, str, datetime, str]] = field(default_factory=list)
    counts: Counter = field(default_factory=Counter)
    seconds: float = 0.0
    size_mb: float = 0.0

    def waiting(self) -> list[str]:
        """The home district's queue, oldest first, as review_queue orders it."""
        queue = [
            (at, uuid.UUID(v).hex, v) for v, _, status, at, _ in self.home if status == "received"
        ]
        return [v for _, _, v in sorted(queue)]


def new_id() -> tuple[str, str]:
    """A version 4 UUID as hex and as text (what ``uuid.uuid4()`` makes, more cheaply)."""
    raw = bytearray(os.urandom(16))
    raw[6], raw[8] = raw[6] & 0x0F | 0x40, raw[8] & 0x3F | 0x80
    h = raw.hex()
    return h, f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def draw(templates: list[Template], rng: random.Random, remaining: int) -> Template:
    while True:
        (template,) = rng.choices(templates, weights=[t.weight for t in templates])
        if len(template.visits) <= remaining:
            return template


def clone(template: Template, rng: random.Random, staff: Staff, now: datetime, seq: int):
    """The template's rows for a new case: new ids, names, people, district and timeline."""
    district = rng.choice([d for d, _ in DISTRICTS])
    user, device, _ = rng.choice(staff.hscs[district])
    hsc, hsc_device, leader = staff.hscs[HOME][0][0], staff.hscs[HOME][0][1], staff.leaders[HOME]
    if template.awaiting:  # recent: awaiting review, or back with the HSC
        anchor = now - timedelta(seconds=rng.uniform(3_600, 60 * 86_400))
    else:
        anchor = now - timedelta(seconds=rng.uniform(14 * 86_400, 365 * 86_400))
    delta = anchor - template.anchor
    given, family = rng.choice(GIVEN_NAMES), rng.choice(FAMILY_NAMES)
    values = {HOME: district, GIVEN: given, FAMILY: family}
    for old, new in ((hsc, user), (hsc_device, device), (leader, staff.leaders[district])):
        values[old.hex], values[str(old)] = new.hex, str(new)
    for old_hex, old_text in template.ids:
        values[old_hex], values[old_text] = new_id()
    for token, moment in template.times.items():
        values[token] = shifted(token, moment + delta)
    days = timedelta(days=(anchor.date() - template.anchor.date()).days)
    for old in template.dates:
        values[old] = (date.fromisoformat(old) + days).isoformat()
    before = [values.get(key, "") for key in template.keys]  # all but the hashes
    for (sha, fp, revision, visit), body in zip(
        template.revisions, template.canonical, strict=True
    ):
        values[sha] = new_sha = hashlib.sha256(body.format(*before).encode()).hexdigest()
        values[fp] = sha256_of(["visit.complete", values[visit], revision, revision - 1, new_sha])
    filled = [values[key] for key in template.keys]
    out = {}
    for table, compiled in template.compiled.items():
        picked = compiled.constants + compiled.format.format(*filled).split(SEP)
        out[table] = [getter(picked) for getter in compiled.getters]
    seq_at = template.compiled["change_log"].columns.index("server_seq")
    out["change_log"] = [
        (*row[:seq_at], seq + n + 1, *row[seq_at + 1 :]) for n, row in enumerate(out["change_log"])
    ]
    visits = [
        (str(uuid.UUID(values[old])), revisions, status, received + delta, f"{given} {family}")
        for old, revisions, status, received in template.visits
    ]
    return district, out, visits


def seed(path: Path, templates: list[Template], staff: Staff, count: int) -> Seeded:
    """``count`` visits, cloned from the cases, inserted with sqlite3 in chunks."""
    began, rng, seeded = time.perf_counter(), random.Random(count), Seeded()
    now = utcnow()
    inserts = {}
    for table in TABLES:
        columns = next(t.compiled[table].columns for t in templates if t.tables[table])
        marks = ", ".join("?" * len(columns))
        inserts[table] = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"  # noqa: S608
    with closing(open_db(path, synchronous="OFF")) as conn:
        conn.execute("PRAGMA cache_size = -500000")  # 500 MB: the indexes' random inserts
        (seq,) = conn.execute("SELECT value FROM sync_counter WHERE id = 1").fetchone()
        while seeded.visits < count:
            chunk: dict[str, list] = {table: [] for table in TABLES}
            for _ in range(CHUNK):
                if seeded.visits >= count:
                    break
                template = draw(templates, rng, count - seeded.visits)
                district, out, visits = clone(template, rng, staff, now, seq)
                seq += len(out["change_log"])
                seeded.visits += len(visits)
                if district == HOME:
                    seeded.home.extend(visits)
                for table, table_rows in out.items():
                    chunk[table].extend(table_rows)
            conn.execute("BEGIN IMMEDIATE")
            for table in TABLES:
                conn.executemany(inserts[table], chunk[table])
                seeded.counts[table] += len(chunk[table])
            conn.execute("COMMIT")
        conn.execute("UPDATE sync_counter SET value = ? WHERE id = 1", (seq,))
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    seeded.seconds = time.perf_counter() - began
    seeded.size_mb = path.stat().st_size / 1e6
    (visits,) = rows(path, "SELECT count(*) FROM central_visit")[0]
    assert visits == count, visits
    check_clones(path)
    return seeded


def check_clones(path: Path, sample: int = 300) -> None:
    """Cloned rows are what central itself would hold: each body's hash is its stored
    hash, a visit's hash is its latest revision's, and the mutation's fingerprint and the
    receipt in the change log name the same revision."""
    with closing(sqlite3.connect(path)) as conn:
        picked = conn.execute(
            "SELECT r.visit_id, r.revision, r.sha256, r.body, m.fingerprint, v.revision,"
            " v.sha256 FROM visit_revision r JOIN sync_mutation m USING (mutation_id)"
            " JOIN central_visit v ON v.id = r.visit_id ORDER BY random() LIMIT ?",
            (sample,),
        ).fetchall()
        texts = [str(uuid.UUID(row[0])) for row in picked]
        receipts: dict[str, list] = {}
        marks = ", ".join("?" * len(texts))
        where = f"kind = 'visit.received' AND record_id IN ({marks})"
        query = f"SELECT record_id, payload FROM change_log WHERE {where}"  # noqa: S608
        for record, payload in conn.execute(query, texts):
            receipt = json.loads(payload)
            receipts.setdefault(record, []).append((receipt["revision"], receipt["sha256"]))
    for text, (_, revision, sha, body, fingerprint, latest, visit_sha) in zip(
        texts, picked, strict=True
    ):
        assert sha256_of(json.loads(body)) == sha, text
        assert json.loads(body)["visit"]["id"] == text
        key = ["visit.complete", text, revision, revision - 1, sha]
        assert sha256_of(key) == fingerprint, text
        assert revision != latest or visit_sha == sha, text
        assert (revision, sha) in receipts[text], text


# Measuring --------------------------------------------------------------------------------


def links(html: str) -> list[str]:
    return re.findall(r'href="/review/visits/([0-9a-f-]{36})"', html)


def sign_in(url: str) -> requests.Session:
    """The team leader signs in through the real sign-in page (CSRF token and all)."""
    session = requests.Session()
    page = session.get(f"{url}/sign-in", timeout=10)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text).group(1)
    form = {"csrf_token": token, "email": LEADER_EMAIL, "password": PASSWORD}
    answer = session.post(f"{url}/sign-in", data=form, timeout=10)
    assert answer.status_code == 200 and answer.url == f"{url}/review", answer.url
    return session


@dataclass
class Central:
    """A central process with ``size`` visits, its signed-in session and what to ask it."""

    size: int
    node: CentralNode
    seeded: Seeded
    session: requests.Session | None = None
    queue: list[str] = field(default_factory=list)
    visits: list[tuple[str, int, str]] = field(default_factory=list)  # (id, revisions, name)
    samples: dict[str, list[int]] = field(default_factory=dict)
    viewed: int = 0

    @property
    def last_page(self) -> int:
        return max(1, -(-len(self.queue) // QUEUE_PAGE_SIZE))

    def rows_on(self, page: int) -> int:
        """How many visits the queue shows on ``page`` (0: the last page)."""
        page = page or self.last_page
        return len(self.queue[(page - 1) * QUEUE_PAGE_SIZE : page * QUEUE_PAGE_SIZE])

    def choose_visits(self, rng: random.Random) -> None:
        """A rotation of the home district's visits: 40 with one revision and 20 with two
        (about 8% of all visits have two), half of each awaiting review where there are
        enough (those come with the approve and return forms), the rest decided."""
        self.visits = []
        for revisions, wanted in ((1, SAMPLE * 2 // 3), (2, SAMPLE // 3)):
            pools = [
                [
                    (v, r, n)
                    for v, r, status, _, n in self.seeded.home
                    if r == revisions and waiting(status)
                ]
                for waiting in (lambda s: s == "received", lambda s: s != "received")
            ]
            picked = rng.sample(pools[0], min(len(pools[0]), wanted // 2))
            picked += rng.sample(pools[1], min(len(pools[1]), wanted - len(picked)))
            self.visits += picked
        rng.shuffle(self.visits)


def make_central(directory: Path, base: Path, templates, staff: Staff, size: int) -> Central:
    node = CentralNode(directory / f"central-{size}")
    copy_db(base, node.db_path)
    seeded = seed(node.db_path, templates, staff, size)
    central = Central(size, node, seeded, queue=seeded.waiting())
    central.choose_visits(random.Random(size))
    return central


def get(central: Central, path: str, label: str, timed: bool) -> str:
    start = time.perf_counter_ns()
    response = central.session.get(f"{central.node.url}{path}", timeout=30)
    elapsed = time.perf_counter_ns() - start
    assert response.status_code == 200 and not response.history, (path, response.status_code)
    if timed:
        central.samples.setdefault(label, []).append(elapsed)
    return response.text


def check_queue(central: Central, html: str, page: int) -> None:
    total = len(central.queue)
    assert f"{total:,} visit{'' if total == 1 else 's'} waiting." in html, total
    expected = central.queue[(page - 1) * QUEUE_PAGE_SIZE : page * QUEUE_PAGE_SIZE]
    assert links(html) == expected, page  # the seeded visits, oldest first


def one_round(central: Central, i: int, timed: bool) -> None:
    html = get(central, "/review", "queue", timed)
    check_queue(central, html, 1)
    last = central.last_page
    html = get(central, f"/review?page={last}", "last", timed)
    check_queue(central, html, last)
    visit, revisions, name = central.visits[i % len(central.visits)]
    html = get(central, f"/review/visits/{visit}", "visit", timed)
    assert f"Housing MOT for {name}</h1>" in html and f"(revision {revisions})" in html, visit
    if timed:
        central.samples.setdefault(f"visit-{revisions}", []).append(central.samples["visit"][-1])
    central.viewed += 1
    assert get(central, "/_status", "status", timed)


def measure(centrals: list[Central], requests_each: int, floor_db: Path) -> list[int]:
    """Every round asks each central for each page in turn, so load changes hit both. Each
    round also times one durable commit on a bare sqlite3 connection (WAL,
    ``synchronous=FULL``) in the same directory: the floor of the visit page's audit write."""
    for central in centrals:
        central.node.start()
        central.session = sign_in(central.node.url)
    floor = []
    with closing(open_db(floor_db)) as conn:
        conn.execute("CREATE TABLE event (id INTEGER PRIMARY KEY, at TEXT, note TEXT)")
        for i in range(WARMUP + requests_each):
            for central in centrals:
                one_round(central, i, i >= WARMUP)
            start = time.perf_counter_ns()
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("INSERT INTO event (at, note) VALUES (?, 'visit_viewed')", (str(i),))
            conn.execute("COMMIT")
            if i >= WARMUP:
                floor.append(time.perf_counter_ns() - start)
    for central in centrals:  # every visit page view was audited
        viewed = rows(
            central.node.db_path,
            "SELECT count(*) FROM central_audit_event WHERE action = 'visit_viewed'",
        )
        assert viewed == [(central.viewed,)], (viewed, central.viewed)
    return floor


# Where a page's time goes: (label, file the function is in, function name), per request.
BREAKDOWN = (
    ("render_template (Jinja2 and the GOV.UK macros)", "flask/templating.py", "render_template"),
    ("  of which govukSummaryList", "components/summary-list/macro.html", "macro"),
    ("  of which govukTable", "components/table/macro.html", "macro"),
    ("  of which govukTag", "components/tag/macro.html", "macro"),
    ("review_queue (count and page query)", "app/central/reviews.py", "review_queue"),
    ("get_visit_for (called twice)", "app/central/reviews.py", "get_visit_for"),
    ("record_view (the visit_viewed audit write)", "app/central/reviews.py", "record_view"),
    ("  of which sqlite3 COMMIT", "~", "<method 'commit' of 'sqlite3.Connection' objects>"),
    ("revisions_of", "app/central/reviews.py", "revisions_of"),
    ("referrals_of", "app/central/reviews.py", "referrals_of"),
    ("open_elsewhere", "app/central/reviews.py", "open_elsewhere"),
    ("reviews_of", "app/central/reviews.py", "reviews_of"),
    ("view_of (form engine)", "app/central/referrals.py", "view_of"),
    ("differences", "app/central/reviews.py", "differences"),
    ("VisitView.display (form engine)", "app/formengine/evaluation.py", "display"),
    ("load_user (signed-in user)", "app/auth/__init__.py", "load_user"),
    ("end_outdated_session", "app/central/auth.py", "end_outdated_session"),
    ("Flask-Compress (gzip)", "flask_compress/flask_compress.py", "after_request"),
)


def profile(path: Path, central: Central, count: int) -> tuple[str, tuple]:
    """Both pages in process (Flask test client): timed plain, then under cProfile with
    the SQL statements counted and timed; where the time goes, per request."""
    app = central_app(path)
    client = app.test_client()
    page = client.get("/sign-in").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    form = {"csrf_token": token, "email": LEADER_EMAIL, "password": PASSWORD}
    assert client.post("/sign-in", data=form).status_code == 302
    sql = {"n": 0, "ns": 0, "start": 0}
    with app.app_context():
        engine = db.engine

    @event.listens_for(engine, "before_cursor_execute")
    def before(_conn, _cursor, statement, parameters, *_args) -> None:
        sql["start"] = time.perf_counter_ns()
        if "ORDER BY central_visit.received_at" in statement:  # review_queue's page query
            sql["page_query"] = (statement, parameters)

    @event.listens_for(engine, "after_cursor_execute")
    def after(*_args) -> None:
        sql["n"] += 1
        sql["ns"] += time.perf_counter_ns() - sql["start"]

    visits = [f"/review/visits/{visit}" for visit, _, _ in central.visits]
    pages = {
        "GET /review": ["/review"],
        f"GET /review?page={central.last_page}": [f"/review?page={central.last_page}"],
        "GET /review/visits/<id>": visits,
    }
    for label, paths in pages.items():
        for i in range(WARMUP):
            assert client.get(paths[i % len(paths)]).status_code == 200
        start = time.perf_counter_ns()
        for i in range(count):
            client.get(paths[i % len(paths)], headers={"Accept-Encoding": "gzip"})
        plain = (time.perf_counter_ns() - start) / count / 1e6
        sql.update(n=0, ns=0)
        profiler, start = cProfile.Profile(), time.perf_counter_ns()
        profiler.enable()
        for i in range(count):
            response = client.get(paths[i % len(paths)], headers={"Accept-Encoding": "gzip"})
            assert response.status_code == 200
        profiler.disable()
        profiled = (time.perf_counter_ns() - start) / count / 1e6
        stats = pstats.Stats(profiler).stats
        print(f"  {label}: {plain:.1f} ms per request in process, {profiled:.1f} ms under the")
        print(
            f"  profiler; {sql['n'] / count:.0f} SQL statements, {sql['ns'] / count / 1e6:.2f} ms",
            end="",
        )
        print(" in SQLite. Per request, under the profiler (cumulative):")
        for name, file, function in BREAKDOWN:
            found = [
                cumtime
                for (where, _, called), (_, _, _, cumtime, _) in stats.items()
                if called == function and where.endswith(file)
            ]
            if found:
                print(f"    {max(found) * 1e3 / count:7.1f} ms  {name}")
        print("    Most time in the function itself (tottime):")
        top = sorted(stats.items(), key=lambda item: item[1][2], reverse=True)[:6]
        for (file, line, name), (_, _, tottime, _, _) in top:
            where = f"{Path(file).parent.name}/{Path(file).name}:{line}" if line else "built-in"
            print(f"    {tottime * 1e3 / count:7.1f} ms  {name} ({where})")
    with app.app_context():
        db.engine.dispose()
    return sql["page_query"]


def backlog(path: Path, statement: str, parameters: tuple) -> None:
    """The queue's page query as ``review_queue`` sent it (the page's ids from the queue
    index in a subquery, then only those visits loaded), run with sqlite3 inside a
    transaction that is rolled back: at the last page as seeded, and with every Blaby visit
    waiting, where OFFSET has the most rows to skip."""
    statement = " ".join(statement.split())

    def run(conn, offset: int) -> tuple[float, list]:
        times, found = [], []
        for _ in range(5):
            start = time.perf_counter_ns()
            found = conn.execute(statement, (*parameters[:-1], offset)).fetchall()
            times.append(time.perf_counter_ns() - start)
        return pct(times, 0.5), found

    with closing(sqlite3.connect(path, isolation_level=None)) as conn:
        conn.execute("BEGIN")
        try:
            for label in ("as seeded", "every Blaby visit waiting"):
                if label != "as seeded":
                    conn.execute(
                        "UPDATE central_visit SET status = 'received' WHERE district = ?", (HOME,)
                    )
                (waiting,) = conn.execute(
                    "SELECT count(*) FROM central_visit WHERE status = 'received' AND district = ?",
                    (HOME,),
                ).fetchone()
                offset = (waiting - 1) // QUEUE_PAGE_SIZE * QUEUE_PAGE_SIZE
                took, found = run(conn, offset)
                assert len(found) == waiting - offset, label  # the last page's visits
                print(f"    {label}: {waiting:,} waiting; last page (OFFSET {offset:,}) ", end="")
                print(f"{took:.2f} ms")
        finally:
            conn.execute("ROLLBACK")


def print_times(central: Central) -> None:
    samples = central.samples
    p95 = {label: pct(values, 0.95) for label, values in samples.items()}
    print(f"  central with {central.size:,} visits")
    for label, title in (
        ("status", "GET /_status (baseline)"),
        ("queue", f"GET /review (page 1, {central.rows_on(1)} rows)"),
        ("last", f"GET /review?page={central.last_page} (last, {central.rows_on(0)} rows)"),
        ("visit", "GET /review/visits/<id>"),
        ("visit-1", "  of which 1 revision"),
        ("visit-2", "  of which 2 revisions"),
    ):
        values = samples[label]
        figures = f"p50 {pct(values, 0.5):6.2f} ms  p95 {p95[label]:6.2f} ms  "
        figures += f"max {max(values) / 1e6:6.2f} ms"
        ratio = "" if label == "status" else f"  {p95[label] / p95['status']:5.1f}x"
        print(
            f"    {title:<38} {figures}{ratio}" + (f"  (n={len(values)})" if "-" in label else "")
        )


def print_setup(central: Central, began: float) -> None:
    seeded = central.seeded
    home = Counter(status for _, _, status, _, _ in seeded.home)
    two = sum(1 for _, r, _, _, _ in seeded.home if r == 2)
    print(f"  central with {central.size:,} visits seeded in {seeded.seconds:.1f} s", end="")
    print(
        f" (database {seeded.size_mb:,.0f} MB; {time.perf_counter() - began:.1f} s with the copy)"
    )
    counts = ", ".join(f"{table} {n:,}" for table, n in seeded.counts.items())
    print(f"    rows: {counts}")
    statuses = ", ".join(f"{status} {n:,}" for status, n in sorted(home.items()))
    print(f"    Blaby: {len(seeded.home):,} visits ({statuses}; {two:,} with 2 revisions);", end="")
    print(f" queue {len(central.queue):,} visits, {central.last_page} page(s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visits", type=int, default=100_000)
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--requests", type=int, default=300, help="timed GETs of each page")
    parser.add_argument("--profile", action="store_true", help="cProfile both pages too")
    args = parser.parse_args()
    began, directory = time.perf_counter(), Path(tempfile.mkdtemp(prefix="hmot-review-bench-"))
    os.environ["HMOT_INSTANCE_DIR"] = str(directory / "instance")
    load = "load average {:.2f} {:.2f} {:.2f}"
    print(
        f"Housing MOT review benchmark: {os.cpu_count()} CPUs, Python {platform.python_version()}"
    )
    print(f"  SQLite {sqlite3.sqlite_version}, {platform.platform()}, in {directory}")
    print(f"  {load.format(*os.getloadavg())}")
    centrals: list[Central] = []
    try:
        base = directory / "base.db"
        staff = build_base(base)
        print(f"\n1. Setup: migrations, {len(DISTRICTS)} team leaders and ", end="")
        print(f"{len(DISTRICTS) * HSCS_PER_DISTRICT} HSCs with a device each in ", end="")
        print(f"{time.perf_counter() - began:.1f} s")
        start = time.perf_counter()
        templates = record_cases(base, directory / "cases.db", staff)
        print(f"  {len(templates)} cases pushed through the sync API and decided in ", end="")
        print(f"{time.perf_counter() - start:.1f} s; rows per case:")
        print(f"    {'case':<27} {'weight':>6} {'visits':>6} {'revisions':>9}  rows by table")
        for t in templates:
            revisions = "+".join(str(r) for _, r, _, _ in t.visits)
            counts = " ".join(str(len(t.tables[table])) for table in TABLES)
            print(f"    {t.name:<27} {t.weight:6.1f} {len(t.visits):6} {revisions:>9}  {counts}")
        print(f"    (tables: {', '.join(TABLES)})")
        for size in (args.small, args.visits):
            start = time.perf_counter()
            centrals.append(make_central(directory, base, templates, staff, size))
            print_setup(centrals[-1], start)

        print(
            f"\n2. Pages: {args.requests} GETs each after {WARMUP} warm-ups, keep-alive, ", end=""
        )
        print("signed in as the Blaby team leader;")
        print("  requests alternate between the centrals; ratio of p95 to /_status on the same one")
        floor = measure(centrals, args.requests, directory / "floor.db")
        figures = f"p50 {pct(floor, 0.5):6.2f} ms  p95 {pct(floor, 0.95):6.2f} ms  "
        print(f"  {'raw sqlite3 INSERT + COMMIT':<40} {figures}max {max(floor) / 1e6:6.2f} ms")
        for central in centrals:
            print_times(central)
        small, large = centrals
        ratios = {
            label: pct(large.samples[label], 0.95) / pct(small.samples[label], 0.95)
            for label in ("queue", "last", "visit")
        }
        print(
            f"  p95({large.size:,}) / p95({small.size:,}): queue page 1 {ratios['queue']:.2f}, ",
            end="",
        )
        print(f"last page {ratios['last']:.2f}, visit page {ratios['visit']:.2f}")
        print("  checked: every response a 200 for the signed-in team leader; the queue's count")
        print("  and the visits on page 1 and the last page, oldest first, as seeded; the")
        print("  resident's name on each visit page; one visit_viewed audit event per view")
        for central in centrals:
            central.node.stop()

        if args.profile:
            print(f"\n3. Profile: {args.requests // 3} GETs of each page in process ", end="")
            print(f"(Flask test client) on the {large.size:,}-visit database")
            statement, parameters = profile(large.node.db_path, large, max(1, args.requests // 3))
            print("  The queue's page query with sqlite3 (median of 5; rolled back afterwards):")
            backlog(large.node.db_path, statement, parameters)

        print(f"\nSummary ({large.size:,} visits on central; Blaby queue {len(large.queue):,})")
        p95 = {label: pct(large.samples[label], 0.95) for label in ("queue", "last", "visit")}
        for name, target, value, passed in [
            (
                "review queue p95, page 1",
                f"< {TARGET_MS} ms",
                p95["queue"],
                p95["queue"] < TARGET_MS,
            ),
            (
                "review queue p95, last page",
                f"< {TARGET_MS} ms",
                p95["last"],
                p95["last"] < TARGET_MS,
            ),
            ("visit page p95", f"< {TARGET_MS} ms", p95["visit"], p95["visit"] < TARGET_MS),
            (f"queue p95 {large.size:,} / {small.size:,}", "-", ratios["queue"], None),
            (f"visit p95 {large.size:,} / {small.size:,}", "-", ratios["visit"], None),
        ]:
            verdict = "INFO" if passed is None else ("PASS" if passed else "MISS")
            shown = f"{value:.2f}" + ("" if passed is None else " ms")
            print(f"  {name:<31} target {target:<8} measured {shown:>10}  {verdict}")
        print(f"  runtime {time.perf_counter() - began:.1f} s; {load.format(*os.getloadavg())}")
    finally:
        for central in centrals:
            central.node.stop()
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
