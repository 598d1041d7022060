"""Providers on central: their service's issued referrals only, with only the answers that
referral needs; accepting, completing and declining, each stamped, audited and sent back to
the HSC; refusals that change nothing; the CSV export; and every way in for anyone else."""

from __future__ import annotations

import csv
import io
import re
import uuid
from datetime import date, timedelta

import pytest

from app.central import providers
from app.extensions import db
from app.models import Referral
from app.models.field import utcnow
from tests.support.accounts import PASSWORD, make_user
from tests.support.casework import Casework, story_body
from tests.support.pages import PageClient
from tests.support.referral_work import (
    approve,
    audit_actions,
    client_for,
    csrf,
    day_parts,
    issue,
    last_change,
    push,
    referral_of,
    report,
    snapshot,
    step,
)

REFERRAL_LINK = re.compile(r'href="/referrals/([0-9a-f-]{36})"')
# Answers from case story 2 that no provider service is shown.
NOT_SHARED = ("Feel safe at home and get help quickly if I fall", "COPD", "Diabetes", "1946")


@pytest.fixture
def work(central_app) -> Casework:
    return Casework(central_app)


# --- The queue ------------------------------------------------------------------------


def test_the_queue_lists_only_issued_referrals_to_the_providers_own_service(work):
    issued = referral_of(work, issue(work))
    other_story = referral_of(work, issue(work, "case-story-1"))
    proposed = referral_of(work, push(work))  # not approved yet
    no_consent = issue(work, consents={"minor_adaptations": "yes", "handyperson": "no"})
    information = referral_of(work, no_consent)
    assert information.status == "information"
    other_service = referral_of(work, no_consent, "minor_adaptations")

    html = client_for(work).text("/referrals")
    shown = set(REFERRAL_LINK.findall(html))
    assert shown == {str(issued.id), str(other_story.id)}
    assert {str(proposed.id), str(information.id), str(other_service.id)}.isdisjoint(shown)
    assert "Margaret Hollis" in html and "Narborough, LE19 2DR" in html


def test_urgent_referrals_come_first_then_the_longest_waiting(work):
    now = utcnow()
    newer = referral_of(work, issue(work, now=now - timedelta(days=1)))
    older = referral_of(work, issue(work, now=now - timedelta(days=5)))
    urgent = referral_of(work, issue(work, now=now, referral_source="hospital_discharge"))
    html = client_for(work).text("/referrals")
    assert REFERRAL_LINK.findall(html) == [str(urgent.id), str(older.id), str(newer.id)]
    assert "Urgent" in html


def test_the_queue_is_paginated(work, monkeypatch):
    monkeypatch.setattr(providers, "PAGE_SIZE", 2)
    for _ in range(3):
        issue(work)
    client = client_for(work)
    assert len(REFERRAL_LINK.findall(client.text("/referrals"))) == 2
    assert len(REFERRAL_LINK.findall(client.text("/referrals?page=2"))) == 1
    assert "3 open referrals" in client.text("/referrals?page=2")


def test_closed_referrals_leave_the_open_list_for_recently_closed(work):
    done = referral_of(work, issue(work))
    client = client_for(work)
    report(client, done.id, "complete", {"completed_on": day_parts(date.today())})
    html = client.text("/referrals")
    assert "print.css" not in html  # the print stylesheet is for the referral sheet only
    assert "There are no open referrals to your service" in html
    assert REFERRAL_LINK.findall(html) == [str(done.id)]
    assert "Completed" in html


def test_home_takes_a_provider_to_their_referrals_from_the_header_link(work):
    client = client_for(work)
    assert client.get("/").headers["Location"] == "/referrals"
    assert 'href="/referrals" aria-current="true"' in client.text("/referrals")


# --- The referral sheet ---------------------------------------------------------------


