"""Field-node benchmark: is the Housing MOT fast and light enough on a 2-core field device?

Against the targets of the performance issue, with a field database of 10,000 visits:

1. section save: p50/p95/max of a question-page POST through the whole Flask stack, which
   commits (WAL, ``synchronous=FULL``) before it redirects; target p95 < 30 ms. Baseline: the
   same UPDATE + durable commit on a bare sqlite3 connection.
2. task list and My visits: p50/p95 of the GETs. Baseline: ``/_status`` through the same stack.
3. bytes on the wire, Chromium against a real node: first load of a section page (empty cache,
   no service worker; target < 150 KB) and a repeat load (target < 15 KB). Baseline: app.css
   gzipped in-process.

Figures come with ratios to baselines measured in the same process, so a slow machine shows
as a slow baseline, not as a regression. It asserts what it measured (counts, stored answers)
but never fails on a timing. Run from the repo root: ``python bench/field_bench.py``.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import json
import os
import platform
import shutil
import sqlite3
import sys
import tempfile
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402
from flask_migrate import upgrade  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402
from sqlalchemy import insert  # noqa: E402

from app import create_app, queries  # noqa: E402
from app.auth import hash_passphrase  # noqa: E402
from app.db import write_transaction  # noqa: E402
from app.extensions import db  # noqa: E402
from app.formengine import VisitView  # noqa: E402
from app.models import Resident, Visit  # noqa: E402
from app.models.field import utcnow  # noqa: E402
from bench.common import copy_db, pct  # noqa: E402
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, TABLET_PORTRAIT  # noqa: E402
from tests.support.nodes import FieldNode  # noqa: E402
from tests.support.pages import PageClient  # noqa: E402

HSC = {"name": "Bench HSC", "email": "bench.hsc@example.org", "passphrase": "bench passphrase 1"}
SECTION_PAGE = "/visits/{}/sections/falls/falls-history"
STORIES = ROOT / "forms/housing_mot/examples/case-stories.yaml"
GZIP = {"Accept-Encoding": "gzip"}  # as a browser sends it: renders include compression
DRAFTS, WARMUP, COMPRESS_MIN_SIZE = 20, 5, 256
ANSWERS = ("no", "yes")  # F1, alternately: "yes" shows the next page, "no" skips it


def line(label: str, samples: list[int], base: list[int] | None = None) -> str:
    p50, p95, top = pct(samples, 0.5), pct(samples, 0.95), max(samples) / 1e6
    ratio = f"  {p95 / pct(base, 0.95):5.1f}x" if base else ""
    return f"  {label:<30} p50 {p50:7.2f} ms  p95 {p95:7.2f} ms  max {top:7.2f} ms{ratio}"


def seed(app, count: int) -> uuid.UUID:
    """One HSC, ``count`` bulk-inserted visits, and the subject: a draft the app started."""
    stories = list(yaml.safe_load(STORIES.read_text(encoding="utf-8")).values())
    with app.app_context():
        upgrade()
        hsc = queries.create_profile(HSC["name"], HSC["email"], hash_passphrase(HSC["passphrase"]))
        definition = app.extensions["forms"].latest("housing-mot")
        done = {s.id: {"rev": 4, "completed": True} for s in definition.sections}
        form_id, form_version = definition.key
        fixed = {"hsc_id": hsc.id, "form_id": form_id, "form_version": form_version}
        fixed |= {"details_rev": 0, "last_page": ""}
        now, today, residents, visits = utcnow(), date.today(), [], []
        for i in range(count):
            story, draft, at = stories[i % len(stories)], i < DRAFTS, now - timedelta(hours=i)
            person = {**story["resident"], "id": uuid.uuid4(), "address_line_2": ""}
            person["date_of_birth"] = date.fromisoformat(person["date_of_birth"])
            person["family_name"] += f" {i}"
            residents.append({**person, "created_by": hsc.id, "created_at": at, "updated_at": at})
            visit = {**story["visit"], **fixed, "id": uuid.uuid4(), "resident_id": person["id"]}
            visit["answers"] = dict(list(story["answers"].items())[: 30 if draft else None])
            visit["progress"] = {} if draft else done
            visit["consents"] = {} if draft else dict.fromkeys(story["expected_referrals"], "yes")
            visit["status"], visit["completed_at"] = ("draft", None) if draft else ("completed", at)
            visit["first_contact_date"] = today - timedelta(days=i // 10 + 7)
            visit["visit_date"] = today - timedelta(days=i // 10)
            visit["created_at"] = visit["updated_at"] = at
            visits.append(visit)
        with write_transaction():
            db.session.execute(insert(Resident), residents)
            db.session.execute(insert(Visit), visits)
        subject = start_subject(hsc, definition, stories[0])
        db.engine.dispose()
    return subject


def start_subject(hsc, definition, story: dict) -> uuid.UUID:
    """A draft started through the app, its consent section (the gate) answered and done."""
    person = {**story["resident"], "given_name": "Subject", "address_line_2": ""}
    person["date_of_birth"] = date.fromisoformat(person["date_of_birth"])
    fields = {**story["visit"], "first_contact_date": date.today(), "visit_date": date.today()}
    visit = queries.start_visit(hsc, person, fields, definition.key)
    view = VisitView(definition, story["answers"], setting=visit.setting)
    gate = next(s for s in definition.sections if s.gate)
    for page in view.shown_pages(gate):
        given = {q.id: story["answers"][q.id] for q in view.shown_questions(page)}
        rev = queries.section_rev(visit, gate.id)
        visit = queries.save_answers(hsc.id, visit.id, gate.id, rev, given, [], "")
    queries.mark_section(hsc.id, visit.id, gate.id, queries.section_rev(visit, gate.id), True)
    return visit.id


def time_saves(client: PageClient, visit_id: uuid.UUID, saves: int) -> list[int]:
    """GET the page (CSRF token and revision), then time only the POST that saves F1."""
    samples = []
    for i in range(WARMUP + saves):
        assert client.get(SECTION_PAGE.format(visit_id)).status_code == 200
        form = client.last_page.forms[-1]
        start = time.perf_counter_ns()
        response = client.client.post(form.action, data={**form.hidden, "F1": ANSWERS[i % 2]})
        samples.append(time.perf_counter_ns() - start)
        assert response.status_code == 302 and "/sections/falls/" in response.location
    return samples[WARMUP:]


def time_raw_floor(path: Path, visit_id: uuid.UUID, iterations: int) -> list[int]:
    """The same UPDATE of the answers JSON and a durable commit, on a bare sqlite3 connection."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    (stored,) = conn.execute("SELECT answers FROM visit WHERE id = ?", (visit_id.hex,)).fetchone()
    answers, samples = json.loads(stored), []
    for i in range(WARMUP + iterations):
        values = (json.dumps(answers | {"F1": ANSWERS[i % 2]}), str(utcnow()), visit_id.hex)
        start = time.perf_counter_ns()
        conn.execute("BEGIN IMMEDIATE")
        cursor = conn.execute("UPDATE visit SET answers = ?, updated_at = ? WHERE id = ?", values)
        conn.execute("COMMIT")
        samples.append(time.perf_counter_ns() - start)
        assert cursor.rowcount == 1
    conn.close()
    return samples[WARMUP:]


