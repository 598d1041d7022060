"""Team-leader review: the queue (their districts only, oldest first, with flags), the visit
page, and the decisions: approve pinned to the revision shown (refused for a stale one) and
return with a comment. Every decision is audited and reaches the HSC's device by pull."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.central import reviews
from app.extensions import db
from app.models import CentralAuditEvent, CentralVisit, Referral, Review
from tests.support.accounts import PASSWORD
from tests.support.casework import Casework, story_body


@pytest.fixture
def work(central_app) -> Casework:
    return Casework(central_app)


def sign_in(client, user) -> None:
    client.sign_in(user.email, PASSWORD)


def form_with_action(client, url: str, action_suffix: str):
    client.get(url)
    forms = [f for f in client.last_page.forms if (f.action or "").endswith(action_suffix)]
    assert len(forms) == 1, [f.action for f in client.last_page.forms]
    return forms[0]


def decide(client, visit_id, decision: str, **data):
    url = f"/review/visits/{visit_id}"
    form = form_with_action(client, url, f"/{decision}")
    return client.post(form.action, data={**form.hidden, **data})


def state(app, visit_id) -> tuple[str, list[str]]:
    with app.app_context():
        visit = db.session.get(CentralVisit, uuid.UUID(str(visit_id)))
        statuses = db.session.scalars(
            select(Referral.status).where(
                Referral.visit_id == visit.id, Referral.kind == "referral"
            )
        ).all()
        return visit.status, sorted(statuses)


# The queue -------------------------------------------------------------------------------


def test_the_queue_lists_only_the_team_leaders_districts_oldest_first(work, central_client):
    old, new = story_body(), story_body()
    elsewhere = story_body(district="melton")
    work.push(old)
    work.push(new, elsewhere)
    with work.app.app_context():
        visit = db.session.get(CentralVisit, uuid.UUID(old["visit"]["id"]))
        visit.received_at -= timedelta(days=3)
        db.session.commit()
    sign_in(central_client, work.leader)
    html = central_client.text("/review")
    links = re.findall(r'href="/review/visits/([0-9a-f-]+)"', html)
    assert links == [old["visit"]["id"], new["visit"]["id"]]
    assert elsewhere["visit"]["id"] not in html
    assert "3 days" in html
    assert "Sam Patel" in html


def test_the_queue_shows_flags(work, central_client):
    work.push(story_body(referral_source="hospital_discharge", consents={}))
    sign_in(central_client, work.leader)
    html = central_client.text("/review")
    assert "Hospital discharge" in html
    assert "No consent to share" in html


def test_a_team_leader_lands_on_the_queue(work, central_client):
    sign_in(central_client, work.leader)
    response = central_client.get("/")
    assert response.status_code == 302 and response.location.endswith("/review")


# The visit page --------------------------------------------------------------------------


def test_the_visit_page_shows_answers_referrals_signposts_and_ratings(work, central_client):
    body = story_body("case-story-1", setting="gp_clinic")
    work.push(body)
    sign_in(central_client, work.leader)
    html = central_client.text(f"/review/visits/{body['visit']['id']}")
    assert "Housing MOT for Margaret Hollis" in html
    assert "Not assessed — clinic visit" in html
    assert "Minor adaptations" in html and "Proposed" in html
    assert "Community groups and befriending" in html  # a signpost
    assert "Before the MOT" in html and "3 – okay" in html
    assert "Home visit suggested after a clinic visit" in html
    assert "Revision 1" in html


def test_reading_a_visit_is_audited(work, central_client):
    body = story_body()
    work.push(body)
    sign_in(central_client, work.leader)
    central_client.text(f"/review/visits/{body['visit']['id']}")
    with work.app.app_context():
        actions = db.session.scalars(
            select(CentralAuditEvent.action).where(
                CentralAuditEvent.record_id == body["visit"]["id"],
                CentralAuditEvent.actor_id == work.leader.id,
            )
        ).all()
    assert actions == ["visit_viewed"]


def test_the_history_shows_what_changed_between_revisions(work, central_client):
    body = story_body()
    work.push(body)
    with work.app.app_context():
        visit = db.session.get(CentralVisit, uuid.UUID(body["visit"]["id"]))
        reviews.return_visit(db.session.merge(work.leader), visit.id, visit.sha256, "Check")
    work.push({**body, "answers": {**body["answers"], "WM_RATING_BEFORE": "4"}})
    sign_in(central_client, work.leader)
    html = central_client.text(f"/review/visits/{body['visit']['id']}")
    assert "Changed since revision 1" in html
    changed = re.search(r"Changed since revision 1.*?</table>", html, re.S).group(0)
    assert "How safe, warm and well do you feel in your home today?" in changed
    assert "1 – very poor" not in changed
    assert "2 – poor" in changed and "4 – good" in changed
    assert "returned by Terry Lead" in html and "Check" in html


# Decisions -------------------------------------------------------------------------------


def test_approving_issues_the_proposed_referrals_and_tells_the_device(work, central_client):
    body = story_body(consents={"minor_adaptations": "yes", "assistive_technology": "yes"})
    work.push(body)
    visit_id = body["visit"]["id"]
    cursor = work.pull()["next_cursor"]
    sign_in(central_client, work.leader)
    response = decide(central_client, visit_id, "approve")
    assert response.status_code == 302 and response.location.endswith("/review")

    status, referral_statuses = state(work.app, visit_id)
    assert status == "approved"
    assert referral_statuses.count("issued") == 2
    assert "proposed" not in referral_statuses
    page = work.pull(cursor)
    kinds = [change["kind"] for change in page["changes"]]
    assert kinds[0] == "visit.approved" and kinds.count("referral.status") == 2
    issued = [c["payload"] for c in page["changes"] if c["kind"] == "referral.status"]
    assert {p["service"] for p in issued} == {"minor_adaptations", "assistive_technology"}
    assert {p["status"] for p in issued} == {"issued"}
    with work.app.app_context():
        [review] = db.session.scalars(select(Review)).all()
        assert (review.decision, review.reviewer_id, review.revision) == (
            "approved",
            work.leader.id,
            1,
        )
        visit = db.session.get(CentralVisit, uuid.UUID(visit_id))
        assert visit.approved_at is not None
        actions = db.session.scalars(
            select(CentralAuditEvent.action).where(CentralAuditEvent.actor_id == work.leader.id)
        ).all()
        assert "visit_approved" in actions and actions.count("referral_issued") == 2


def test_returning_needs_a_comment_and_changes_nothing_without_one(work, central_client):
    body = story_body()
    work.push(body)
    sign_in(central_client, work.leader)
    response = decide(central_client, body["visit"]["id"], "return", comment="  ")
    assert response.status_code == 400
    assert "Enter a comment that tells the HSC what to change" in response.get_data(as_text=True)
    assert state(work.app, body["visit"]["id"])[0] == "received"


def test_returning_sends_the_comment_to_the_device_and_a_revision_comes_back(work, central_client):
    body = story_body()
    work.push(body)
    cursor = work.pull()["next_cursor"]
    sign_in(central_client, work.leader)
    response = decide(central_client, body["visit"]["id"], "return", comment="Add the step height")
    assert response.status_code == 302
    assert state(work.app, body["visit"]["id"])[0] == "returned"
    [change] = work.pull(cursor)["changes"]
    assert change["kind"] == "visit.returned"
    assert change["payload"]["comment"] == "Add the step height"
    assert change["payload"]["revision"] == 1

    # The HSC corrects it: revision 2 is back in the queue.
    assert (
        work.push({**body, "answers": {**body["answers"], "WM_PRIORITY": "Steps"}})[0]["status"]
        == "revised"
    )
    assert state(work.app, body["visit"]["id"])[0] == "received"
    assert body["visit"]["id"] in central_client.text("/review")


def test_approval_of_a_stale_revision_is_refused_and_says_why(work, central_client):
    body = story_body()
    work.push(body)
    visit_id = body["visit"]["id"]
    sign_in(central_client, work.leader)
    form = form_with_action(central_client, f"/review/visits/{visit_id}", "/approve")
    # Meanwhile the visit is returned and revised by the HSC: revision 2 arrives.
    with work.app.app_context():
        visit = db.session.get(CentralVisit, uuid.UUID(visit_id))
        reviews.return_visit(db.session.merge(work.leader), visit.id, visit.sha256, "Fix it")
    work.push({**body, "answers": {**body["answers"], "WM_PRIORITY": "Steps"}})

    response = central_client.post(form.action, data=form.hidden)
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "A newer revision of this visit (revision 2) arrived after you opened it" in html
    status, referral_statuses = state(work.app, visit_id)
    assert status == "received" and "issued" not in referral_statuses
    with work.app.app_context():
        assert db.session.scalars(select(Review.decision)).all() == ["returned"]


def test_a_decided_visit_cannot_be_decided_again(work):
    body = story_body()
    work.push(body)
    with work.app.app_context():
        leader = db.session.merge(work.leader)
        visit = db.session.get(CentralVisit, uuid.UUID(body["visit"]["id"]))
        sha = visit.sha256
        reviews.approve_visit(leader, visit.id, sha)
        with pytest.raises(reviews.ReviewRefused, match="already been approved"):
            reviews.return_visit(leader, visit.id, sha, "Too late")
        with pytest.raises(reviews.ReviewRefused, match="already been approved"):
            reviews.approve_visit(leader, visit.id, sha)
        assert len(db.session.scalars(select(Review)).all()) == 1


def test_the_visit_page_records_timings_and_flags_a_skewed_tablet_clock(work, central_client):
    body = story_body(consents={"minor_adaptations": "yes"})
    work.push(body, device_time=datetime.now(UTC) + timedelta(hours=2, minutes=1))
    with work.app.app_context():
        visit = db.session.get(CentralVisit, uuid.UUID(body["visit"]["id"]))
        reviews.approve_visit(db.session.merge(work.leader), visit.id, visit.sha256)
    sign_in(central_client, work.leader)
    html = central_client.text(f"/review/visits/{body['visit']['id']}")
    timings = re.search(r">Timings<.*?</dl>", html, re.S).group(0)
    assert "2026-11-02" in timings and "2026-11-09" in timings  # first contact, MOT
    assert re.search(r"Minor adaptations.*?issued \d+ \w+ \d{4}", timings, re.S)
    assert "Not yet" not in timings  # approved, with the office's time
    assert "Tablet clock 2 hours ahead of the office clock" in html


def test_the_queue_pages_oldest_first_across_pages(work, central_client, monkeypatch):
    monkeypatch.setattr(reviews, "QUEUE_PAGE_SIZE", 2)
    bodies = [story_body() for _ in range(3)]
    for body in bodies:
        work.push(body)
    sign_in(central_client, work.leader)
    pages = [central_client.text(f"/review?page={n}") for n in (1, 2)]
    found = [re.findall(r'href="/review/visits/([0-9a-f-]+)"', html) for html in pages]
    assert found == [[b["visit"]["id"] for b in bodies[:2]], [bodies[2]["visit"]["id"]]]
    assert "3 visits waiting" in pages[0]
