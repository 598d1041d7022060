"""My residents, a resident's visits and referrals, and the follow-up visit that checks the
works are done: started from the last visit's answers, asking the after-works questions."""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime
from pathlib import Path

import pytest
import yaml
from flask import current_app
from sqlalchemy import select

from app import queries, residents
from app.extensions import db
from app.models import OutboxEntry, ReferralStatus, Visit
from app.visits.helpers import all_sections_complete, view_for
from tests.support.factories import make_profile, make_visit

ROOT = Path(__file__).resolve().parents[2]
STORY = yaml.safe_load((ROOT / "forms/housing_mot/examples/case-stories.yaml").read_text())[
    "case-story-1"
]


def completed_visit(profile, **resident) -> Visit:
    """A first visit with every section completed and consent given for each referral."""
    visit = make_visit(profile, resident=resident or None)
    queries.save_answers(profile.id, visit.id, "about-the-person", 0, STORY["answers"], [], "")
    for section in current_app.extensions["forms"].latest("housing-mot").sections:
        visit = db.session.get(Visit, visit.id)
        rev = queries.section_rev(visit, section.id)
        visit = queries.mark_section(profile.id, visit.id, section.id, rev, True)
    view = view_for(visit)
    assert all_sections_complete(visit, view)
    consents = {finding.output.id: "yes" for finding in view.outcomes.referrals}
    return queries.save_consents(profile.id, visit.id, 0, consents, complete=True)


def referral(visit: Visit, service: str, status: str, **over) -> ReferralStatus:
    row = ReferralStatus(
        id=uuid.uuid4(),
        visit_id=visit.id,
        resident_id=visit.resident_id,
        service=service,
        name=over.pop("name", service.replace("_", " ").capitalize()),
        status=status,
        consent="yes",
        issued_at=datetime(2026, 11, 12, 10, 0),
        server_seq=1,
        **over,
    )
    db.session.add(row)
    db.session.commit()
    return row


def visit_id_from(location: str) -> str:
    return re.search(r"/visits/([0-9a-f-]{36})$", location).group(1)


def today() -> list[str]:
    now = date.today()
    return [str(now.day), str(now.month), str(now.year)]


def follow_up_from(client, resident_id, **over) -> str:
    data = {"visit_date": today(), "setting": "home", **over}
    response = client.submit(f"/residents/{resident_id}", data)
    assert response.status_code == 302, response.get_data(as_text=True)
    return visit_id_from(response.headers["Location"])


def test_my_residents_lists_this_hscs_residents_with_their_referral_statuses(
    app, signed_in, profile
):
    with app.app_context():
        first = completed_visit(profile)
        referral(first, "handyperson", "completed", completed_on=date(2026, 12, 3))
        referral(first, "minor_adaptations", "declined", decline_reason="Already fitted")
        referral(first, "assistive_technology", "accepted")
        referral(first, "fire_and_rescue", "issued")
        make_visit(profile, resident={"given_name": "Albert"}, visit_date=date(2026, 11, 20))
        other = make_profile()
        stranger = make_visit(other, resident={"given_name": "Stranger"})
        referral(stranger, "handyperson", "issued")
    html = signed_in.text("/residents")
    assert signed_in.last_page.h1 == ["My residents"]
    assert "Joan Example" in html and "Albert Example" in html
    assert "Stranger" not in html
    assert html.index("Albert Example") < html.index("Joan Example")  # most recent first
    for words in ("Completed", "on 3 December 2026", "Declined", "Already fitted", "Accepted"):
        assert words in html
    assert "Issued" in html
    assert 'href="/residents"' in html  # in the header navigation


def test_a_resident_page_shows_visits_with_the_office_status_and_referrals(app, signed_in, profile):
    with app.app_context():
        first = completed_visit(profile)
        returned = make_visit(profile, resident={"given_name": "Ruth"})
        stored = db.session.get(Visit, returned.id)
        stored.office_status, stored.office_comment = "returned", "Add the step height"
        referral(first, "handyperson", "accepted", name="Handyperson")
        db.session.commit()
    html = signed_in.text(f"/residents/{first.resident_id}")
    assert signed_in.last_page.h1 == ["Joan Example"]
    assert "First visit, 9 November 2026" in html
    assert "Handyperson" in html and "Accepted" in html
    assert "Start follow-up visit" in html
    html = signed_in.text(f"/residents/{returned.resident_id}")
    assert "Returned by the office" in html and "Add the step height" in html
    assert "Start follow-up visit" not in html  # the visit in progress comes first
    assert "Continue the visit in progress" in html