def time_gets(client: PageClient, url: str, count: int) -> list[int]:
    samples = []
    for _ in range(WARMUP + count):
        start = time.perf_counter_ns()
        response = client.client.get(url, headers=GZIP)
        samples.append(time.perf_counter_ns() - start)
        assert response.status_code == 200, f"{url} answered {response.status_code}"
    return samples[WARMUP:]


class Recorder:
    """A page's requests, from the DevTools protocol; the service worker's own, from Playwright
    (the page's CDP session cannot see requests a worker makes)."""

    def __init__(self, context, page, *, clear_cache: bool) -> None:
        self.requests: dict[str, dict] = {}
        self.worker: list = []
        self.context, self.cdp = context, context.new_cdp_session(page)
        context.on("requestfinished", self._finished)
        self.cdp.on("Network.requestWillBeSent", self._sent)
        self.cdp.on("Network.responseReceived", self._response)
        self.cdp.on("Network.requestServedFromCache", lambda e: self._set(e, cached=True))
        self.cdp.on("Network.loadingFinished", lambda e: self._set(e, wire=e["encodedDataLength"]))
        self.cdp.send("Network.enable")
        if clear_cache:
            self.cdp.send("Network.clearBrowserCache")

    def stop(self) -> None:
        self.context.remove_listener("requestfinished", self._finished)
        self.cdp.detach()

    def _finished(self, request) -> None:
        if request.service_worker:
            sizes = request.sizes()
            wire = max(0, sizes["responseHeadersSize"] + sizes["responseBodySize"])
            self.worker.append(("/" + request.url.split("/", 3)[-1], "by worker", wire))

    def _set(self, event: dict, **values) -> None:
        self.requests.get(event["requestId"], {}).update(values)  # ignore earlier requests

    def _sent(self, e: dict) -> None:
        url = "/" + e["request"]["url"].split("//", 1)[-1].split("/", 1)[-1]
        self.requests[e["requestId"]] = {"path": url, "type": e.get("type", "")}
        self._set(e, wire=0, cached=False)

    def _response(self, e: dict) -> None:
        response = e["response"]
        headers = {k.lower(): v for k, v in response["headers"].items()}
        cached = bool(response.get("fromDiskCache") or response.get("fromServiceWorker"))
        encoding, head = headers.get("content-encoding", "-"), response["encodedDataLength"]
        self._set(e, mime=response["mimeType"], encoding=encoding, head=head, cached=cached)

    def network(self) -> list[tuple[str, str, int]]:
        """(path, type, bytes) of what came over the network, headers included."""
        page = [r for r in self.requests.values() if not r["cached"]]
        return [(r["path"], r["type"], int(r["wire"])) for r in page] + self.worker

    def cached(self) -> list[str]:
        return [r["type"] for r in self.requests.values() if r["cached"]]


