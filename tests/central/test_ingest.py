"""The ingest queue: a push answers with its receipts and queues each revision; the worker
then makes its referrals and flags and only then puts the visit in the team leader's queue.
A revision that fails to ingest does not hold up the others."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from app.central import ingest, referrals
from app.db import write_transaction
from app.extensions import db
from app.models import CentralVisit, IngestJob, Referral
from tests.support.accounts import PASSWORD
from tests.support.casework import Casework, story_body


@pytest.fixture
def work(central_app) -> Casework:
    central_app.config["INGEST_INLINE"] = False  # as in production: a worker does it
    return Casework(central_app)


def status_and_referrals(app, body) -> tuple[str, int, list[str]]:
    visit_id = uuid.UUID(body["visit"]["id"])
    with app.app_context():
        visit = db.session.get(CentralVisit, visit_id)
        count = db.session.scalar(
            select(func.count()).select_from(Referral).where(Referral.visit_id == visit_id)
        )
        return visit.status, count, list(visit.flags)


def jobs(app) -> list[tuple[str, int, int, str]]:
    with app.app_context():
        return [
            (str(job.visit_id), job.revision, job.attempts, job.last_error)
            for job in db.session.scalars(select(IngestJob).order_by(IngestJob.id))
        ]


def test_a_push_answers_before_referrals_are_made_and_the_worker_makes_them(work):
    body = story_body(referral_source="hospital_discharge")
    result = work.push(body)[0]
    assert result["status"] == "created" and result["receipt"]["revision"] == 1

    assert status_and_referrals(work.app, body) == ("processing", 0, [])
    assert jobs(work.app) == [(body["visit"]["id"], 1, 0, "")]

    with work.app.app_context():
        assert ingest.process_all_pending() == 1
    status, count, flags = status_and_referrals(work.app, body)
    assert status == "received" and count > 0
    assert flags == ["hospital_discharge"]
    assert jobs(work.app) == []


def test_a_visit_worked_out_later_gets_the_referrals_it_gets_when_worked_out_at_once(
    central_app, tmp_path
):
    """Whether its job runs in the push request, after the commit, or later from the queue
    with other jobs, a visit gets the same referrals, reasons, consent and priority."""
    inline = Casework(central_app)
    body = story_body("case-story-2", referral_source="hospital_discharge")
    inline.push(body)
    central_app.config["INGEST_INLINE"] = False
    later = story_body("case-story-2", referral_source="hospital_discharge")
    inline.push(later)
    with central_app.app_context():
        ingest.process_all_pending()

    def made(visit) -> list[tuple]:
        with central_app.app_context():
            rows = db.session.scalars(
                select(Referral)
                .where(Referral.visit_id == uuid.UUID(visit["visit"]["id"]))
                .order_by(Referral.service)
            )
            return [(r.service, r.kind, r.status, r.consent, r.priority, r.reasons) for r in rows]

    assert made(body) and made(later) == made(body)


def test_a_visit_is_not_in_the_queue_nor_decidable_until_its_referrals_exist(work, central_client):
    body = story_body()
    work.push(body)
    central_client.sign_in(work.leader.email, PASSWORD)
    assert body["visit"]["id"] not in central_client.text("/review")

    page = central_client.text(f"/review/visits/{body['visit']['id']}")
    assert "are still being worked out" in page
    assert 'action="/review/visits/' not in page  # no decision forms yet

    with work.app.app_context():
        ingest.process_all_pending()
    assert body["visit"]["id"] in central_client.text("/review")
    page = central_client.text(f"/review/visits/{body['visit']['id']}")
    assert re.search(r'action="/review/visits/[0-9a-f-]+/approve"', page)


def test_approving_a_visit_still_processing_is_refused_and_changes_nothing(work, central_app):
    from app.central import reviews

    body = story_body()
    work.push(body)
    visit_id = uuid.UUID(body["visit"]["id"])
    _, sha = work.revisions[body["visit"]["id"]]
    with central_app.app_context():
        leader = db.session.merge(work.leader)
        with pytest.raises(reviews.ReviewRefused, match="still being worked out"):
            reviews.approve_visit(leader, visit_id, sha)
    assert status_and_referrals(central_app, body)[0] == "processing"


def test_one_push_of_several_visits_is_one_job_each_worked_out_in_order(work):
    """Two visits for one resident in one push: the second never gets a second open
    referral to a service the first already has (as when ingested in the push)."""
    resident = uuid.uuid4()
    first, second = story_body(resident_id=resident), story_body(resident_id=resident)
    work.push(first, second)
    assert [job[0] for job in jobs(work.app)] == [first["visit"]["id"], second["visit"]["id"]]
    with work.app.app_context():
        assert ingest.process_pending(limit=1) == 1  # separate batches: order still holds
        assert ingest.process_pending(limit=1) == 1
    assert status_and_referrals(work.app, first)[1] > 0
    with work.app.app_context():
        second_referrals = db.session.scalars(
            select(Referral).where(
                Referral.visit_id == uuid.UUID(second["visit"]["id"]),
                Referral.kind == "referral",
            )
        ).all()
    assert second_referrals == []


def test_a_revision_that_fails_to_ingest_does_not_hold_up_the_others(work, monkeypatch):
    bad, good = story_body(), story_body()
    work.push(bad, good)
    real = referrals.ingest

    def failing(visit_id, *args):
        if str(visit_id) == bad["visit"]["id"]:
            raise ValueError("a rule that cannot be evaluated")
        return real(visit_id, *args)

    monkeypatch.setattr(referrals, "ingest", failing)
    with work.app.app_context():
        assert ingest.process_pending() == 1
    assert status_and_referrals(work.app, good)[0] == "received"
    assert status_and_referrals(work.app, bad)[:2] == ("processing", 0)
    assert jobs(work.app) == [(bad["visit"]["id"], 1, 1, "ValueError")]

    monkeypatch.setattr(referrals, "ingest", real)  # fixed: the next look takes it
    with work.app.app_context():
        assert ingest.process_all_pending() == 1
    assert status_and_referrals(work.app, bad)[0] == "received"


def test_a_job_that_keeps_failing_is_left_for_someone_to_look_at(work, monkeypatch):
    body = story_body()
    work.push(body)

    def failing(*args):
        raise ValueError("still broken")

    monkeypatch.setattr(referrals, "ingest", failing)
    with work.app.app_context():
        for _ in range(ingest.MAX_ATTEMPTS):
            assert ingest.process_pending() == 0
        assert ingest.pending_count() == 0  # no longer taken
    assert jobs(work.app) == [(body["visit"]["id"], 1, ingest.MAX_ATTEMPTS, "ValueError")]
    assert status_and_referrals(work.app, body)[0] == "processing"


def test_a_replayed_push_queues_nothing_more(work):
    body = story_body()
    work.push(body)
    assert work.replay()[0]["status"] == "unchanged"
    assert len(jobs(work.app)) == 1


def test_the_admin_sees_what_is_waiting_and_what_is_stuck_and_can_try_it_again(
    work, central_client, monkeypatch
):
    from tests.support.accounts import make_user

    with work.app.app_context():
        admin = make_user("admin")
        email = admin.email
    central_client.sign_in(email, PASSWORD)
    first, second = story_body(), story_body()
    work.push(first, second)
    page = central_client.text("/devices")
    assert "2 visits have reached the office" in page
    assert "could not be worked out" not in page

    def failing(*args):
        raise ValueError("a rule that cannot be evaluated")

    monkeypatch.setattr(referrals, "ingest", failing)
    with work.app.app_context():
        for _ in range(ingest.MAX_ATTEMPTS):
            ingest.process_pending()
    page = central_client.text("/devices")
    assert "Every visit that has reached the office has its referrals." in page
    assert "The referrals of 2 visits could not be worked out" in page
    assert "ValueError" in page
    assert first["resident"]["family_name"] not in page  # ids and error names only

    monkeypatch.undo()
    result = work.app.test_cli_runner().invoke(args=["retry-ingest"])
    assert result.exit_code == 0 and "2 ingest jobs queued again" in result.output
    with work.app.app_context():
        assert ingest.process_all_pending() == 2
    assert status_and_referrals(work.app, first)[0] == "received"
    assert "could not be worked out" not in central_client.text("/devices")


def test_a_team_leader_does_not_see_the_ingest_queue(work, central_client):
    work.push(story_body())
    central_client.sign_in(work.leader.email, PASSWORD)
    assert "reached the office and" not in central_client.text("/devices")


def test_a_busy_database_does_not_count_against_the_jobs(work, monkeypatch):
    from sqlalchemy.exc import OperationalError

    body = story_body()
    work.push(body)

    def locked(*args):
        raise OperationalError("INSERT", {}, Exception("database is locked"))

    monkeypatch.setattr(referrals, "insert_proposals", locked)
    with work.app.app_context():
        assert ingest.process_pending() == 0
    assert jobs(work.app) == [(body["visit"]["id"], 1, 0, "")]  # not a failure of the job
    monkeypatch.undo()
    with work.app.app_context():
        assert ingest.process_pending() == 1
    assert status_and_referrals(work.app, body)[0] == "received"


def test_what_is_logged_of_a_failure_is_the_error_class_never_its_message(
    work, monkeypatch, caplog
):
    body = story_body()
    work.push(body)
    secret = body["resident"]["family_name"]

    def failing(*args):
        raise ValueError(f"cannot evaluate an answer about {secret}")

    monkeypatch.setattr(referrals, "ingest", failing)
    with work.app.app_context():
        ingest.process_pending()
    assert "ValueError" in caplog.text
    assert secret not in caplog.text


def queued_at(app, *moments) -> None:
    """Set the waiting jobs' queue times, oldest first."""
    with app.app_context(), write_transaction():
        for job_id, moment in zip(
            db.session.scalars(select(IngestJob.id).order_by(IngestJob.id)), moments, strict=True
        ):
            db.session.execute(
                update(IngestJob).where(IngestJob.id == job_id).values(queued_at=moment)
            )