def test_another_hscs_resident_is_not_found(app, signed_in):
    with app.app_context():
        visit = completed_visit(make_profile())
    assert signed_in.get(f"/residents/{visit.resident_id}").status_code == 404
    assert signed_in.get(f"/residents/{uuid.uuid4()}").status_code == 404
    signed_in.get("/residents")
    token = signed_in.last_page.forms[0].hidden["csrf_token"]
    response = signed_in.post(
        f"/residents/{visit.resident_id}/follow-up",
        data={"csrf_token": token, "visit_date": today(), "setting": "home"},
    )
    assert response.status_code == 404


def test_a_follow_up_starts_prefilled_from_the_last_visit(app, signed_in, profile):
    with app.app_context():
        first = completed_visit(profile)
    visit_id = follow_up_from(signed_in, first.resident_id)
    with app.app_context():
        follow_up = db.session.get(Visit, uuid.UUID(visit_id))
        previous = db.session.get(Visit, first.id)
        assert (follow_up.kind, follow_up.previous_visit_id) == ("follow_up", first.id)
        assert follow_up.resident_id == first.resident_id
        assert follow_up.answers == previous.answers
        assert follow_up.consents == {} and previous.consents  # consent is asked again
        assert (follow_up.referral_source, follow_up.first_contact_date) == (
            previous.referral_source,
            previous.first_contact_date,
        )
        assert follow_up.visit_date == date.today() and follow_up.status == "draft"
        assert (follow_up.form_id, follow_up.form_version) == ("housing-mot", 1)
        assert follow_up.progress["what-matters"]["completed"] is False
    html = signed_in.text(f"/visits/{visit_id}")
    assert signed_in.last_page.h1 == ["Final visit for Joan Example"]
    assert html.count("In progress") == 1  # what matters: the after-works questions
    assert re.search(r"Ask what matters to the resident\s*</a>\s*</div>\s*<div[^>]*>\s*"
                     r"<strong[^>]*>\s*In progress", html)  # fmt: skip
    assert "Not yet started" not in html and "Cannot start yet" not in html


def test_a_follow_up_asks_the_after_works_questions_and_can_be_completed(app, signed_in, profile):
    with app.app_context():
        first = completed_visit(profile)
    visit_id = follow_up_from(signed_in, first.resident_id)
    section = f"/visits/{visit_id}/sections/what-matters"
    html = signed_in.text(f"{section}/check-answers")
    assert "How safe, warm and well do you feel in your home now?" in html
    assert "Has the service achieved everything you wanted?" in html
    response = signed_in.submit(f"{section}/check-answers", {"completed": "yes"})
    assert "You cannot mark this section as completed" in response.get_data(as_text=True)
    signed_in.text(f"{section}/after-the-works")
    response = signed_in.submit(
        f"{section}/after-the-works", {"WM_RATING_AFTER": "5", "WM_ACHIEVED": "yes"}
    )
    assert response.headers["Location"].endswith("/check-answers")
    assert signed_in.submit(f"{section}/check-answers", {"completed": "yes"}).status_code == 302
    # The final visit finds new needs: a Blue Badge application, as in the first case story.
    money = f"/visits/{visit_id}/sections/money"
    with app.app_context():
        visit = db.session.get(Visit, uuid.UUID(visit_id))
        rev = queries.section_rev(visit, "money")
        queries.save_answers(profile.id, visit.id, "money", rev, {"I7": "yes"}, [], "")
    assert signed_in.submit(f"{money}/check-answers", {"completed": "yes"}).status_code == 302
    summary = signed_in.text(f"/visits/{visit_id}/summary")
    assert "Blue Badge" in summary
    consents = dict.fromkeys(re.findall(r'name="(consent-[a-z_]+)"', summary), "yes")
    response = signed_in.submit(f"/visits/{visit_id}/summary", {**consents, "action": "complete"})
    assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context():
        visit = db.session.get(Visit, uuid.UUID(visit_id))
        assert visit.status == "completed"
        assert (visit.answers["WM_RATING_AFTER"], visit.answers["WM_ACHIEVED"]) == ("5", "yes")
        entry = db.session.scalar(select(OutboxEntry).where(OutboxEntry.visit_id == visit.id))
    assert entry.body["visit"]["kind"] == "follow_up"
    assert entry.body["visit"]["previous_visit_id"] == str(first.id)
    assert entry.body["answers"]["WM_ACHIEVED"] == "yes"


