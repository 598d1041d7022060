"""Referrals and flags for received revisions, worked out after the receipt.

A push stores each revision and an ``IngestJob`` for it in one transaction and answers the
device at once; evaluating a hundred rules per visit and writing its referrals is not part
of the round trip (sync-reference §2.1: referral generation "enqueued through a server-side
outbox row"). The ingest worker takes queued jobs in order, a batch at a time: it evaluates
their revisions with no transaction open, then, in one write transaction, for each visit
still at the job's revision makes the proposals and flags exactly as
``app.central.referrals`` describes, moves the visit from ``processing`` to ``received``
(the team leader's queue) and deletes the jobs. A job whose
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
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import Flask, current_app
from sqlalchemy import and_, bindparam, delete, func, select, update
from sqlalchemy.exc import OperationalError

from app.background import BackgroundThread
from app.central import referrals
from app.central.referrals import Ingested
from app.db import insert_many, write_transaction
from app.extensions import db
from app.models import CentralResident, CentralVisit, IngestJob, VisitRevision
from app.models.field import utcnow

log = logging.getLogger(__name__)
BATCH = 25
MAX_ATTEMPTS = 5  # a job that fails this often waits for someone to look at it
# The worker gives way to pushes: while they keep arriving (the newest job is younger than
# QUIET) it waits, unless the oldest job has waited MAX_DEFER. Referrals go out only once a
# team leader approves the visit, so seconds here cost the service nothing, and a device
# waiting on its push gets the CPU.
QUIET = timedelta(milliseconds=500)
MAX_DEFER = timedelta(seconds=30)


def queue_jobs(jobs: Sequence[dict]) -> None:
    """Queue received revisions (``visit_id``, ``revision``, ``ordered``, ``queued_at``), in
    the push's transaction."""
    insert_many(IngestJob.__table__, list(jobs))


def process_pending(limit: int = BATCH) -> int:
    """Work out the referrals of up to ``limit`` queued revisions, oldest first. Returns how
    many jobs were done. The rules are evaluated before the write transaction, so the write
    lock is held only to make the rows; a revision that fails is counted against its job and
    never holds up the others."""
    jobs = _pending(limit)
    if not jobs:
        return 0
    evaluated, failed = _evaluate(jobs)
    _record_failures(failed)
    try:
        with write_transaction():
            return _write(evaluated)
    except OperationalError as error:  # the database is busy or away: not the jobs' fault
        log.warning("ingest batch not written (%s); will try again", type(error).__name__)
        return 0
    except Exception as error:
        log.warning("ingest batch failed (%s); writing its jobs one at a time", _name(error))
    done = 0
    for job_id, item in evaluated.items():
        try:
            with write_transaction():
                done += _write({job_id: item})
        except OperationalError:
            return done
        except Exception as error:
            log.error("ingest job %s failed: %s", job_id, _name(error))
            _record_failures({job_id: _name(error)})
    return done


def _name(error: Exception) -> str:
    """What is logged and kept of an error: its class, never its message (a message can
    quote an answer, and logs must hold no personal data)."""
    return type(error).__name__


def process_all_pending() -> int:
    """Drain the queue (jobs that keep failing are left for later). Returns jobs done."""
    total = 0
    while done := process_pending():
        total += done
    return total


def pending_count() -> int:
    return db.session.query(IngestJob).filter(IngestJob.attempts < MAX_ATTEMPTS).count()


@dataclass(frozen=True)
class QueueHealth:
    """What an admin needs to know of the queue: how much is waiting, since when, and which
    jobs have stopped being tried (ids and error names only: nothing from the visits)."""

    waiting: int
    oldest: datetime | None
    stuck: list[tuple[int, str]]


def queue_health() -> QueueHealth:
    waiting, oldest = db.session.execute(
        select(func.count(), func.min(IngestJob.queued_at)).where(IngestJob.attempts < MAX_ATTEMPTS)
    ).one()
    stuck = db.session.execute(
        select(IngestJob.id, IngestJob.last_error)
        .where(IngestJob.attempts >= MAX_ATTEMPTS)
        .order_by(IngestJob.id)
    )
    return QueueHealth(waiting, oldest, [(job_id, error) for job_id, error in stuck])


def retry_stuck() -> int:
    """Put the jobs that stopped being tried back in the queue (once the cause is fixed)."""
    with write_transaction():
        result = db.session.execute(
            update(IngestJob)
            .where(IngestJob.attempts >= MAX_ATTEMPTS)
            .values(attempts=0, last_error="")
        )
    return result.rowcount


def giving_way(now: datetime) -> bool:
    """Whether the worker should wait for pushes to stop arriving: the newest job was queued
    less than QUIET ago and the oldest less than MAX_DEFER ago."""
    first = select(IngestJob.queued_at).where(IngestJob.attempts < MAX_ATTEMPTS).limit(1)
    newest = db.session.scalar(first.order_by(IngestJob.id.desc()))
    oldest = db.session.scalar(first.order_by(IngestJob.id))
    db.session.rollback()
    if newest is None or oldest is None:
        return False
    # A queue time ahead of the clock (the clock stepped back) counts as old, not as new.
    zero = timedelta(0)
    return zero <= now - newest < QUIET and zero <= now - oldest < MAX_DEFER


