"""Equipment orders in team-leader review: the visit page lists them in words, an order that
needs approval can be approved (pinned to the revision, audited, district-scoped), and
approving the visit issues the proposed ones with the referral of their service, holds one
with no referral to carry it and leaves the rest as they are, each change logged for the HSC."""

from __future__ import annotations

import uuid
from datetime import datetime

import pytest
from flask import current_app
from sqlalchemy import select

from app.central import order_review, reviews
from app.extensions import db
from app.models import CentralVisit, Referral
from tests.support.accounts import PASSWORD
from tests.support.casework import Casework
from tests.support.orders import (
    add_order,
    get_order,
    order_audit,
    order_changes,
    order_state,
    push_with_orders,
    wire_order,
)
from tests.support.pages import PageClient
from tests.support.referral_work import approve, csrf, push, referral_of

NOW = datetime(2026, 11, 23, 9, 30)


@pytest.fixture
def work(central_app) -> Casework:
    return Casework(central_app, ta_level="L3")


def page(client, user, visit_id):
    client.sign_in(user.email, PASSWORD)
    return client.get(f"/review/visits/{visit_id}")


def sha_of(work: Casework, visit_id) -> str:
    with work.app.app_context():
        return db.session.get(CentralVisit, visit_id).sha256


def approve_order_form(client, visit_id, order_id):
    """The approve button's form for one order, as the page renders it."""
    client.get(f"/review/visits/{visit_id}")
    action = f"/review/visits/{visit_id}/orders/{order_id}/approve"
    forms = [form for form in client.last_page.forms if form.action == action]
    assert len(forms) == 1, [form.action for form in client.last_page.forms]
    return forms[0]


# Approving the visit ---------------------------------------------------------------------


def test_approving_the_visit_issues_proposed_orders_with_the_referral_of_their_service(work):
    orders = (
        wire_order("MA-GRAB-STRAIGHT", quantity=2),
        wire_order("EQ-BATH-BOARD"),  # community equipment: the same provider queue
        wire_order("AT-FALL-DETECTOR"),
        wire_order("EQ-BATH-LIFT", route="approval"),  # above Level 3
    )
    visit_id = push_with_orders(work, *orders)
    rail, board, pendant, waiting = (uuid.UUID(order["id"]) for order in orders)
    assert get_order(work, waiting).status == "approval"
    held = add_order(work, visit_id, "MA-KEY-SAFE", status="held")
    before = {order_id: order_state(work, order_id) for order_id in (waiting, held)}

    approve(work, visit_id, now=NOW)

    adaptations = referral_of(work, visit_id, "minor_adaptations")
    telecare = referral_of(work, visit_id, "assistive_technology")
    for order_id, referral in ((rail, adaptations), (board, adaptations), (pendant, telecare)):
        order = get_order(work, order_id)
        assert (order.status, order.issued_at, order.referral_id) == ("issued", NOW, referral.id)
        assert referral.status == "issued"
        assert ("order_issued", work.leader.id) in order_audit(work, order_id)
    for order_id in (waiting, held):
        assert order_state(work, order_id) == before[order_id]
        assert order_changes(work, order_id) == []


def test_each_issued_order_is_logged_for_the_hscs_device(work):
    visit_id = push(work)
    rail = add_order(work, visit_id, "MA-GRAB-STRAIGHT", quantity=2)
    approve(work, visit_id, now=NOW)

    [entry] = order_changes(work, rail)
    assert (entry.kind, entry.user_id, entry.record_id) == ("order.status", work.hsc.id, str(rail))
    assert entry.payload == {
        "visit_id": str(visit_id),
        "item_code": "MA-GRAB-STRAIGHT",
        "item_name": "Grab rail (straight)",
        "quantity": 2,
        "status": "issued",
        "issued_at": "2026-11-23T09:30:00+00:00",
        "delivered_at": None,
        "fitted_at": None,
        "updated_at": "2026-11-23T09:30:00+00:00",
    }
    pulled = [c for c in work.pull()["changes"] if c["kind"] == "order.status"]
    assert [(c["id"], c["payload"]["status"]) for c in pulled] == [(str(rail), "issued")]


def test_an_order_with_no_consent_to_share_is_held_with_the_reason_never_dropped(work):
    consents = {"handyperson": "yes", "assistive_technology": "yes", "minor_adaptations": "no"}
    visit_id = push(work, consents=consents)
    assert referral_of(work, visit_id, "minor_adaptations").status == "information"
    rail = add_order(work, visit_id, "MA-GRAB-STRAIGHT")
    approve(work, visit_id, now=NOW)

    order = get_order(work, rail)
    assert (order.status, order.route, order.referral_id, order.issued_at) == (
        "held",
        "held",
        None,
        None,
    )
    assert [f["code"] for f in order.findings] == ["NO_CONSENT_TO_SHARE"]
    assert "consent to share" in order.findings[0]["message"]
    [entry] = order_changes(work, rail)
    assert entry.payload["status"] == "held"
    assert ("order_held", work.leader.id) in order_audit(work, rail)