def test_the_sheet_shows_what_the_job_needs_and_nothing_else_of_the_visit(work):
    visit_id = issue(work)
    handyperson = referral_of(work, visit_id)
    html = client_for(work).text(f"/referrals/{handyperson.id}")
    for expected in (
        "Edith Marlow",
        "4 Church Lane",
        "LE13 1AB",
        "01664 000000",
        "Has had a break-in or is afraid of intruders",  # a reason, in words
        "Access and other details",
        "Do the front and back doors have secure locks, and do the windows lock?",
        "Is a key safe wanted or in use",
        "Do pets get under the resident",
        "Print this referral",
        "Sam Patel",
    ):
        assert expected in html, expected
    for hidden in (*NOT_SHARED, "Pager or carer alert"):  # AT1 is shared with telecare only
        assert hidden not in html, hidden
    assert re.search(r'href="/static/css/print\.css\?v=\w+" media="print"', html)

    telecare = referral_of(work, visit_id, "assistive_technology")
    html = client_for(work, "assistive_technology").text(f"/referrals/{telecare.id}")
    assert "Pager or carer alert for someone in the home" in html
    assert "Do the front and back doors have secure locks" not in html
    for hidden in NOT_SHARED:
        assert hidden not in html, hidden


def test_each_read_of_a_referral_is_audited(work):
    referral = referral_of(work, issue(work))
    client_for(work).text(f"/referrals/{referral.id}")
    provider_id = work.providers["handyperson"].id
    assert ("referral_viewed", provider_id) in audit_actions(work, referral.id)


# --- Reporting back -------------------------------------------------------------------


def test_accepting_stamps_server_time_tells_the_hsc_and_is_audited(work):
    referral = referral_of(work, issue(work))
    client = client_for(work)
    before = utcnow()
    response = report(client, referral.id, "accept")
    assert response.headers["Location"] == f"/referrals/{referral.id}"
    assert "Referral accepted" in client.text(f"/referrals/{referral.id}")
    with work.app.app_context():
        accepted = db.session.get(Referral, referral.id)
        assert accepted.status == "accepted"
        assert before <= accepted.accepted_at == accepted.updated_at <= utcnow()
    change = last_change(work, referral.id)
    assert (change.kind, change.user_id, change.payload["status"]) == (
        "referral.status",
        work.hsc.id,
        "accepted",
    )
    assert work.pull()["changes"][-1]["payload"]["status"] == "accepted"  # the HSC's device
    provider_id = work.providers["handyperson"].id
    assert ("referral_accepted", provider_id) in audit_actions(work, referral.id)


@pytest.mark.parametrize("accept_first", [True, False], ids=["accepted", "straight-from-issued"])
def test_completing_records_the_date_given_and_the_time_reported(work, accept_first):
    referral = referral_of(work, issue(work, now=utcnow() - timedelta(days=3)))
    client = client_for(work)
    if accept_first:
        report(client, referral.id, "accept")
    done_on = date.today() - timedelta(days=1)
    response = report(client, referral.id, "complete", {"completed_on": day_parts(done_on)})
    assert response.status_code == 302
    with work.app.app_context():
        completed = db.session.get(Referral, referral.id)
        assert (completed.status, completed.completed_on) == ("completed", done_on)
        assert completed.completed_at is not None
        assert (completed.accepted_at is not None) == accept_first
    change = last_change(work, referral.id)
    assert change.payload["status"] == "completed"
    assert change.payload["completed_on"] == done_on.isoformat()
    assert ("referral_completed", work.providers["handyperson"].id) in audit_actions(
        work, referral.id
    )
    html = client.text(f"/referrals/{referral.id}")
    assert "Referral marked as completed" in html and "Mark as completed" not in html


def test_declining_records_the_reason_for_the_hsc(work):
    referral = referral_of(work, issue(work))
    client = client_for(work)
    reason = "The resident has arranged the work with a local builder"
    assert report(client, referral.id, "decline", {"reason": reason}).status_code == 302
    with work.app.app_context():
        declined = db.session.get(Referral, referral.id)
        assert (declined.status, declined.decline_reason) == ("declined", reason)
        assert declined.declined_at is not None
    assert last_change(work, referral.id).payload["decline_reason"] == reason
    assert ("referral_declined", work.providers["handyperson"].id) in audit_actions(
        work, referral.id
    )
    assert reason in client.text(f"/referrals/{referral.id}")


