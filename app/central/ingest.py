"""Referrals and flags for received revisions, worked out after the receipt.

A push stores each revision and an ``IngestJob`` for it in one transaction and answers the
device at once; evaluating a hundred rules per visit and writing its referrals is not part
of the round trip (sync-reference §2.1: referral generation "enqueued through a server-side
outbox row"). The ingest worker takes queued jobs in order, a batch per transaction: for
each visit still at the job's revision it makes the proposals and flags exactly as
``app.central.referrals`` describes, moves the visit from ``processing`` to ``received``
(the team leader's queue) and deletes the job, all in that one transaction. A job whose
visit has moved on to a newer revision is dropped: the newer revision's job replaces its
proposals anyway.

Where it runs: ``serve`` starts it as a thread beside the web server; ``central work`` runs it
as a process of its own (the Procfile's ``worker``, beside gunicorn). With
``INGEST_INLINE`` the push request does the work itself after its commit (in-process tests).
Jobs are claimed with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so several workers never take
the same job; on SQLite the write lock taken at ``BEGIN IMMEDIATE`` does the same.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence

from flask import Flask, current_app
from sqlalchemy import and_, delete, select, update

from app.central import referrals
from app.db import write_transaction
from app.extensions import db
from app.models import CentralVisit, IngestJob, VisitRevision
from app.models.field import utcnow

log = logging.getLogger(__name__)
BATCH = 100
MAX_ATTEMPTS = 5  # a job that fails this often waits for someone to look at it


def queue_jobs(jobs: Sequence[dict]) -> None:
    """Queue received revisions (``visit_id``, ``revision``, ``ordered``, ``queued_at``), in
    the push's transaction."""
    if jobs:
        db.session.execute(IngestJob.__table__.insert(), list(jobs))


def process_pending(limit: int = BATCH) -> int:
    """Work out the referrals of up to ``limit`` queued revisions, oldest first, in one
    transaction. Returns how many jobs were taken. If the batch fails, its jobs are tried
    one at a time, so one bad revision never holds up the others."""
    try:
        with write_transaction():
            return len(_process(_claim(limit)))
    except Exception:
        log.exception("ingest batch failed; trying its jobs one at a time")
    done = 0
    with write_transaction():
        ids = [job.id for job in _claim(limit)]
    for job_id in ids:
        try:
            with write_transaction():
                done += len(_process(_claim(1, job_id)))
        except Exception as error:
            with write_transaction():
                db.session.execute(
                    update(IngestJob)
                    .where(IngestJob.id == job_id)
                    .values(attempts=IngestJob.attempts + 1, last_error=type(error).__name__)
                )
            log.exception("ingest job %s failed", job_id)
    return done


def process_all_pending() -> int:
    """Drain the queue (jobs that keep failing are left for later). Returns jobs done."""
    total = 0
    while done := process_pending():
        total += done
    return total


def pending_count() -> int:
    return db.session.query(IngestJob).filter(IngestJob.attempts < MAX_ATTEMPTS).count()


def _claim(limit: int, job_id: int | None = None) -> list[IngestJob]:
    query = (
        select(IngestJob)
        .where(IngestJob.attempts < MAX_ATTEMPTS)
        .order_by(IngestJob.attempts, IngestJob.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    if job_id is not None:
        query = query.where(IngestJob.id == job_id)
    return list(db.session.scalars(query))


def _process(jobs: list[IngestJob]) -> list[IngestJob]:
    """Referrals and flags for the jobs' visits, in the caller's transaction; the jobs are
    deleted with them."""
    if not jobs:
        return jobs
    now = utcnow()
    visit_ids = {job.visit_id for job in jobs}
    current = db.session.execute(
        select(CentralVisit, VisitRevision.body)
        .join(
            VisitRevision,
            and_(
                VisitRevision.visit_id == CentralVisit.id,
                VisitRevision.revision == CentralVisit.revision,
            ),
        )
        .where(CentralVisit.id.in_(visit_ids))
    )
    visits = {visit.id: (visit, body) for visit, body in current}
    forms = current_app.extensions["forms"]
    items: dict = {}
    for job in jobs:
        visit, body = visits[job.visit_id]
        if visit.revision != job.revision or visit.status != "processing":
            continue  # superseded by a newer revision, whose own job makes its referrals
        definition = forms.get(visit.form_id, visit.form_version)
        ingested = referrals.ingest(visit.id, visit.user_id, definition, body)
        ingested.revision, ingested.ordered = job.revision, dict(job.ordered)
        if "policy_changed" in visit.flags:  # decided on push, with the orders
            ingested.flags = [*ingested.flags, "policy_changed"]
        items[visit.id] = (visit, ingested)
    proposals = referrals.plan_proposals([ingested for _, ingested in items.values()], now)
    for visit, ingested in items.values():
        visit.flags, visit.status = ingested.flags, "received"
    db.session.flush()
    referrals.insert_proposals(proposals)
    db.session.execute(delete(IngestJob).where(IngestJob.id.in_([job.id for job in jobs])))
    return jobs


class IngestWorker:
    """One thread working the queue: woken by each push, and every ``interval`` anyway (a
    push from another process cannot wake it)."""

    def __init__(self, app: Flask, interval: float = 1.0) -> None:
        self.app, self.interval = app, interval
        self.wakeup, self.stopping = threading.Event(), threading.Event()
        self.thread = threading.Thread(target=self.run, name="ingest-worker", daemon=True)

    def start(self) -> IngestWorker:
        self.thread.start()
        return self

    def wake(self) -> None:
        self.wakeup.set()

    def stop(self) -> None:
        self.stopping.set()
        self.wakeup.set()

    def run(self) -> None:
        while not self.stopping.is_set():
            done = 0
            try:
                with self.app.app_context():
                    done = process_pending()
            except Exception:
                log.exception("ingest worker: unexpected error")
            if done < BATCH:  # caught up (or failing): wait to be woken
                self.wakeup.wait(self.interval)
                self.wakeup.clear()


def after_push(app: Flask) -> None:
    """A push committed: work its revisions out now (inline) or wake this process's worker."""
    if app.config.get("INGEST_INLINE"):
        process_all_pending()
    elif (worker := app.extensions.get("ingest_worker")) is not None:
        worker.wake()