def load(context, url: str, *, clear_cache: bool = False, until: str = "true") -> Recorder:
    page = context.pages[0] if context.pages else context.new_page()
    recorder = Recorder(context, page, clear_cache=clear_cache)
    page.goto(url, wait_until="networkidle")
    page.wait_for_function(until)
    page.wait_for_timeout(300)  # let the last protocol events arrive
    assert page.url == url, f"expected {url}, landed on {page.url}"
    recorder.stop()
    return recorder


def measure_bytes(db_path: Path, directory: Path, visit_id: uuid.UUID) -> dict[str, Recorder]:
    (directory / "node").mkdir()
    copy_db(db_path, directory / "node" / "field.db")
    node = FieldNode(directory / "node").start()
    url = node.url + SECTION_PAGE.format(visit_id)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            signer = browser.new_context(viewport=TABLET_PORTRAIT, service_workers="block")
            page = signer.new_page()
            page.goto(f"{node.url}/sign-in")
            page.get_by_label("Email address").fill(HSC["email"])
            page.get_by_label("Passphrase").fill(HSC["passphrase"])
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url(f"{node.url}/visits")
            state = signer.storage_state()  # the session cookie; nothing cached
            # First load: a fresh context (empty HTTP cache) with service workers blocked.
            blocked = browser.new_context(
                viewport=TABLET_PORTRAIT, storage_state=state, service_workers="block"
            )
            loads = {"first": load(blocked, url, clear_cache=True)}
            # Then a first visit that installs the worker (it precaches), and a repeat visit.
            normal = browser.new_context(viewport=TABLET_PORTRAIT, storage_state=state)
            loads["install"] = load(normal, url, until="navigator.serviceWorker.controller")
            loads["repeat"] = load(normal, url)
            browser.close()
    finally:
        node.stop()
    return loads


