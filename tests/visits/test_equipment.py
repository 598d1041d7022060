"""Ordering equipment in the visit on the field node: trusted assessors only, checked by the
catalogue's rules, kept (never dropped) when it needs approval or is held."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from app import queries
from app.db import write_transaction
from app.extensions import db
from app.models import AuditEvent, EquipmentOrder, HscProfile, OutboxEntry, Visit
from tests.support.factories import make_visit

ROOT = Path(__file__).resolve().parents[2]
STORY = yaml.safe_load((ROOT / "forms/housing_mot/examples/case-stories.yaml").read_text())[
    "case-story-1"
]["answers"]
GRAB_RAIL = {
    "location": "Bathroom",
    "side": "left",
    "measurement-length_mm": "450",
    "measurement-orientation": "vertical",
    "quantity": "2",
    "reason": "Grab rails needed by the bath",
}
BATH_BOARD = {
    "measurement-bath_length_mm": "1700",
    "measurement-bath_width_mm": "700",
    "quantity": "1",
    "reason": "Gets in and out of the bath with difficulty",
}


def set_level(app, profile_id, level: str) -> None:
    """What a pull from central does when an admin changes the HSC's level."""
    with app.app_context(), write_transaction():
        db.session.get(HscProfile, profile_id).ta_level = level


def story_visit(app, profile, **answers) -> str:
    """A visit with case story 1's answers (overridden), the consent section completed."""
    with app.app_context():
        visit = make_visit(profile)
        queries.save_answers(profile.id, visit.id, "all", 0, {**STORY, **answers}, [], "")
        queries.mark_section(profile.id, visit.id, "about-the-person", 0, True)
        return str(visit.id)


def complete_sections(app, profile, visit_id: str) -> None:
    with app.app_context():
        visit = db.session.get(Visit, uuid.UUID(visit_id))
        for section in app.extensions["forms"].get(visit.form_id, visit.form_version).sections:
            rev = queries.section_rev(visit, section.id)
            visit = queries.mark_section(profile.id, visit.id, section.id, rev, True)


def orders_of(app, visit_id: str) -> list[EquipmentOrder]:
    with app.app_context():
        return list(
            db.session.scalars(
                select(EquipmentOrder).where(EquipmentOrder.visit_id == uuid.UUID(visit_id))
            )
        )


def add(client, visit_id: str, code: str, data: dict):
    return client.submit(f"/visits/{visit_id}/equipment/add/{code}", data)


@pytest.fixture
def assessor(app, profile, signed_in):
    set_level(app, profile.id, "L3")
    return signed_in


def test_a_trusted_assessor_sees_the_search_box_then_items_the_answers_suggest(
    app, profile, assessor
):
    visit_id = story_visit(app, profile)
    html = assessor.text(f"/visits/{visit_id}/equipment")
    search = re.search(r"<input[^>]*name=\"q\"[^>]*>", html).group(0)
    assert 'type="search"' in search
    assert 'autocomplete="off"' in search
    assert 'enterkeyhint="search"' in search
    suggested = html[html.index("Suggested by the answers") : html.index("Browse the catalogue")]
    assert html.index('name="q"') < html.index("Suggested by the answers")
    assert "Grab rail (straight)" in suggested
    assert "Grab rails needed: by the bath, by the toilet" in suggested
    assert "Key safe" not in suggested  # nothing in the answers calls for one


def test_searching_and_browsing_the_catalogue_work_on_the_device(app, profile, assessor):
    visit_id = story_visit(app, profile)
    html = assessor.text(f"/visits/{visit_id}/equipment?q=bath+boards")
    results = html[html.index('id="results"') :]
    assert "Bath board" in results
    assert f"/visits/{visit_id}/equipment/add/EQ-BATH-BOARD" in results
    assert "No items match" in assessor.text(f"/visits/{visit_id}/equipment?q=helicopter")
    browse = assessor.text(f"/visits/{visit_id}/equipment?category=telecare")
    assert "Fall detector" in browse and "Bath board" not in browse