def test_the_worker_gives_way_while_pushes_keep_arriving_but_never_for_long(work):
    now = datetime(2026, 11, 22, 9, 0, 0)
    with work.app.app_context():
        assert not ingest.giving_way(now)  # nothing waiting
    work.push(story_body(), story_body())
    moment = lambda seconds: now - timedelta(seconds=seconds)  # noqa: E731

    queued_at(work.app, moment(5), moment(0.1))  # the last push a moment ago
    with work.app.app_context():
        assert ingest.giving_way(now)
    queued_at(work.app, moment(5), moment(ingest.QUIET.total_seconds() + 0.1))  # quiet now
    with work.app.app_context():
        assert not ingest.giving_way(now)
    queued_at(work.app, moment(ingest.MAX_DEFER.total_seconds() + 1), moment(0.1))  # too long
    with work.app.app_context():
        assert not ingest.giving_way(now)
    queued_at(work.app, moment(-60), moment(-30))  # queued "in the future": the clock went back
    with work.app.app_context():
        assert not ingest.giving_way(now)


def test_a_job_no_longer_tried_does_not_make_the_worker_give_way(work):
    now = datetime(2026, 11, 22, 9, 0, 0)
    work.push(story_body())
    queued_at(work.app, now)
    with work.app.app_context(), write_transaction():
        db.session.execute(update(IngestJob).values(attempts=ingest.MAX_ATTEMPTS))
    with work.app.app_context():
        assert not ingest.giving_way(now)
