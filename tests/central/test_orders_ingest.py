"""Equipment orders arriving with a visit: central re-checks each one with the assessor's
level on record and its own catalogue; it keeps and routes what needs approval or is held,
flags a change of policy, and refuses only orders their sender may not make — keeping the
rest of the visit."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from app.central import reviews
from app.extensions import db
from app.models import CentralEquipmentOrder, CentralVisit, Referral, VisitRevision
from tests.support.casework import Casework, story_body

CATALOGUE = "housing-mot-equipment"
GRAB_RAIL = {"length_mm": "450", "side": "left", "orientation": "vertical"}


def order(item_code: str = "MA-GRAB-STRAIGHT", **over) -> dict:
    return {
        "id": str(uuid.uuid4()),
        "catalogue_id": CATALOGUE,
        "catalogue_version": 1,
        "rules_version": "2026-11-1",
        "item_code": item_code,
        "quantity": 2,
        "location": "Bathroom",
        "side": "left",
        "measurements": dict(GRAB_RAIL) if item_code == "MA-GRAB-STRAIGHT" else {},
        "reason": "Difficulty getting in and out of the bath",
        "acknowledged": [],
        "ta_level": "L3",
        "route": "direct",
        **over,
    }


def visit_with(*orders: dict, story: str = "case-story-1", **over) -> dict:
    body = story_body(story, **over)
    body["orders"] = list(orders)
    return body


def stored(app, visit_id) -> list[CentralEquipmentOrder]:
    with app.app_context():
        query = select(CentralEquipmentOrder).where(
            CentralEquipmentOrder.visit_id == uuid.UUID(str(visit_id))
        )
        return list(db.session.scalars(query))


@pytest.fixture
def assessor(central_app) -> Casework:
    return Casework(central_app, ta_level="L3")


def test_an_order_within_the_assessors_remit_is_proposed_with_its_referral(assessor):
    rail = order()
    body = visit_with(rail)
    [result] = assessor.push(body)
    assert result["status"] == "created" and "orders_rejected" not in result["receipt"]
    [row] = stored(assessor.app, body["visit"]["id"])
    assert (row.id, row.status, row.route, row.device_route) == (
        uuid.UUID(rail["id"]),
        "proposed",
        "direct",
        "direct",
    )
    assert (row.item_name, row.quantity, row.measurements) == (
        "Grab rail (straight)",
        2,
        GRAB_RAIL,
    )
    assert row.rules_version == "2026-11-1" and row.provider_service == "minor_adaptations"
    assert row.ta_level == "L3" and row.ordered_by == assessor.hsc.id
    with assessor.app.app_context():
        referral = db.session.scalars(
            select(Referral).where(
                Referral.visit_id == row.visit_id, Referral.service == "minor_adaptations"
            )
        ).one()
    assert referral.status == "proposed"
    assert any("Grab rail (straight) × 2" in reason for reason in referral.reasons)


def test_a_non_assessors_order_is_refused_and_the_rest_of_the_visit_is_kept(central_app):
    work = Casework(central_app, ta_level="none")
    crafted = order(ta_level="L3")  # the tablet claims a level the account does not have
    body = visit_with(crafted)
    [result] = work.push(body)
    assert result["status"] == "created"
    [refusal] = result["receipt"]["orders_rejected"]
    assert (refusal["id"], refusal["code"]) == (crafted["id"], "ORDER_NOT_PERMITTED")
    assert stored(central_app, body["visit"]["id"]) == []
    with central_app.app_context():
        assert db.session.get(CentralVisit, uuid.UUID(body["visit"]["id"])) is not None
        revision = db.session.scalars(select(VisitRevision)).one()
        assert revision.body["orders"] == [crafted]  # what was sent is kept as sent


def test_an_item_above_the_assessors_level_is_kept_for_approval_and_flagged(assessor):
    bath = {"bath_length_mm": 1700, "bath_width_mm": 550}
    lift = order("EQ-BATH-LIFT", quantity=1, side="", measurements=bath, route="direct")
    body = visit_with(lift)
    [result] = assessor.push(body)
    assert "orders_rejected" not in result["receipt"]
    [row] = stored(assessor.app, body["visit"]["id"])
    assert (row.status, row.route, row.device_route, row.policy_changed) == (
        "approval",
        "approval",
        "direct",
        True,
    )
    assert "ABOVE_LEVEL" in {finding["code"] for finding in row.findings}
    with assessor.app.app_context():
        visit = db.session.get(CentralVisit, uuid.UUID(body["visit"]["id"]))
        assert "policy_changed" in visit.flags


def test_without_consent_to_share_the_order_is_held(assessor):
    body = visit_with(order(), consents={"minor_adaptations": "no", "handyperson": "yes"})
    assessor.push(body)
    [row] = stored(assessor.app, body["visit"]["id"])
    assert row.status == "held"
    assert "NO_CONSENT_TO_SHARE" in {finding["code"] for finding in row.findings}
    assert row.policy_changed is False  # consent is not policy


def test_an_unknown_item_is_refused_with_a_stable_code(assessor):
    body = visit_with(order("NO-SUCH-ITEM", measurements={}))
    [result] = assessor.push(body)
    [refusal] = result["receipt"]["orders_rejected"]
    assert refusal["code"] == "ORDER_REJECTED"
    assert stored(assessor.app, body["visit"]["id"]) == []


def test_an_unacknowledged_key_safe_warning_is_refused(assessor):
    key_safe = order("MA-KEY-SAFE", quantity=1, side="", measurements={})
    body = visit_with(key_safe, S_KEYSAFE="yes", S_CHAIN="yes")
    [result] = assessor.push(body)
    assert [r["code"] for r in result["receipt"].get("orders_rejected", [])] == ["ORDER_REJECTED"]
    acknowledged = order(
        "MA-KEY-SAFE", quantity=1, side="", measurements={}, acknowledged=["KEY_SAFE_DOOR_CHAIN"]
    )
    body = visit_with(acknowledged, S_KEYSAFE="yes", S_CHAIN="yes")
    [result] = assessor.push(body)
    assert "orders_rejected" not in result["receipt"]
    [row] = stored(assessor.app, body["visit"]["id"])
    assert "KEY_SAFE_DOOR_CHAIN" in {finding["code"] for finding in row.findings}


def test_a_revised_visit_replaces_its_orders_once(assessor):
    rail = order()
    body = visit_with(rail)
    assessor.push(body)
    with assessor.app.app_context():
        visit = db.session.get(CentralVisit, uuid.UUID(body["visit"]["id"]))
        reviews.return_visit(db.session.merge(assessor.leader), visit.id, visit.sha256, "Fix")
    revised = {**body, "orders": [{**rail, "quantity": 1}]}
    assert assessor.push(revised)[0]["status"] == "revised"
    [row] = stored(assessor.app, body["visit"]["id"])
    assert (row.quantity, row.revision) == (1, 2)


@pytest.mark.parametrize(
    ("quantity", "answers", "status", "code"),
    [
        (16, {}, "proposed", None),  # 16 at £60 = £960: within the £1,000 ceiling
        (17, {}, "approval", "OVER_CEILING"),  # £1,020: over it
        (1, {"A2": "no"}, "approval", "COMPLEX_NEED"),
        (1, {"P3": "private_tenant", "A8": "waiting"}, "held", "NO_LANDLORD_CONSENT"),
        (1, {"P3": "private_tenant", "A8": "agreed"}, "proposed", None),
    ],
)
def test_central_applies_each_boundary_of_the_rules_again(
    assessor, quantity, answers, status, code
):
    body = visit_with(order(quantity=quantity), **answers)
    [result] = assessor.push(body)
    assert "orders_rejected" not in result["receipt"]
    [row] = stored(assessor.app, body["visit"]["id"])
    assert row.status == status
    codes = {finding["code"] for finding in row.findings}
    assert (code in codes) if code else not codes