TODAY = date.today()
DAY = timedelta(days=1)
# (a report made first, the refused report, its answers, status, what the page says)
REFUSALS = {
    "no date": (None, "complete", ["", "", ""], 400, "Enter the date the work was completed"),
    "not a real date": (None, "complete", ["31", "2", "2026"], 400, "must be a real date"),
    "a future date": (None, "complete", TODAY + DAY, 400, "must be today or in the past"),
    "before it was issued": (None, "complete", TODAY - DAY, 400, "on or after the date the"),
    "no reason": (None, "decline", "  ", 400, "Enter the reason for declining the referral"),
    "a reason too long": (None, "decline", "x" * 1001, 400, "1,000 characters or fewer"),
    "completing a declined one": (
        ("decline", "Out of our area"),
        "complete",
        TODAY,
        409,
        "This referral has been declined, so it cannot be marked as completed.",
    ),
    "accepting twice": (("accept",), "accept", None, 409, "already been accepted."),
    "declining a completed one": (
        ("complete", TODAY),
        "decline",
        "Too late",
        409,
        "This referral has been marked as completed, so it cannot be declined.",
    ),
}
FIELDS = {"complete": "completed_on", "decline": "reason"}


@pytest.mark.parametrize("case", REFUSALS.values(), ids=REFUSALS.keys())
def test_a_refused_report_says_why_and_changes_nothing(work, case):
    earlier, action, answer, status, message = case
    referral = referral_of(work, issue(work))
    if earlier is not None:
        step(work, earlier[0], referral.id, *earlier[1:])
    before = snapshot(work, referral.id)
    client = client_for(work)
    data = {"csrf_token": csrf(client)}
    if action in FIELDS:
        data[FIELDS[action]] = day_parts(answer) if isinstance(answer, date) else answer
    response = client.post(f"/referrals/{referral.id}/{action}", data=data)
    assert response.status_code == status
    html = response.get_data(as_text=True)
    assert "There is a problem" in html and message in html
    assert client.last_page.title.startswith("Error: ")
    assert snapshot(work, referral.id) == before


def test_once_completed_a_referral_takes_no_other_report(work):
    referral = referral_of(work, issue(work))
    step(work, "complete", referral.id, TODAY)
    for action, args in (("accept", ()), ("complete", (TODAY,)), ("decline", ("No",))):
        with pytest.raises(providers.ReferralRefused, match="marked as completed"):
            step(work, action, referral.id, *args)
    assert snapshot(work, referral.id)[0] == "completed"


# --- CSV export -----------------------------------------------------------------------


def test_the_csv_has_the_open_referrals_of_the_service_only_with_formulas_neutralised(work):
    body = story_body()
    body["resident"].update(family_name='=HYPERLINK("http://evil.example")', phone="+441234")
    assert work.push(body)[0]["status"] == "created"
    risky = referral_of(work, uuid.UUID(body["visit"]["id"]))
    approve(work, risky.visit_id)
    visit_id = issue(work)
    accepted, other_service = (
        referral_of(work, visit_id),
        referral_of(work, visit_id, "assistive_technology"),
    )
    done = referral_of(work, issue(work))
    proposed = referral_of(work, push(work))
    step(work, "accept", accepted.id)
    step(work, "complete", done.id, TODAY)

    response = client_for(work).get("/referrals/open.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert re.fullmatch(
        r'attachment; filename="handyperson-open-referrals-\d{4}-\d{2}-\d{2}\.csv"',
        response.headers["Content-Disposition"],
    )
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:4] == ["Reference", "Referral id", "Priority", "Status"]
    by_id = {row[1]: dict(zip(rows[0], row, strict=True)) for row in rows[1:]}
    assert set(by_id) == {str(risky.id), str(accepted.id)}
    assert {str(done.id), str(proposed.id), str(other_service.id)}.isdisjoint(by_id)
    assert by_id[str(risky.id)]["Family name"] == '\'=HYPERLINK("http://evil.example")'
    assert by_id[str(risky.id)]["Phone"] == "'+441234"
    assert by_id[str(accepted.id)]["Status"] == "accepted"
    assert ("referral_exported", work.providers["handyperson"].id) in audit_actions(work, risky.id)


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1"])
def test_a_cell_a_spreadsheet_would_run_gets_a_leading_apostrophe(text):
    assert providers.neutralise_cell(text) == "'" + text
    assert providers.neutralise_cell("12 Forest Road") == "12 Forest Road"


