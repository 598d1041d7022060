"""The visit journey through the page-checking client: every page checked as it is fetched."""

from __future__ import annotations

import re

import pytest

from app import queries
from app.models import AuditEvent, Visit
from tests.support.factories import make_profile, make_visit

START = {
    "given_name": "Joan",
    "family_name": "Example",
    "date_of_birth": ["27", "3", "1944"],
    "address_line_1": "1 Test Street",
    "town": "Blaby",
    "postcode": "le19 2dr",
    "district": "blaby",
    "setting": "home",
    "referral_source": "gp",
    "first_contact_date": ["2", "11", "2026"],
    "visit_date": ["9", "11", "2026"],
}


def visit_id_from(location: str) -> str:
    return re.search(r"/visits/([0-9a-f-]{36})", location).group(1)


def start(client, **over) -> str:
    response = client.submit("/visits/start", {**START, **over})
    assert response.status_code == 302, response.get_data(as_text=True)
    return visit_id_from(response.headers["Location"])


def load(app, visit_id: str) -> Visit:
    import uuid

    with app.app_context():
        from app.extensions import db

        return db.session.get(Visit, uuid.UUID(visit_id))


def test_signing_in_with_a_wrong_passphrase_is_refused_with_a_message(client, profile):
    response = client.submit("/sign-in", {"email": profile.email, "passphrase": "not it at all"})
    assert response.status_code == 200
    assert "Enter a correct email address and passphrase" in response.get_data(as_text=True)
    assert client.get("/visits").status_code == 302


def test_starting_a_visit_stores_the_resident_with_a_normalised_postcode(app, signed_in):
    visit = load(app, start(signed_in, nhs_number="943 476 5919"))
    assert visit.resident.postcode == "LE19 2DR"
    assert visit.resident.nhs_number == "9434765919"
    assert (visit.form_id, visit.form_version) == ("housing-mot", 1)
    assert visit.status == "draft"


def test_start_visit_errors_are_shown_in_the_gov_uk_pattern_and_input_is_kept(signed_in):
    response = signed_in.submit(
        "/visits/start",
        {**START, "postcode": "LE1", "nhs_number": "943 476 5918", "given_name": "",
         "date_of_birth": ["31", "2", "1944"]},
    )  # fmt: skip
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert signed_in.last_page.title.startswith("Error: Start a visit")
    summary = html[
        html.index("govuk-error-summary") : html.index("</ul>", html.index("govuk-error-summary"))
    ]
    for message, anchor in [
        ("Enter the resident’s first name", "#given_name"),
        ("Date of birth must be a real date", "#date_of_birth-day"),
        ("Enter a real postcode", "#postcode"),
        ("Enter a valid NHS number", "#nhs_number"),
    ]:
        assert message in summary and f'href="{anchor}"' in summary
    assert 'value="LE1"' in html  # what was typed is kept
    assert 'value="Blaby"' in html


def test_consent_section_must_be_done_before_the_others_can_start(signed_in):
    visit_id = start(signed_in)
    html = signed_in.text(f"/visits/{visit_id}")
    assert html.count("Cannot start yet") == 7
    response = signed_in.get(f"/visits/{visit_id}/sections/falls/falls-history")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/visits/{visit_id}")


def answer_consent_section(client, visit_id: str) -> None:
    page = f"/visits/{visit_id}/sections/about-the-person"
    response = client.submit(f"{page}/consent", {"P6": "yes"})
    response = client.submit(
        f"{page}/home-and-household", {"P3": "owner_occupier", "P4": "yes", "P4_carer": "none"}
    )
    response = client.submit(
        f"{page}/health-and-medicines",
        {"P7": "no", "P9": ["arthritis"], "P10": "2", "P8": "no"},
    )
    assert response.headers["Location"].endswith("/check-answers")
    response = client.submit(f"{page}/check-answers", {"completed": "yes"})
    assert response.status_code == 302


def test_each_continue_is_saved_before_the_next_page_shows(app, signed_in):
    visit_id = start(signed_in)
    response = signed_in.submit(
        f"/visits/{visit_id}/sections/about-the-person/consent", {"P6": "yes"}
    )
    assert response.status_code == 302
    visit = load(app, visit_id)
    assert visit.answers["P6"] == "yes"
    assert visit.last_page == response.headers["Location"]
    with app.app_context():
        from app.extensions import db

        actions = db.session.query(AuditEvent.action).filter_by(record_id=visit_id).all()
    assert ("answers_saved",) in actions


def test_task_list_shows_statuses_as_sections_progress(signed_in):
    visit_id = start(signed_in)
    answer_consent_section(signed_in, visit_id)
    html = signed_in.text(f"/visits/{visit_id}")
    assert "Cannot start yet" not in html
    assert "Completed" in html
    assert html.count("Not yet started") == 7
    signed_in.submit(f"/visits/{visit_id}/sections/falls/falls-history", {"F1": "no"})
    assert "In progress" in signed_in.text(f"/visits/{visit_id}")


def test_question_page_errors_use_the_error_prefix_and_link_to_the_field(signed_in):
    visit_id = start(signed_in)
    response = signed_in.submit(f"/visits/{visit_id}/sections/about-the-person/consent", {})
    html = response.get_data(as_text=True)
    assert signed_in.last_page.title.startswith("Error: ")
    assert 'href="#P6"' in html
    assert "govuk-error-message" in html