def _pending(limit: int) -> list:
    """The next jobs, as plain rows (they outlive the read transaction)."""
    jobs = db.session.execute(
        select(IngestJob.id, IngestJob.visit_id, IngestJob.revision, IngestJob.ordered)
        .where(IngestJob.attempts < MAX_ATTEMPTS)
        .order_by(IngestJob.id)  # push order, retries included: it decides who is referred
        .limit(limit)
    )
    return list(jobs)


def _evaluate(jobs: list) -> tuple[dict[int, Ingested | None], dict[int, str]]:
    """Each job's revision evaluated (``None`` for one its visit has moved on from), and the
    jobs whose evaluation failed, with the error's class name."""
    visit = CentralVisit
    current = db.session.execute(
        select(
            visit.id,
            visit.user_id,
            visit.revision,
            visit.status,
            visit.form_id,
            visit.form_version,
            visit.flags,
            VisitRevision.body,
        )
        .join(
            VisitRevision,
            and_(VisitRevision.visit_id == visit.id, VisitRevision.revision == visit.revision),
        )
        .where(visit.id.in_({job.visit_id for job in jobs}))
    )
    visits = {row.id: row for row in current}
    db.session.rollback()  # the read is over: evaluating holds no transaction open
    forms = current_app.extensions["forms"]
    evaluated: dict[int, Ingested | None] = {}
    failed: dict[int, str] = {}
    for job in jobs:
        row = visits.get(job.visit_id)
        if row is None:  # no stored revision for the visit: nothing can make its referrals
            failed[job.id] = "RevisionMissing"
            continue
        if row.revision != job.revision or row.status != "processing":
            evaluated[job.id] = None  # superseded: the newer revision's job makes referrals
            continue
        try:
            definition = forms.get(row.form_id, row.form_version)
            item = referrals.ingest(row.id, row.user_id, definition, row.body)
        except Exception as error:
            log.error(
                "ingest job %s: the revision could not be evaluated: %s", job.id, _name(error)
            )
            failed[job.id] = _name(error)
            continue
        item.revision, item.ordered = job.revision, dict(job.ordered)
        if "policy_changed" in row.flags:  # decided on push, with the orders
            item.flags = [*item.flags, "policy_changed"]
        evaluated[job.id] = item
    return evaluated, failed


VISIT_RECEIVED = (
    update(CentralVisit.__table__)
    .where(CentralVisit.__table__.c.id == bindparam("visit_id"))
    .values(flags=bindparam("visit_flags"), status="received")
)


def _write(evaluated: dict[int, Ingested | None]) -> int:
    """In the caller's write transaction: the proposals and flags of the jobs still queued
    whose visit is still at their revision, and the jobs deleted. Returns jobs done."""
    claimed = set(
        db.session.scalars(
            select(IngestJob.id)
            .where(IngestJob.id.in_(evaluated))
            .with_for_update(skip_locked=True)
        )
    )
    items = [item for job_id, item in evaluated.items() if job_id in claimed and item]
    # Another worker making a referral for the same resident waits for this one to commit
    # (PostgreSQL row locks; on SQLite the write lock already serialises the workers), so
    # neither misses the other's open referral.
    db.session.execute(
        select(CentralResident.id)
        .where(CentralResident.id.in_({item.resident_id for item in items}))
        .order_by(CentralResident.id)
        .with_for_update()
    ).all()
    current = {
        (visit_id, revision)
        for visit_id, revision in db.session.execute(
            select(CentralVisit.id, CentralVisit.revision).where(
                CentralVisit.id.in_({item.visit_id for item in items}),
                CentralVisit.status == "processing",
            )
        )
    }
    items = [item for item in items if (item.visit_id, item.revision) in current]
    proposals = referrals.plan_proposals(items, utcnow())
    if items:
        db.session.execute(
            VISIT_RECEIVED,
            [{"visit_id": item.visit_id, "visit_flags": item.flags} for item in items],
        )
    referrals.insert_proposals(proposals)
    if claimed:
        db.session.execute(delete(IngestJob).where(IngestJob.id.in_(claimed)))
    return len(claimed)


def _record_failures(failed: dict[int, str]) -> None:
    for job_id, error in failed.items():
        with write_transaction():
            db.session.execute(
                update(IngestJob)
                .where(IngestJob.id == job_id)
                .values(attempts=IngestJob.attempts + 1, last_error=error)
            )


class IngestWorker(BackgroundThread):
    """One thread working the queue: woken by each push, and every ``interval`` anyway (a
    push from another process cannot wake it)."""

    name = "ingest-worker"

    def __init__(self, app: Flask, interval: float = 1.0) -> None:
        super().__init__(app)
        self.interval = interval

    def run(self) -> None:
        while not self.stopping.is_set():
            done = 0
            try:
                with self.app.app_context():
                    if giving_way(utcnow()):
                        self.wait(QUIET.total_seconds())
                        continue
                    done = process_pending()
            except Exception as error:
                log.error("ingest worker: unexpected %s", _name(error))
            if done < BATCH:  # caught up (or failing): wait to be woken
                self.wait(self.interval)


def after_push(app: Flask) -> None:
    """A push committed: work its revisions out now (inline) or wake this process's worker."""
    if app.config.get("INGEST_INLINE"):
        try:
            process_all_pending()
        except Exception as error:  # the push is committed: its receipts must still go back
            log.error("inline ingest failed (%s); the jobs stay queued", _name(error))
    elif (worker := app.extensions.get("ingest_worker")) is not None:
        worker.wake()
