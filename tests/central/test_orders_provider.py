"""Equipment on a provider's referral: the items with what the job needs, marked delivered or
fitted item by item (issued → delivered → fitted, or straight to fitted for a fitted item),
scoped exactly as the referral is, refused with nothing changed when the step is not
allowed, audited, logged for the HSC's device, and in the CSV export and on the sheet."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import timedelta

import pytest

from app.central import order_delivery
from app.extensions import db
from app.models.field import utcnow
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
from tests.support.referral_work import approve, client_for, csrf, push, referral_of, step

ISSUED = utcnow().replace(microsecond=0) - timedelta(days=3)
DELIVERED = ISSUED + timedelta(days=1, hours=4)
FITTED = ISSUED + timedelta(days=2, hours=1)
SERVICE = "minor_adaptations"


@pytest.fixture
def work(central_app) -> Casework:
    return Casework(central_app, ta_level="L3")


@pytest.fixture
def job(work):
    """A visit approved with a fitted grab rail, a bath board (delivery only) and a fall
    detector for the assistive technology service."""
    orders = (
        wire_order("MA-GRAB-STRAIGHT", quantity=2),
        wire_order("EQ-BATH-BOARD"),
        wire_order("AT-FALL-DETECTOR"),
    )
    visit_id = push_with_orders(work, *orders)
    approve(work, visit_id, now=ISSUED)
    referral = referral_of(work, visit_id, SERVICE)
    return (referral.id, *(uuid.UUID(order["id"]) for order in orders))


def report(work, action: str, referral_id, order_id, *, service: str = SERVICE, now=None):
    with work.app.app_context():
        provider = db.session.merge(work.providers[service])
        return getattr(order_delivery, f"mark_{action}")(provider, referral_id, order_id, now)


def press(client, referral_id, order_id, action: str):
    """Press an item's button on the referral page, as a browser does."""
    client.get(f"/referrals/{referral_id}")
    action_url = f"/referrals/{referral_id}/items/{order_id}/{action}"
    [form] = [f for f in client.last_page.forms if f.action == action_url]
    return client.post(form.action, data=form.hidden)


# The referral page ------------------------------------------------------------------------


def test_the_referral_page_lists_its_items_with_what_the_job_needs(work, job):
    referral_id, rail, board, _ = job
    client = client_for(work, SERVICE)
    html = client.text(f"/referrals/{referral_id}")
    sheet = html[html.index('class="app-referral-sheet"') : html.index('id="access-heading"')]
    for text in (
        "Grab rail (straight) × 2",
        "MA-GRAB-STRAIGHT",
        "Bathroom, Left",
        "Rail length: 450 mm",
        "Bath board × 1",
        "Bath length: 1700 mm",
        "No, delivery only",
    ):
        assert text in sheet, text  # on the printed sheet too
    assert "Fall detector" not in html  # the assistive technology service's item
    actions = {form.action for form in client.last_page.forms}
    assert f"/referrals/{referral_id}/items/{rail}/fitted" in actions
    assert f"/referrals/{referral_id}/items/{rail}/delivered" in actions
    assert f"/referrals/{referral_id}/items/{board}/delivered" in actions
    assert f"/referrals/{referral_id}/items/{board}/fitted" not in actions


def test_a_referral_without_equipment_says_so(work):
    visit_id = push(work)
    approve(work, visit_id)
    referral = referral_of(work, visit_id, SERVICE)
    html = client_for(work, SERVICE).text(f"/referrals/{referral.id}")
    assert "No equipment was ordered with this referral." in html


# Reporting --------------------------------------------------------------------------------


def test_the_provider_marks_an_item_delivered_from_the_page(work, job):
    referral_id, _, board, _ = job
    client = client_for(work, SERVICE)
    response = press(client, referral_id, board, "delivered")
    assert response.status_code == 302
    order = get_order(work, board)
    assert (order.status, order.fitted_at) == ("delivered", None)
    assert order.delivered_at is not None and order.delivered_at > ISSUED
    assert ("order_delivered", work.providers[SERVICE].id) in order_audit(work, board)
    _, delivered = order_changes(work, board)
    assert (delivered.kind, delivered.user_id) == ("order.status", work.hsc.id)
    assert delivered.payload["status"] == "delivered"
    assert delivered.payload["delivered_at"] is not None
    html = client.text(f"/referrals/{referral_id}")
    assert "Bath board marked as delivered" in html
    assert f"/items/{board}/delivered" not in html


def test_a_fitted_item_can_be_fitted_straight_away_which_also_delivers_it(work, job):
    referral_id, rail, _, _ = job
    response = press(client_for(work, SERVICE), referral_id, rail, "fitted")
    assert response.status_code == 302
    order = get_order(work, rail)
    assert order.status == "fitted"
    assert order.fitted_at is not None and order.delivered_at == order.fitted_at
    assert order_changes(work, rail)[-1].payload["fitted_at"] is not None
    assert ("order_fitted", work.providers[SERVICE].id) in order_audit(work, rail)