def test_a_page_opened_in_two_tabs_cannot_silently_overwrite_the_other(app, signed_in):
    visit_id = start(signed_in)
    answer_consent_section(signed_in, visit_id)
    url = f"/visits/{visit_id}/sections/falls/falls-history"
    signed_in.get(url)
    stale_tab = dict(signed_in.last_page.forms[-1].hidden)
    assert signed_in.submit(url, {"F1": "no"}).status_code == 302  # the first tab saves
    response = signed_in.post(url, data={**stale_tab, "F1": "yes"})  # the second tab
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "changed in another tab or window" in html
    assert load(app, visit_id).answers["F1"] == "no"
    # Having seen the warning, the HSC can choose to save their answer deliberately.
    response = signed_in.post(url, data={**signed_in.last_page.forms[-1].hidden, "F1": "yes"})
    assert response.status_code == 302
    assert load(app, visit_id).answers["F1"] == "yes"


def test_home_only_items_are_not_asked_at_a_gp_clinic_and_are_recorded_as_such(signed_in):
    visit_id = start(signed_in, setting="gp_clinic")
    answer_consent_section(signed_in, visit_id)
    falls = f"/visits/{visit_id}/sections/falls"
    # A page of home-only items is skipped altogether...
    response = signed_in.get(f"{falls}/stairs-and-floors")
    assert response.status_code == 302
    assert "stairs-and-floors" not in response.headers["Location"]
    # ...and on a mixed page the home-only item is listed as not asked, with no input.
    html = signed_in.text(f"{falls}/sight-footwear-and-habits")
    assert 'name="F11"' not in html and 'name="F10"' in html
    assert "Not assessed — clinic visit" in html
    html = signed_in.text(f"{falls}/check-answers")
    assert html.count("Not assessed — clinic visit") >= 9


def test_a_section_cannot_be_marked_complete_with_questions_unanswered(signed_in):
    visit_id = start(signed_in)
    answer_consent_section(signed_in, visit_id)
    signed_in.submit(f"/visits/{visit_id}/sections/falls/falls-history", {"F1": "no"})
    response = signed_in.submit(
        f"/visits/{visit_id}/sections/falls/check-answers", {"completed": "yes"}
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "You cannot mark this section as completed" in html
    assert "Not answered" in html


def test_a_completed_visit_is_locked(app, signed_in, profile):
    visit_id = start(signed_in)
    with app.app_context():
        queries.save_consents(profile.id, load(app, visit_id).id, 0, {}, complete=True)
    page = f"/visits/{visit_id}/sections/about-the-person/consent"
    assert signed_in.get(page).status_code == 302
    html = signed_in.text(f"/visits/{visit_id}")
    assert "The visit is locked" in html
    token = signed_in.last_page.forms[0].hidden["csrf_token"]
    response = signed_in.post(page, data={"csrf_token": token, "rev": "0", "P6": "no"})
    assert response.status_code == 302
    assert load(app, visit_id).answers.get("P6") is None
    with app.app_context(), pytest.raises(queries.VisitLocked):
        queries.save_answers(
            profile.id, load(app, visit_id).id, "about-the-person", 0, {"P6": "no"}, [], ""
        )


def test_another_hscs_visit_is_not_found(app, signed_in):
    with app.app_context():
        other = make_profile()
        visit = make_visit(other)
    for url in (f"/visits/{visit.id}", f"/visits/{visit.id}/summary",
                f"/visits/{visit.id}/sections/falls/falls-history"):  # fmt: skip
        assert signed_in.get(url).status_code == 404


def test_a_question_left_unanswered_asks_for_an_answer_rather_than_calling_it_invalid(signed_in):
    visit_id = start(signed_in)
    html = signed_in.submit(f"/visits/{visit_id}/sections/about-the-person/consent", {}).get_data(
        as_text=True
    )
    assert "Select an answer for: Does the resident agree" in html
    assert "Not a valid choice" not in html


def test_an_impossible_date_keeps_its_own_message(signed_in):
    html = signed_in.submit("/visits/start", {**START, "date_of_birth": ["31", "2", ""]}).get_data(
        as_text=True
    )
    assert "Date of birth must include a year" in html
    assert "Enter the resident’s date of birth" not in html


def test_the_summary_shows_the_key_safe_conflict_warning(app, signed_in, profile):
    visit_id = start(signed_in)
    with app.app_context():
        queries.save_answers(profile.id, load(app, visit_id).id, "security", 0,
                             {"S_KEYSAFE": "yes", "S_CHAIN": "yes"}, [], "")  # fmt: skip
    html = signed_in.text(f"/visits/{visit_id}/summary")
    assert "govuk-warning-text" in html
    assert "key safe" in html.lower() and "chain" in html.lower()


def test_the_summary_suggests_a_home_visit_after_a_clinic_visit_that_finds_falls(
    app, signed_in, profile
):
    visit_id = start(signed_in, setting="gp_clinic")
    with app.app_context():
        queries.save_answers(profile.id, load(app, visit_id).id, "falls", 0,
                             {"F1": "yes", "F2": 2}, [], "")  # fmt: skip
    html = signed_in.text(f"/visits/{visit_id}/summary")
    assert 'id="prompt-home_visit_suggested"' in html