def test_an_item_suggested_by_the_answers_has_the_need_from_the_mot_as_its_reason(
    app, profile, assessor
):
    visit_id = story_visit(app, profile)
    html = assessor.text(f"/visits/{visit_id}/equipment/add/MA-GRAB-STRAIGHT")
    assert "Suggested by the answers" in html
    textarea = html[html.index('name="reason"') : html.index("</textarea>")]
    assert "Grab rails needed: by the bath, by the toilet" in textarea


def test_adding_an_item_with_its_measurements_stores_it_direct_with_the_rules_version(
    app, profile, assessor
):
    visit_id = story_visit(app, profile)
    response = add(assessor, visit_id, "MA-GRAB-STRAIGHT", GRAB_RAIL)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/visits/{visit_id}/equipment")
    (order,) = orders_of(app, visit_id)
    assert order.route == "direct"
    with app.app_context():
        catalogue = app.extensions["catalogues"].latest("housing-mot-equipment")
        audited = db.session.scalar(select(AuditEvent).where(AuditEvent.record_id == str(order.id)))
    assert order.rules_version == catalogue.rules_version
    assert (order.catalogue_id, order.catalogue_version) == catalogue.key
    assert (order.quantity, order.location, order.side) == (2, "Bathroom", "left")
    assert order.measurements == {"length_mm": "450", "orientation": "vertical"}
    assert order.ta_level == "L3" and order.ordered_by == profile.id
    assert audited.action == "order_added" and audited.actor_id == profile.id
    html = assessor.text(f"/visits/{visit_id}/equipment")
    line = html[html.index('class="govuk-table__row app-order-line"') :]
    assert "Grab rail (straight)" in line and "Rail length: 450 mm" in line and ">Order<" in line


def test_numbers_are_stored_as_numbers(app, profile, assessor):
    visit_id = story_visit(app, profile)
    assert add(assessor, visit_id, "EQ-BATH-BOARD", BATH_BOARD).status_code == 302
    (order,) = orders_of(app, visit_id)
    assert order.measurements == {"bath_length_mm": 1700, "bath_width_mm": 700}


def test_a_missing_measurement_is_shown_as_an_error_keeping_what_was_typed_and_saves_nothing(
    app, profile, assessor
):
    visit_id = story_visit(app, profile)
    data = {**GRAB_RAIL, "measurement-length_mm": "", "quantity": "two"}
    response = add(assessor, visit_id, "MA-GRAB-STRAIGHT", data)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert assessor.last_page.title.startswith("Error: Grab rail (straight)")
    summary = html[
        html.index("govuk-error-summary") : html.index("</ul>", html.index("govuk-error-summary"))
    ]
    assert 'href="#measurement-length_mm"' in summary and "Select the rail length" in summary
    assert 'href="#quantity"' in summary and "Quantity must be a whole number" in summary
    assert summary.index("#measurement-length_mm") < summary.index("#quantity")  # page order
    assert 'value="two"' in html
    assert re.search(r'value="Bathroom" checked', html)
    assert "Grab rails needed by the bath" in html
    assert orders_of(app, visit_id) == []


def test_an_item_above_the_assessors_level_is_kept_and_needs_approval(app, profile, assessor):
    visit_id = story_visit(app, profile)
    form = assessor.text(f"/visits/{visit_id}/equipment/add/EQ-BATH-LIFT")
    assert "Needs approval" in form  # said before it is added
    data = {**BATH_BOARD, "measurement-bath_width_mm": "500"}
    assert add(assessor, visit_id, "EQ-BATH-LIFT", data).status_code == 302
    (order,) = orders_of(app, visit_id)
    assert order.route == "approval"
    assert [f["code"] for f in order.findings] == ["ABOVE_LEVEL"]
    html = assessor.text(f"/visits/{visit_id}/equipment")
    assert "Needs approval" in html and "This item needs a Level 4 trusted assessor" in html