# --- Who may see what -----------------------------------------------------------------


def test_another_services_provider_gets_404_everywhere_and_nothing_is_disclosed(work):
    referral = referral_of(work, issue(work))
    before = snapshot(work, referral.id)
    client = client_for(work, "assistive_technology")
    token = csrf(client)
    answers = {
        "accept": {},
        "complete": {"completed_on": day_parts(TODAY)},
        "decline": {"reason": "Not ours"},
    }
    responses = [client.get(f"/referrals/{referral.id}")] + [
        client.post(f"/referrals/{referral.id}/{action}", data={"csrf_token": token, **data})
        for action, data in answers.items()
    ]
    for response in responses:
        assert response.status_code == 404
        assert not {"Edith", "Marlow", "Church Lane", "LE13"} & set(
            re.findall(r"[\w-]+", response.get_data(as_text=True))
        )
    assert snapshot(work, referral.id) == before
    assert str(referral.id) not in client.get("/referrals/open.csv").get_data(as_text=True)
    assert str(referral.id) not in client.text("/referrals")


def test_referrals_not_yet_issued_or_withdrawn_are_missing_for_their_own_service(work):
    proposed = referral_of(work, push(work))
    information = referral_of(work, issue(work, consents={"handyperson": "no"}))
    cancelled = referral_of(work, issue(work))
    with work.app.app_context():
        db.session.get(Referral, cancelled.id).status = "cancelled"
        db.session.commit()
    client = client_for(work)
    for referral in (proposed, information, cancelled):
        assert client.get(f"/referrals/{referral.id}").status_code == 404
        assert (
            client.post(
                f"/referrals/{referral.id}/accept", data={"csrf_token": csrf(client)}
            ).status_code
            == 404
        )


def test_a_provider_is_refused_every_other_central_page_and_the_visit_itself(work):
    visit_id = issue(work)
    client = client_for(work)
    token = csrf(client)
    own = ("providers.", "home.", "auth.", "status.", "sync_api.", "static")
    checked = set()
    for rule in work.app.url_map.iter_rules():
        if rule.endpoint.startswith(own):
            continue
        values = {name: visit_id if name == "visit_id" else uuid.uuid4() for name in rule.arguments}
        url = rule.build(values)[1]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            if method == "GET":
                response = client.get(url)
            else:
                response = client.post(url, data={"csrf_token": token})
            assert response.status_code == 403, f"{method} {url}"
            assert "Edith" not in response.get_data(as_text=True), f"{method} {url}"
            checked.add(url)
    assert {"/review", "/users", "/devices", f"/review/visits/{visit_id}"} <= checked
    # A browser session is no way into the sync API: it wants a device's token.
    assert client.get("/api/v1/sync/pull?cursor=0").status_code == 401
    assert client.post("/api/v1/sync/push", json={}).status_code == 401


@pytest.mark.parametrize("role", ["team_leader", "hsc", "admin"])
def test_only_providers_may_use_the_referral_pages(work, role):
    referral = referral_of(work, issue(work))
    with work.app.app_context():
        user = make_user(role)
    client = PageClient(work.app.test_client(), sign_in_field="password")
    client.sign_in(user.email, PASSWORD)
    for url in ("/referrals", f"/referrals/{referral.id}", "/referrals/open.csv"):
        assert client.get(url).status_code == 403, url
    response = client.post(f"/referrals/{referral.id}/accept", data={"csrf_token": csrf(client)})
    assert response.status_code == 403
    assert snapshot(work, referral.id)[0] == "issued"


def test_signed_out_visitors_are_sent_to_sign_in(work, central_client):
    referral = referral_of(work, issue(work))
    for url in ("/referrals", f"/referrals/{referral.id}", "/referrals/open.csv"):
        response = central_client.get(url)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/sign-in"), url