def test_a_fitted_item_delivered_first_keeps_both_times(work, job):
    referral_id, rail, _, _ = job
    report(work, "delivered", referral_id, rail, now=DELIVERED)
    report(work, "fitted", referral_id, rail, now=FITTED)
    order = get_order(work, rail)
    assert (order.status, order.delivered_at, order.fitted_at) == ("fitted", DELIVERED, FITTED)
    statuses = [entry.payload["status"] for entry in order_changes(work, rail)]
    assert statuses == ["issued", "delivered", "fitted"]


@pytest.mark.parametrize(
    ("first", "then", "message"),
    [
        (None, "fitted", "is not fitted"),  # a bath board is delivered only
        ("delivered", "delivered", "already been marked as delivered"),
    ],
)
def test_an_item_without_fitting_is_only_delivered_once(work, job, first, then, message):
    referral_id, _, board, _ = job
    if first:
        report(work, first, referral_id, board)
    before = order_state(work, board)
    with pytest.raises(order_delivery.ItemRefused, match=message):
        report(work, then, referral_id, board)
    assert order_state(work, board) == before


@pytest.mark.parametrize(
    ("then", "message"),
    [
        ("delivered", "has been marked as fitted, so it cannot be marked as delivered"),
        ("fitted", "already been marked as fitted"),
    ],
)
def test_a_fitted_item_takes_no_further_report(work, job, then, message):
    referral_id, rail, _, _ = job
    report(work, "fitted", referral_id, rail)
    before = order_state(work, rail)
    with pytest.raises(order_delivery.ItemRefused, match=message):
        report(work, then, referral_id, rail)
    assert order_state(work, rail) == before


def test_a_refused_report_on_the_page_says_why_and_changes_nothing(work, job):
    referral_id, rail, _, _ = job
    client = client_for(work, SERVICE)
    client.get(f"/referrals/{referral_id}")
    token = client.last_page.forms[0].hidden["csrf_token"]
    report(work, "fitted", referral_id, rail)
    before = order_state(work, rail)
    response = client.post(
        f"/referrals/{referral_id}/items/{rail}/fitted", data={"csrf_token": token}
    )
    assert response.status_code == 409
    assert "already been marked as fitted" in response.get_data(as_text=True)
    assert order_state(work, rail) == before


def test_nothing_is_reported_on_a_declined_referral(work, job):
    referral_id, rail, _, _ = job
    step(work, "decline", referral_id, "Out of our area", service=SERVICE)
    before = order_state(work, rail)
    with pytest.raises(order_delivery.ItemRefused, match="declined"):
        report(work, "fitted", referral_id, rail)
    assert order_state(work, rail) == before
    html = client_for(work, SERVICE).text(f"/referrals/{referral_id}")
    assert f"/items/{rail}/" not in html


# Scoping ----------------------------------------------------------------------------------


def test_another_services_provider_gets_404_and_changes_nothing(work, job):
    referral_id, rail, _, _ = job
    before = order_state(work, rail)
    client = client_for(work, "handyperson")
    for action in ("delivered", "fitted"):
        response = client.post(
            f"/referrals/{referral_id}/items/{rail}/{action}", data={"csrf_token": csrf(client)}
        )
        assert response.status_code == 404
    with pytest.raises(LookupError):
        report(work, "fitted", referral_id, rail, service="handyperson")
    assert order_state(work, rail) == before


def test_an_item_is_reached_only_through_the_referral_that_carries_it(work, job):
    referral_id, _, _, detector = job
    before = order_state(work, detector)
    other = referral_of(work, get_order(work, detector).visit_id, "assistive_technology")
    client = client_for(work, SERVICE)  # sees referral_id, but the detector is not on it
    response = client.post(
        f"/referrals/{referral_id}/items/{detector}/delivered", data={"csrf_token": csrf(client)}
    )
    assert response.status_code == 404
    with pytest.raises(LookupError):
        report(work, "delivered", referral_id, uuid.uuid4())
    assert order_state(work, detector) == before
    report(work, "delivered", other.id, detector, service="assistive_technology")
    assert get_order(work, detector).status == "delivered"


def test_an_item_not_yet_issued_cannot_be_reported(work):
    visit_id = push(work)
    approve(work, visit_id)
    referral = referral_of(work, visit_id, SERVICE)
    waiting = add_order(work, visit_id, "EQ-BATH-LIFT", status="approval", referral_id=referral.id)
    before = order_state(work, waiting)
    with pytest.raises(LookupError):
        report(work, "delivered", referral.id, waiting)
    assert order_state(work, waiting) == before


# Export and pull --------------------------------------------------------------------------


def test_the_csv_lists_each_referrals_items_with_quantities(work, job):
    referral_id, _, _, _ = job
    response = client_for(work, SERVICE).get("/referrals/open.csv")
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][-1] == "Items"
    by_id = {row[1]: dict(zip(rows[0], row, strict=True)) for row in rows[1:]}
    assert by_id[str(referral_id)]["Items"] == "Grab rail (straight) × 2; Bath board × 1"


def test_each_report_reaches_the_hscs_device_by_pull(work, job):
    referral_id, rail, board, _ = job
    report(work, "delivered", referral_id, board)
    report(work, "fitted", referral_id, rail)
    pulled = [c for c in work.pull()["changes"] if c["kind"] == "order.status"]
    latest = {c["id"]: c["payload"]["status"] for c in pulled}
    assert latest[str(board)] == "delivered" and latest[str(rail)] == "fitted"