def test_a_tenants_fitted_item_without_landlord_consent_is_held_with_the_reason(
    app, profile, assessor
):
    visit_id = story_visit(app, profile, P3="council_tenant", A8="not_asked")
    assert add(assessor, visit_id, "MA-GRAB-STRAIGHT", GRAB_RAIL).status_code == 302
    (order,) = orders_of(app, visit_id)
    assert order.route == "held"
    html = assessor.text(f"/visits/{visit_id}/equipment")
    assert ">Held<" in html and "The landlord has not been asked yet" in html


def test_a_key_safe_with_a_door_chain_needs_the_warning_acknowledged(app, profile, assessor):
    visit_id = story_visit(app, profile, S_KEYSAFE="yes", S_CHAIN="yes")
    url = f"/visits/{visit_id}/equipment/add/MA-KEY-SAFE"
    html = assessor.text(url)
    assert "govuk-warning-text" in html and "door chain or bolt" in html
    assert "I have discussed this with the resident" in html
    data = {"location": "Front door", "quantity": "1", "reason": "Carers need to get in"}
    response = add(assessor, visit_id, "MA-KEY-SAFE", data)
    assert response.status_code == 200
    assert 'href="#acknowledged"' in response.get_data(as_text=True)
    assert orders_of(app, visit_id) == []
    response = add(
        assessor, visit_id, "MA-KEY-SAFE", {**data, "acknowledged": "KEY_SAFE_DOOR_CHAIN"}
    )
    assert response.status_code == 302
    (order,) = orders_of(app, visit_id)
    assert order.acknowledged == ["KEY_SAFE_DOOR_CHAIN"]
    assert "KEY_SAFE_DOOR_CHAIN" in [f["code"] for f in order.findings]


def test_the_running_total_adds_up_the_order_and_the_task_list_shows_it(app, profile, assessor):
    visit_id = story_visit(app, profile)
    add(assessor, visit_id, "MA-GRAB-STRAIGHT", GRAB_RAIL)  # 2 x £60
    add(assessor, visit_id, "EQ-BATH-BOARD", BATH_BOARD)  # £35
    html = assessor.text(f"/visits/{visit_id}/equipment")
    total = html[html.index('id="order-total"') :]
    assert total[: total.index("</td>")].endswith("<strong>£155</strong>")
    task_list = assessor.text(f"/visits/{visit_id}")
    assert f'href="/visits/{visit_id}/equipment"' in task_list
    assert "2 items ordered so far (£155)" in task_list


def test_an_order_line_can_be_changed_and_removed(app, profile, assessor):
    visit_id = story_visit(app, profile)
    add(assessor, visit_id, "MA-GRAB-STRAIGHT", GRAB_RAIL)
    (order,) = orders_of(app, visit_id)
    change = f"/visits/{visit_id}/equipment/{order.id}"
    assert 'value="2"' in assessor.text(change)
    assert assessor.submit(change, {**GRAB_RAIL, "quantity": "3"}).status_code == 302
    assert orders_of(app, visit_id)[0].quantity == 3
    assessor.get(f"/visits/{visit_id}/equipment")
    remove = assessor.last_page.forms[-1]
    assert remove.action == f"/visits/{visit_id}/equipment/{order.id}/remove"
    response = assessor.post(remove.action, data=remove.hidden)
    assert response.status_code == 302
    assert orders_of(app, visit_id) == []
    with app.app_context():
        actions = db.session.scalars(
            select(AuditEvent.action).where(AuditEvent.record_id == str(order.id))
        ).all()
    assert actions == ["order_added", "order_changed", "order_removed"]


