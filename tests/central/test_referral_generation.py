"""Referrals made on central on ingest: the same rules and evaluator as the field node's
preview, one per service per visit, no second open referral to a service for a resident,
and a revised visit's proposals made again once."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select

from app.central import reviews
from app.extensions import db
from app.formengine import VisitView
from app.formengine.evaluation import age_on
from app.models import CentralVisit, Referral
from tests.browser.journey import CASE_STORIES
from tests.support.casework import Casework, story_body


@pytest.fixture
def work(central_app) -> Casework:
    return Casework(central_app)


def referrals(app, **where) -> list[Referral]:
    with app.app_context():
        query = select(Referral).filter_by(**where).order_by(Referral.service)
        return list(db.session.scalars(query))


@pytest.mark.parametrize("story", ["case-story-1", "case-story-2"])
def test_a_visit_gets_the_referrals_and_signposts_the_field_preview_shows(work, story):
    body = story_body(story)
    assert work.push(body)[0]["status"] == "created"

    made = referrals(work.app, visit_id=uuid.UUID(body["visit"]["id"]))
    data = CASE_STORIES[story]
    assert sorted(r.service for r in made if r.kind == "referral") == sorted(
        data["expected_referrals"]
    )
    assert sorted(r.service for r in made if r.kind == "signpost") == sorted(
        data["expected_signposts"]
    )
    # The reasons are the field node's own, word for word (one evaluator, one set of rules).
    with work.app.app_context():
        definition = work.app.extensions["forms"].get("housing-mot", 1)
    from datetime import date

    preview = VisitView(
        definition,
        body["answers"],
        setting=body["visit"]["setting"],
        age=age_on(date.fromisoformat(body["resident"]["date_of_birth"]), date(2026, 11, 9)),
        referral_source=body["visit"]["referral_source"],
    ).outcomes.by_output()
    for referral in made:
        assert tuple(referral.reasons) == preview[referral.service].reasons
        assert referral.reasons, referral.service
    assert {r.status for r in made if r.kind == "referral"} == {"proposed"}
    assert {r.consent for r in made if r.kind == "referral"} == {"yes"}
    assert {r.status for r in made if r.kind == "signpost"} == {"information"}


def test_a_referral_without_consent_is_information_only_and_flags_the_visit(work):
    body = story_body(consents={"minor_adaptations": "yes", "handyperson": "no"})
    work.push(body)
    made = {r.service: r for r in referrals(work.app, visit_id=uuid.UUID(body["visit"]["id"]))}
    assert made["minor_adaptations"].status == "proposed"
    assert made["handyperson"].status == "information"
    assert made["handyperson"].consent == "no"
    assert made["assistive_technology"].status == "information"  # consent not recorded
    with work.app.app_context():
        visit = db.session.get(CentralVisit, uuid.UUID(body["visit"]["id"]))
        assert "no_consent" in visit.flags


def test_hospital_discharge_is_flagged_and_urgent(work):
    body = story_body(referral_source="hospital_discharge")
    work.push(body)
    with work.app.app_context():
        visit = db.session.get(CentralVisit, uuid.UUID(body["visit"]["id"]))
        assert visit.flags == ["hospital_discharge"]
    made = referrals(work.app, visit_id=uuid.UUID(body["visit"]["id"]))
    assert {r.priority for r in made} == {"urgent"}


def test_a_clinic_visit_that_suggests_a_home_visit_is_flagged(work):
    body = story_body("case-story-1", setting="gp_clinic")
    work.push(body)
    with work.app.app_context():
        visit = db.session.get(CentralVisit, uuid.UUID(body["visit"]["id"]))
        assert "home_visit_suggested" in visit.flags


def test_no_second_open_referral_to_a_service_for_the_same_resident(work):
    resident = uuid.uuid4()
    first, second = story_body(resident_id=resident), story_body(resident_id=resident)
    work.push(first)
    work.push(second)
    made = referrals(work.app, resident_id=resident, kind="referral", status="proposed")
    by_service: dict[str, list] = {}
    for referral in made:
        by_service.setdefault(referral.service, []).append(referral.visit_id)
    assert by_service and all(len(visits) == 1 for visits in by_service.values())
    assert {v for visits in by_service.values() for v in visits} == {
        uuid.UUID(first["visit"]["id"])
    }


def test_two_visits_for_one_resident_in_one_push_make_one_referral_per_service(work):
    resident = uuid.uuid4()
    work.push(story_body(resident_id=resident), story_body(resident_id=resident))
    made = referrals(work.app, resident_id=resident, kind="referral", status="proposed")
    services = [r.service for r in made]
    assert len(services) == len(set(services)) > 0


def test_a_replayed_revision_makes_nothing_new(work):
    body = story_body()
    work.push(body)
    before = len(referrals(work.app))
    assert [r["status"] for r in work.replay()] == ["unchanged"]
    assert len(referrals(work.app)) == before > 0


def test_a_revised_visit_regenerates_its_proposals_once(work):
    body = story_body()
    visit_id = uuid.UUID(body["visit"]["id"])
    work.push(body)
    with work.app.app_context():
        leader = db.session.merge(work.leader)
        visit = db.session.get(CentralVisit, visit_id)
        reviews.return_visit(leader, visit_id, visit.sha256, "Add the step height")
    corrected = {**body, "consents": {**body["consents"], "handyperson": "no"}}
    assert work.push(corrected)[0]["status"] == "revised"
    made = referrals(work.app, visit_id=visit_id)
    services = [(r.kind, r.service) for r in made]
    assert len(services) == len(set(services))  # not twice
    assert {r.revision for r in made} == {2}
    handyperson = next(r for r in made if r.service == "handyperson")
    assert handyperson.status == "information"
    with work.app.app_context():
        count = db.session.scalar(select(func.count()).select_from(Referral))
    assert count == len(made)


def test_a_follow_up_proposes_only_new_needs_and_is_not_flagged_for_unasked_consent(work):
    """The final visit repeats the first visit's answers: what is open is not referred again
    (whatever consent says), and what was completed for the same reasons is not either."""
    resident = uuid.uuid4()
    first = story_body(resident_id=resident)
    work.push(first)
    with work.app.app_context():
        visit = db.session.get(CentralVisit, uuid.UUID(first["visit"]["id"]))
        reviews.approve_visit(db.session.merge(work.leader), visit.id, visit.sha256)
        done = db.session.scalars(
            select(Referral).where(
                Referral.visit_id == visit.id, Referral.service == "assistive_technology"
            )
        ).one()
        done.status = "completed"
        db.session.commit()
    follow_up = story_body(
        resident_id=resident,
        kind="follow_up",
        previous_visit_id=first["visit"]["id"],
        consents={"occupational_therapy": "yes"},
        A3="yes",  # a major adaptation now looks likely: a new need
    )
    work.push(follow_up)
    made = referrals(work.app, visit_id=uuid.UUID(follow_up["visit"]["id"]), kind="referral")
    assert [(r.service, r.status) for r in made] == [("occupational_therapy", "proposed")]
    with work.app.app_context():
        visit = db.session.get(CentralVisit, uuid.UUID(follow_up["visit"]["id"]))
        assert "no_consent" not in visit.flags