def test_a_later_visits_order_joins_the_residents_open_referral_to_that_service(work):
    resident_id = uuid.uuid4()
    first = push(work, resident_id=resident_id)
    approve(work, first)
    second = push(work, resident_id=resident_id, kind="follow_up", previous_visit_id=first)
    with work.app.app_context():
        own = db.session.scalars(
            select(Referral).filter_by(visit_id=second, service="minor_adaptations")
        ).all()
    assert own == []  # one open referral per resident and service
    rail = add_order(work, second, "MA-GRAB-STRAIGHT")
    approve(work, second, now=NOW)
    assert get_order(work, rail).referral_id == referral_of(work, first, "minor_adaptations").id


# The review page -------------------------------------------------------------------------


def test_the_review_page_lists_the_orders_in_words_with_cost_and_who_ordered(work, central_client):
    visit_id = push(work)
    add_order(work, visit_id, "MA-GRAB-STRAIGHT", quantity=2)
    add_order(
        work,
        visit_id,
        "EQ-BATH-LIFT",
        status="approval",
        device_route="direct",
        findings=[{"code": "ABOVE_LEVEL", "message": "A bath lift needs a Level 4 assessor."}],
    )
    add_order(
        work,
        visit_id,
        "MA-KEY-SAFE",
        status="held",
        findings=[{"code": "LANDLORD", "message": "Waiting for the landlord's consent."}],
    )
    with work.app.app_context():
        catalogue = current_app.extensions["catalogues"].latest("housing-mot-equipment")
        orientation = catalogue.item("MA-GRAB-STRAIGHT").measurement("orientation").label
    html = page(central_client, work.leader, visit_id).get_data(as_text=True)
    section = html[html.index('id="orders"') : html.index(">Signposts<")]
    for text in (
        "Grab rail (straight) × 2",
        "MA-GRAB-STRAIGHT",
        "Bathroom, Left",
        "Rail length: 450 mm",
        "Side: Left",
        f"{orientation}: Vertical",
        "Needs fitting",
        "£120.00 (£60.00 each)",
        "Struggles to stand from the toilet",
        "Sam Patel, Level 3 (minor equipment)",
        "To issue on approval",
        "Needs approval",
        "A bath lift needs a Level 4 assessor.",
        "Rules changed since the tablet checked",
        "Held",
        "Waiting for the landlord&#39;s consent.",
        "Total cost of the equipment ordered: £660.00",
    ):
        assert text in section, text
    assert section.count("Rules changed since the tablet checked") == 1
    assert section.count("Approve this order") == 1
    assert "1 equipment order" in html and "needs approval" in html


def test_an_order_the_office_routes_differently_is_flagged_on_the_visit_and_the_order(
    work, central_client
):
    # The tablet sent it for approval; central's rules find it within the assessor's remit.
    visit_id = push_with_orders(work, wire_order("MA-GRAB-STRAIGHT", route="approval"))
    html = page(central_client, work.leader, visit_id).get_data(as_text=True)
    assert "Order rules changed since the tablet checked" in html  # the visit's flag
    section = html[html.index('id="orders"') : html.index(">Signposts<")]
    assert "Rules changed since the tablet checked" in section
    assert "The tablet checked it with rules 2026-11-1" in section


def test_a_visit_with_no_orders_says_so(work, central_client):
    visit_id = push(work)
    html = page(central_client, work.leader, visit_id).get_data(as_text=True)
    assert "No equipment ordered." in html


# Approving an order ----------------------------------------------------------------------


def test_a_team_leader_approves_an_order_and_approving_the_visit_issues_it(work, central_client):
    visit_id = push(work)
    lift = add_order(work, visit_id, "EQ-BATH-LIFT", status="approval")
    page(central_client, work.leader, visit_id)
    form = approve_order_form(central_client, visit_id, lift)
    response = central_client.post(form.action, data=form.hidden)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/review/visits/{visit_id}#orders")

    order = get_order(work, lift)
    assert (order.status, order.approved_by) == ("proposed", work.leader.id)
    assert order_audit(work, lift) == [("order_approved", work.leader.id)]
    html = central_client.text(f"/review/visits/{visit_id}")
    assert "Approve this order" not in html
    assert "Approved by" in html and "Terry Lead" in html

    approve(work, visit_id, now=NOW)
    assert get_order(work, lift).status == "issued"