def test_an_hsc_who_is_not_a_trusted_assessor_cannot_order_in_any_way(app, profile, signed_in):
    visit_id = story_visit(app, profile)
    task_list = signed_in.text(f"/visits/{visit_id}")
    ordering = re.compile(r'/equipment["/?]|Order equipment')
    assert not ordering.search(task_list)
    assert "Request an occupational therapist or trusted-assessor assessment" in task_list
    assert not ordering.search(signed_in.text(f"/visits/{visit_id}/summary"))
    token = signed_in.last_page.forms[0].hidden["csrf_token"]
    crafted = {"csrf_token": token, **GRAB_RAIL}
    some_order = uuid.uuid4()
    for method, url in [
        ("get", f"/visits/{visit_id}/equipment"),
        ("get", f"/visits/{visit_id}/equipment?q=rail"),
        ("get", f"/visits/{visit_id}/equipment/add/MA-GRAB-STRAIGHT"),
        ("post", f"/visits/{visit_id}/equipment/add/MA-GRAB-STRAIGHT"),
        ("get", f"/visits/{visit_id}/equipment/{some_order}"),
        ("post", f"/visits/{visit_id}/equipment/{some_order}"),
        ("post", f"/visits/{visit_id}/equipment/{some_order}/remove"),
    ]:
        response = getattr(signed_in, method)(url, data=crafted if method == "post" else None)
        assert response.status_code == 403, f"{method} {url}"
    assert orders_of(app, visit_id) == []


def test_an_hsc_who_cannot_order_can_request_an_assessment_which_proposes_the_ot_referral(
    app, profile, signed_in
):
    visit_id = story_visit(app, profile)
    signed_in.get(f"/visits/{visit_id}")
    link = re.search(
        r'href="([^"]+)">Request an occupational therapist or trusted-assessor assessment',
        signed_in.text(f"/visits/{visit_id}"),
    ).group(1)
    assert link.endswith("/sections/adaptations/equipment-assessment")
    assert signed_in.submit(link, {"EQ_ASSESSMENT_REQUEST": "yes"}).status_code == 302
    assert "has been requested" in signed_in.text(f"/visits/{visit_id}")
    summary = signed_in.text(f"/visits/{visit_id}/summary")
    assert (
        "An occupational therapist or trusted-assessor assessment for equipment was requested"
        in (summary)
    )


def test_a_level_change_pulled_from_central_takes_effect_on_the_next_request(
    app, profile, assessor
):
    visit_id = story_visit(app, profile)
    assert assessor.get(f"/visits/{visit_id}/equipment").status_code == 200
    set_level(app, profile.id, "none")
    assert assessor.get(f"/visits/{visit_id}/equipment").status_code == 403
    set_level(app, profile.id, "L4")
    data = {**BATH_BOARD, "measurement-bath_width_mm": "500"}
    assert add(assessor, visit_id, "EQ-BATH-LIFT", data).status_code == 302
    (order,) = orders_of(app, visit_id)
    assert (order.route, order.ta_level) == ("direct", "L4")


def complete(client, app, profile, visit_id: str, **consents):
    complete_sections(app, profile, visit_id)
    client.get(f"/visits/{visit_id}/summary")
    names = {
        name.removeprefix("consent-")
        for name in re.findall(
            r'name="(consent-[a-z_]+)"', client.text(f"/visits/{visit_id}/summary")
        )
    }
    data = {f"consent-{name}": consents.get(name, "yes") for name in names}
    return client.submit(f"/visits/{visit_id}/summary", {**data, "action": "complete"})