def print_resources(recorder: Recorder) -> list[str]:
    notes = []
    print(f"  {'resource':<58} {'type':<11} {'enc':<5} {'wire B':>7} {'body B':>7}")
    for r in recorder.requests.values():
        body = r["wire"] - r.get("head", 0)
        print(f"  {r['path'][:58]:<58} {r['type']:<11} {r['encoding']:<5} {r['wire']:>7} {body:>7}")
        textual = any(t in r.get("mime", "") for t in ("text/", "javascript", "json", "svg"))
        if textual and r["encoding"] != "gzip":
            small = " (under COMPRESS_MIN_SIZE)" if body < COMPRESS_MIN_SIZE else ""
            notes.append(f"{r['path']} ({r['mime']}, {body} B) is not compressed{small}")
    return notes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visits", type=int, default=10_000)
    parser.add_argument("--saves", type=int, default=200)
    parser.add_argument("--renders", type=int, default=200)
    args = parser.parse_args()
    began, directory = time.perf_counter_ns(), Path(tempfile.mkdtemp(prefix="hmot-bench-"))
    os.environ["HMOT_INSTANCE_DIR"] = str(directory / "instance")
    path = directory / "field.db"
    print(f"Housing MOT field benchmark: {os.cpu_count()} CPUs, Python {platform.python_version()}")
    print(f"  SQLite {sqlite3.sqlite_version}, {platform.platform()}, in {directory}")
    try:
        app = create_app("field", "test", SQLALCHEMY_DATABASE_URI=f"sqlite:///{path}")
        subject = seed(app, args.visits)
        seeded = (time.perf_counter_ns() - began) / 1e9
        print(f"\n1. Setup: {args.visits:,} visits + the subject draft in {seeded:.1f} s; ", end="")
        print(f"database {path.stat().st_size / 1e6:.1f} MB")

        client = PageClient(app.test_client())
        client.sign_in(HSC["email"], HSC["passphrase"])
        saves = time_saves(client, subject, args.saves)
        last = ANSWERS[(WARMUP + args.saves - 1) % 2]
        copy_db(path, directory / "floor.db")
        floor = time_raw_floor(directory / "floor.db", subject, args.saves)
        print(f"\n2. Section save, {args.saves} POSTs of falls-history (F1 no/yes); ratio of p95s")
        print(line("raw sqlite3 UPDATE + COMMIT", floor))
        print(line("app POST (commit, redirect)", saves, floor))

        status = time_gets(client, "/_status", args.renders)
        task_list = time_gets(client, f"/visits/{subject}", args.renders)
        my_visits = time_gets(client, "/visits", args.renders)
        print(f"\n3. Renders, {args.renders} GETs each; ratio of p95s")
        print(line("GET /_status (baseline)", status))
        print(line("GET /visits/<id> (task list)", task_list, status))
        print(line("GET /visits (My visits)", my_visits, status))

        with contextlib.closing(sqlite3.connect(path)) as conn:
            query = "SELECT answers, progress FROM visit WHERE id = ?"
            answers, progress = conn.execute(query, (subject.hex,)).fetchone()
            query = "SELECT count(*), sum(status = 'draft') FROM visit"
            counts = conn.execute(query).fetchone()
        assert json.loads(answers)["F1"] == last, "the last save is not stored"
        assert json.loads(progress)["falls"]["rev"] == WARMUP + args.saves
        assert counts == (args.visits + 1, min(DRAFTS, args.visits) + 1), counts

        loads = measure_bytes(path, directory, subject)
        print("\n4. Bytes on the wire (Chromium, 800x1280): first load of the section page")
        notes = print_resources(loads["first"])
        first, install, repeat = (sum(r[2] for r in loads[k].network()) for k in loads)
        css = len(gzip.compress((ROOT / "static/css/app.css").read_bytes(), compresslevel=6))
        served = next(r for r in loads["first"].requests.values() if "/app.css" in r["path"])
        body = served["wire"] - served["head"]
        print(f"  total {first:,} B (wire = headers + compressed body)")
        print(f"  baseline: app.css gzip -6 in-process {css:,} B; served {body:,} B ", end="")
        print(f"({body / css:.2f}x)")
        print(f"  first visit with the worker installing (precache): {install:,} B")
        print(f"  repeat load {repeat:,} B over the network:")
        for path_, kind, size in loads["repeat"].network():
            print(f"    {path_[:58]:<58} {kind:<11} {size:>7}")
        print(f"    and from the worker or the cache: {', '.join(loads['repeat'].cached())}")
        for note in notes or ["every text response was gzip-compressed"]:
            print(f"  note: {note}")

        print(f"\nSummary ({args.visits:,} visits; KB = 1,000 bytes on the wire)")
        for name, target, value, limit, unit in [
            ("section save p95", "< 30 ms", pct(saves, 0.95), 30.0, "ms"),
            ("task list render p95", "-", pct(task_list, 0.95), None, "ms"),
            ("My visits render p95", "-", pct(my_visits, 0.95), None, "ms"),
            ("first load (compressed)", "< 150 KB", first / 1000, 150.0, "KB"),
            ("repeat load of a section page", "< 15 KB", repeat / 1000, 15.0, "KB"),
        ]:
            verdict = "INFO" if limit is None else ("PASS" if value < limit else "MISS")
            print(f"  {name:<31} target {target:<9} measured {value:8.2f} {unit}  {verdict}")
        print(f"  runtime {(time.perf_counter_ns() - began) / 1e9:.1f} s")
    finally:
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