def test_approving_an_order_is_pinned_to_the_revision_shown(work, central_client):
    visit_id = push(work)
    lift = add_order(work, visit_id, "EQ-BATH-LIFT", status="approval")
    page(central_client, work.leader, visit_id)
    form = approve_order_form(central_client, visit_id, lift)
    before = order_state(work, lift)
    response = central_client.post(form.action, data={**form.hidden, "sha256": "0" * 64})
    assert response.status_code == 409
    assert "A newer revision of this visit" in response.get_data(as_text=True)
    assert order_state(work, lift) == before


def test_an_order_is_approved_only_once_only_if_it_needs_it_and_only_while_under_review(work):
    visit_id = push(work)
    lift = add_order(work, visit_id, "EQ-BATH-LIFT", status="approval")
    rail = add_order(work, visit_id, "MA-GRAB-STRAIGHT")
    sha = sha_of(work, visit_id)
    with work.app.app_context():
        leader = db.session.merge(work.leader)
        order_review.approve_order(leader, visit_id, lift, sha)
        with pytest.raises(order_review.OrderRefused, match="already been approved"):
            order_review.approve_order(leader, visit_id, lift, sha)
        with pytest.raises(order_review.OrderRefused, match="does not need approval"):
            order_review.approve_order(leader, visit_id, rail, sha)
    other = push(work)
    waiting = add_order(work, other, "EQ-BATH-LIFT", status="approval")
    approve(work, other)
    before = order_state(work, waiting)
    with work.app.app_context():
        leader = db.session.merge(work.leader)
        with pytest.raises(reviews.ReviewRefused, match="already been approved"):
            order_review.approve_order(leader, other, waiting, sha_of(work, other))
        with pytest.raises(LookupError):  # an order of another visit
            order_review.approve_order(leader, visit_id, waiting, sha)
    assert order_state(work, waiting) == before


def test_another_districts_team_leader_gets_404_and_changes_nothing(work, central_client):
    visit_id = push(work)
    lift = add_order(work, visit_id, "EQ-BATH-LIFT", status="approval")
    page(central_client, work.leader, visit_id)
    form = approve_order_form(central_client, visit_id, lift)
    before = order_state(work, lift)

    elsewhere = PageClient(work.app.test_client(), sign_in_field="password")
    elsewhere.sign_in(work.other_leader.email, PASSWORD)
    response = elsewhere.post(form.action, data={**form.hidden, "csrf_token": csrf(elsewhere)})
    assert response.status_code == 404
    assert order_state(work, lift) == before


@pytest.mark.parametrize("role", ["hsc", "provider"])
def test_hscs_and_providers_may_not_approve_orders(work, central_client, role):
    visit_id = push(work)
    lift = add_order(work, visit_id, "EQ-BATH-LIFT", status="approval")
    before = order_state(work, lift)
    user = work.hsc if role == "hsc" else work.providers["minor_adaptations"]
    central_client.sign_in(user.email, PASSWORD)
    token = csrf(central_client)
    response = central_client.post(
        f"/review/visits/{visit_id}/orders/{lift}/approve",
        data={"csrf_token": token, "sha256": sha_of(work, visit_id)},
    )
    assert response.status_code == 403
    assert order_state(work, lift) == before


# The whole way, through the real ingest ---------------------------------------------------


def test_an_order_sent_with_the_visit_is_approved_issued_fitted_and_pulled_back(
    work, central_client
):
    lift = wire_order("EQ-BATH-LIFT", route="approval")
    visit_id = push_with_orders(work, lift)
    lift_id = uuid.UUID(lift["id"])
    html = page(central_client, work.leader, visit_id).get_data(as_text=True)
    assert "Bath lift" in html and "Needs approval" in html
    form = approve_order_form(central_client, visit_id, lift_id)
    assert central_client.post(form.action, data=form.hidden).status_code == 302
    approve(work, visit_id, now=NOW)
    referral = referral_of(work, visit_id, "minor_adaptations")
    assert get_order(work, lift_id).referral_id == referral.id

    provider = PageClient(work.app.test_client(), sign_in_field="password")
    provider.sign_in(work.providers["minor_adaptations"].email, PASSWORD)
    provider.get(f"/referrals/{referral.id}")
    [delivered] = [f for f in provider.last_page.forms if f.action.endswith("/delivered")]
    assert provider.post(delivered.action, data=delivered.hidden).status_code == 302

    pulled = [c for c in work.pull()["changes"] if c["kind"] == "order.status"]
    assert [(c["id"], c["payload"]["status"]) for c in pulled] == [
        (str(lift_id), "issued"),
        (str(lift_id), "delivered"),
    ]