def test_completing_sends_the_orders_with_route_and_rules_version_rechecked_on_the_answers(
    app, profile, assessor
):
    visit_id = story_visit(app, profile, P3="council_tenant", A8="waiting")
    add(assessor, visit_id, "MA-GRAB-STRAIGHT", GRAB_RAIL)
    add(assessor, visit_id, "AT-CARER-PAGER", {"quantity": "1", "reason": "Husband to be alerted"})
    assert orders_of(app, visit_id)[0].route == "held"
    with app.app_context():  # the landlord agrees before the visit is completed
        queries.save_answers(profile.id, uuid.UUID(visit_id), "all", 1, {"A8": "agreed"}, [], "")
    summary = assessor.text(f"/visits/{visit_id}/summary")
    groups = summary[summary.index('id="equipment-orders"') :]
    assert "Minor adaptations" in groups and "Assistive technology" in groups
    # No rule proposed assistive technology: consent is asked for the pager itself.
    assert 'name="consent-assistive_technology"' in summary
    response = complete(assessor, app, profile, visit_id, assistive_technology="yes")
    assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context():
        visit = db.session.get(Visit, uuid.UUID(visit_id))
        entry = db.session.scalar(select(OutboxEntry).where(OutboxEntry.visit_id == visit.id))
        catalogue = app.extensions["catalogues"].latest("housing-mot-equipment")
    assert visit.status == "completed"
    assert visit.consents["assistive_technology"] == "yes"
    sent = {order["item_code"]: order for order in entry.body["orders"]}
    assert set(sent) == {"MA-GRAB-STRAIGHT", "AT-CARER-PAGER"}
    assert sent["MA-GRAB-STRAIGHT"]["route"] == "direct"  # held when ordered; agreed since
    assert all(o["rules_version"] == catalogue.rules_version for o in sent.values())
    assert sent["MA-GRAB-STRAIGHT"]["measurements"] == {
        "length_mm": "450",
        "orientation": "vertical",
    }


def test_consent_for_the_equipment_service_is_needed_to_complete(app, profile, assessor):
    visit_id = story_visit(app, profile)
    add(assessor, visit_id, "AT-CARER-PAGER", {"quantity": "1", "reason": "Husband to be alerted"})
    complete_sections(app, profile, visit_id)
    summary = assessor.text(f"/visits/{visit_id}/summary")
    consents = dict.fromkeys(re.findall(r'name="(consent-[a-z_]+)"', summary), "yes")
    consents.pop("consent-assistive_technology")
    response = assessor.submit(f"/visits/{visit_id}/summary", {**consents, "action": "complete"})
    assert response.status_code == 200
    assert 'href="#consent-assistive_technology"' in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Visit, uuid.UUID(visit_id)).status == "draft"


def test_an_order_that_no_longer_passes_with_changed_answers_stops_completion(
    app, profile, assessor
):
    visit_id = story_visit(app, profile, S_KEYSAFE="yes")
    add(
        assessor,
        visit_id,
        "MA-KEY-SAFE",
        {"location": "Front door", "quantity": "1", "reason": "Carers"},
    )
    with app.app_context():  # the resident now uses a door chain: the warning is new
        queries.save_answers(profile.id, uuid.UUID(visit_id), "all", 1, {"S_CHAIN": "yes"}, [], "")
    response = complete(assessor, app, profile, visit_id)
    assert response.status_code == 200
    assert "Check the order for Key safe (police-approved)" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Visit, uuid.UUID(visit_id)).status == "draft"


def test_orders_cannot_change_once_the_visit_is_completed(app, profile, assessor):
    visit_id = story_visit(app, profile)
    add(assessor, visit_id, "MA-GRAB-STRAIGHT", GRAB_RAIL)
    (order,) = orders_of(app, visit_id)
    assert complete(assessor, app, profile, visit_id).status_code == 302
    token = assessor.last_page.forms[0].hidden["csrf_token"]
    for url in [
        f"/visits/{visit_id}/equipment/add/EQ-BATH-BOARD",
        f"/visits/{visit_id}/equipment/{order.id}",
        f"/visits/{visit_id}/equipment/{order.id}/remove",
    ]:
        response = assessor.post(url, data={"csrf_token": token, **BATH_BOARD, "quantity": "5"})
        assert response.status_code == 302 and response.headers["Location"] == f"/visits/{visit_id}"
    assert assessor.get(f"/visits/{visit_id}/equipment").status_code == 302
    (still,) = orders_of(app, visit_id)
    assert (still.item_code, still.quantity) == ("MA-GRAB-STRAIGHT", 2)