def test_a_first_visit_does_not_ask_the_after_works_questions(app, signed_in, profile):
    with app.app_context():
        first = completed_visit(profile)
        assert "WM_RATING_AFTER" not in first.answers
    html = signed_in.text(f"/visits/{first.id}")
    assert "How safe, warm and well do you feel in your home now?" not in html


def test_an_open_referral_is_not_asked_for_again_on_the_follow_up(app, signed_in, profile):
    with app.app_context():
        first = completed_visit(profile)
        services = [f.output.id for f in view_for(first).outcomes.referrals]
        assert "handyperson" in services
        referral(first, "handyperson", "accepted", name="Handyperson")
    visit_id = follow_up_from(signed_in, first.resident_id)
    summary = signed_in.text(f"/visits/{visit_id}/summary")
    assert "Already referred (Accepted)" in summary
    assert 'name="consent-handyperson"' not in summary
    signed_in.submit(f"/visits/{visit_id}/summary", {"action": "save"})
    with app.app_context():
        visit = db.session.get(Visit, uuid.UUID(visit_id))
        assert "handyperson" not in visit.consents  # not asked, so nothing is recorded


def test_a_follow_up_cannot_start_from_a_draft_or_another_hscs_visit(app, signed_in, profile):
    with app.app_context():
        draft = make_visit(profile)
        resident_id = draft.resident_id
        with pytest.raises(residents.FollowUpRefused):
            residents.start_follow_up(profile, draft.id, date(2026, 12, 5), "home")
        theirs = completed_visit(make_profile())
        with pytest.raises(LookupError):
            residents.start_follow_up(profile, theirs.id, date(2026, 12, 5), "home")
    signed_in.get(f"/residents/{resident_id}")
    token = signed_in.last_page.forms[0].hidden["csrf_token"]
    response = signed_in.post(
        f"/residents/{resident_id}/follow-up",
        data={"csrf_token": token, "visit_date": today(), "setting": "home"},
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/residents/{resident_id}")
    with app.app_context():
        assert db.session.scalars(select(Visit).where(Visit.kind == "follow_up")).all() == []


def test_a_second_follow_up_while_one_is_in_progress_goes_back_to_it(app, signed_in, profile):
    with app.app_context():
        first = completed_visit(profile)
        started = residents.start_follow_up(profile, first.id, date(2026, 12, 5), "home")
        with pytest.raises(residents.FollowUpInProgress) as refused:
            residents.start_follow_up(profile, first.id, date(2026, 12, 5), "home")
        assert refused.value.visit.id == started.id
        resident_id = first.resident_id
    # A resend of the start form (a double tap, a second tab) lands on the same visit.
    signed_in.get(f"/residents/{resident_id}")
    token = signed_in.last_page.forms[0].hidden["csrf_token"]
    response = signed_in.post(
        f"/residents/{resident_id}/follow-up",
        data={"csrf_token": token, "visit_date": today(), "setting": "home"},
    )
    assert response.headers["Location"].endswith(f"/visits/{started.id}")


def test_follow_up_errors_are_shown_on_the_resident_page(app, signed_in, profile):
    with app.app_context():
        first = completed_visit(profile)
    response = signed_in.submit(
        f"/residents/{first.resident_id}", {"visit_date": ["1", "1", "2026"], "setting": ""}
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert signed_in.last_page.title.startswith("Error: Joan Example")
    assert "Date of this visit must be on or after the last visit, 9 November 2026" in html
    assert "Select where the visit is taking place" in html


def test_a_follow_up_at_home_after_a_clinic_visit_reopens_sections_with_new_questions(app, profile):
    with app.app_context():
        visit = make_visit(profile, setting="gp_clinic")
        queries.save_answers(profile.id, visit.id, "x", 0, STORY["answers"], [], "")
        definition = current_app.extensions["forms"].latest("housing-mot")
        for section in definition.sections:
            visit = db.session.get(Visit, visit.id)
            rev = queries.section_rev(visit, section.id)
            queries.mark_section(profile.id, visit.id, section.id, rev, True)
        queries.save_consents(profile.id, visit.id, 0, {}, complete=True)
        follow_up = residents.start_follow_up(profile, visit.id, date(2026, 12, 5), "home")
        view = view_for(follow_up)
        for section in definition.sections:
            done = follow_up.progress.get(section.id, {}).get("completed")
            assert done == (not view.missing(section) and section.id != "what-matters")
