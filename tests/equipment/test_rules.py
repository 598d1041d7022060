"""The ordering rules, on both sides of every boundary: the assessor's level, the £1,000
ceiling, a complex need, the landlord's consent and the key-safe / door-chain conflict."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from app.equipment.catalogue import Catalogue, load_catalogue
from app.equipment.rules import (
    RENTED,
    TA_LEVELS_ORDER,
    Decision,
    OrderLine,
    check_order,
    order_total_pence,
)
from app.formengine.definition import load_definition

FORMS = Path(__file__).resolve().parents[2] / "forms" / "housing_mot"
FORM = load_definition(FORMS / "form.v1.yaml")
CATALOGUE = load_catalogue(FORMS / "catalogue.v1.yaml", FORM)

TENURES = [option.value for option in FORM.questions["P3"].options]
CONSENTS = [option.value for option in FORM.questions["A8"].options]
FITTED = "MA-GRAB-STRAIGHT"  # L3, a minor adaptation, fitted, has a side
LOOSE = "EQ-BATH-BOARD"  # L3, community equipment, not fitted
LEVEL_4 = "EQ-BATH-LIFT"


def valid_measurements(code: str) -> dict[str, str | int]:
    values: dict[str, str | int] = {}
    for measurement in CATALOGUE.item(code).measurements:
        if measurement.id != "side":
            if measurement.kind == "choice":
                values[measurement.id] = measurement.options[0][0]
            else:
                values[measurement.id] = measurement.minimum
    return values


def line(code: str = FITTED, **changes: Any) -> OrderLine:
    has_side = CATALOGUE.item(code) is not None and CATALOGUE.item(code).measurement("side")
    given = OrderLine(
        item_code=code,
        quantity=1,
        location="By the bath",
        side="left" if has_side else "",
        measurements=valid_measurements(code) if CATALOGUE.item(code) else {},
        reason="Cannot push up from the bath without a hand-hold",
    )
    return replace(given, **changes)


def answers(**changes: Any) -> dict[str, Any]:
    """An owner-occupier with a straightforward need and no door chain."""
    return {"P3": "owner_occupier", "A2": "yes", "S_KEYSAFE": "no", "S_CHAIN": "no", **changes}


def check(
    order: OrderLine | None = None,
    *,
    level: str = "L3",
    catalogue: Catalogue = CATALOGUE,
    **given: Any,
) -> Decision:
    return check_order(catalogue, order or line(), assessor_level=level, answers=answers(**given))


def found(decision: Decision) -> list[str]:
    return [finding.code for finding in decision.reasons]


def priced(code: str, unit_cost_pence: int) -> Catalogue:
    """The real catalogue with one item's price changed."""
    item = replace(CATALOGUE.item(code), unit_cost_pence=unit_cost_pence)
    return replace(CATALOGUE, items={**CATALOGUE.items, code: item})


def test_a_valid_order_within_the_assessors_remit_goes_direct():
    decision = check()
    assert decision == Decision("direct", (), (), {}, "2026-11-1")


def test_the_levels_are_ordered_none_then_l3_then_l4():
    assert TA_LEVELS_ORDER == {"none": 0, "L3": 1, "L4": 2}
    assert {"council_tenant", "housing_association_tenant", "private_tenant"} == RENTED


# --- The assessor's level -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("level", "code", "route", "codes"),
    [
        ("none", FITTED, "refused", ["NOT_A_TRUSTED_ASSESSOR"]),
        ("none", LEVEL_4, "refused", ["NOT_A_TRUSTED_ASSESSOR"]),
        ("L3", FITTED, "direct", []),
        ("L3", LEVEL_4, "approval", ["ABOVE_LEVEL"]),
        ("L4", FITTED, "direct", []),
        ("L4", LEVEL_4, "direct", []),
    ],
)
def test_an_item_above_the_assessors_level_is_kept_for_approval(level, code, route, codes):
    decision = check(line(code), level=level)
    assert (decision.route, found(decision)) == (route, codes)


def test_the_level_message_says_who_approves_it():
    (finding,) = check(line(LEVEL_4), level="L3").reasons
    assert finding.message == (
        "This item needs a Level 4 trusted assessor: it goes to an occupational therapist or "
        "team leader for approval."
    )


@pytest.mark.parametrize("level", ["", "L5", "l3", None])
def test_an_unknown_level_counts_as_not_a_trusted_assessor(level):
    assert found(check(level=level)) == ["NOT_A_TRUSTED_ASSESSOR"]


def test_an_item_not_in_the_catalogue_is_refused():
    decision = check(line("MA-GOLD-TAPS"))
    assert (decision.route, found(decision)) == ("refused", ["UNKNOWN_ITEM"])
    assert "MA-GOLD-TAPS" in decision.reasons[0].message


def test_a_non_assessor_ordering_an_unknown_item_is_told_both():
    decision = check(line("MA-GOLD-TAPS"), level="none")
    assert found(decision) == ["NOT_A_TRUSTED_ASSESSOR", "UNKNOWN_ITEM"]


def test_a_refused_order_carries_the_rules_version():
    assert check(level="none").rules_version == CATALOGUE.rules_version


# --- The £1,000 ceiling ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("unit_cost", "quantity", "route"),
    [
        (100_000, 1, "direct"),
        (100_001, 1, "approval"),
        (50_000, 2, "direct"),
        (50_001, 2, "approval"),
        (5_000, 20, "direct"),
        (5_001, 20, "approval"),
    ],
)
def test_a_minor_adaptation_over_the_ceiling_is_kept_for_approval(unit_cost, quantity, route):
    decision = check(line(quantity=quantity), catalogue=priced(FITTED, unit_cost))
    assert decision.route == route
    assert found(decision) == ([] if route == "direct" else ["OVER_CEILING"])


def test_the_ceiling_message_gives_the_cost_and_the_limit():
    (finding,) = check(catalogue=priced(FITTED, 100_001)).reasons
    assert finding.message.startswith(
        "This adaptation costs £1,000.01, over the £1,000 limit for a free minor adaptation"
    )


def test_two_of_the_real_modular_ramps_go_over_the_ceiling():
    assert found(check(line("MA-RAMP-MODULAR"), level="L4")) == []
    assert found(check(line("MA-RAMP-MODULAR", quantity=2), level="L4")) == ["OVER_CEILING"]


def test_the_ceiling_applies_only_to_minor_adaptations():
    expensive = priced(LOOSE, 150_000)
    assert check(line(LOOSE), catalogue=expensive).route == "direct"


# --- A complex need -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("straightforward", "route", "codes"),
    [("yes", "direct", []), ("no", "approval", ["COMPLEX_NEED"]), (None, "direct", [])],
)
def test_a_need_that_is_not_straightforward_is_kept_for_approval(straightforward, route, codes):
    decision = check(A2=straightforward)
    assert (decision.route, found(decision)) == (route, codes)


def test_every_approval_reason_is_listed():
    decision = check(line(LEVEL_4), A2="no")
    assert found(decision) == ["ABOVE_LEVEL", "COMPLEX_NEED"]


# --- The landlord's consent -----------------------------------------------------------------


@pytest.mark.parametrize("consent", [*CONSENTS, None])
@pytest.mark.parametrize("tenure", TENURES)
def test_a_fitted_item_for_a_tenant_is_held_until_the_landlord_agrees(tenure, consent):
    decision = check(P3=tenure, A8=consent)
    held = tenure in RENTED and consent != "agreed"
    assert decision.route == ("held" if held else "direct")
    assert found(decision) == (["NO_LANDLORD_CONSENT"] if held else [])


@pytest.mark.parametrize("consent", [*CONSENTS, None])
@pytest.mark.parametrize("tenure", sorted(RENTED))
def test_an_item_that_is_not_fitted_never_waits_for_the_landlord(tenure, consent):
    assert check(line(LOOSE), P3=tenure, A8=consent).route == "direct"


@pytest.mark.parametrize(
    ("consent", "words"),
    [
        ("waiting", "has been asked but has not agreed yet"),
        ("not_asked", "has not been asked yet"),
        ("refused", "has refused permission"),
        ("not_needed", "this item is fitted to the home"),
        (None, "Nobody has recorded whether the landlord agrees"),
    ],
)
def test_the_held_message_says_why(consent, words):
    (finding,) = check(P3="private_tenant", A8=consent).reasons
    assert words in finding.message
    assert "held until the landlord agrees" in finding.message


def test_an_order_both_held_and_needing_approval_is_held_with_every_reason():
    decision = check(line("MA-RAMP-MODULAR"), P3="council_tenant", A2="no")
    assert decision.route == "held"
    assert found(decision) == ["NO_LANDLORD_CONSENT", "ABOVE_LEVEL", "COMPLEX_NEED"]


# --- The key-safe / door-chain conflict -----------------------------------------------------


def key_safe(**changes: Any) -> OrderLine:
    return line("MA-KEY-SAFE", location="Left of the front door", **changes)


def test_a_key_safe_where_a_door_chain_is_used_must_be_acknowledged():
    decision = check(key_safe(), S_KEYSAFE="yes", S_CHAIN="yes")
    assert [w.code for w in decision.warnings] == ["KEY_SAFE_DOOR_CHAIN"]
    assert "force entry" in decision.warnings[0].message
    assert decision.problems == {
        "acknowledged": "Confirm you have agreed with the resident how responders will get "
        "in past the door chain or bolt"
    }
    assert decision.route == "direct"


def test_an_acknowledged_key_safe_warning_is_kept_but_is_no_problem():
    decision = check(key_safe(acknowledged=("KEY_SAFE_DOOR_CHAIN",)), S_CHAIN="yes")
    assert [w.code for w in decision.warnings] == ["KEY_SAFE_DOOR_CHAIN"]
    assert decision.problems == {}


def test_a_key_safe_without_a_door_chain_has_no_warning():
    decision = check(key_safe(), S_KEYSAFE="yes", S_CHAIN="no")
    assert (decision.warnings, decision.problems) == ((), {})


def test_a_key_safe_where_a_door_chain_is_wanted_is_warned_about_too():
    decision = check(key_safe(), S_CHAIN="no", S10="wanted")
    assert [w.code for w in decision.warnings] == ["KEY_SAFE_DOOR_CHAIN"]


def test_other_items_are_not_warned_about_a_door_chain():
    assert check(line("MA-DOOR-INTERCOM"), S_CHAIN="yes").warnings == ()


# --- What was entered -------------------------------------------------------------------------


@pytest.mark.parametrize(("quantity", "ok"), [(0, False), (1, True), (20, True), (21, False)])
def test_the_quantity_is_between_1_and_20(quantity, ok):
    problems = check(line(quantity=quantity)).problems
    assert problems == ({} if ok else {"quantity": "Quantity must be between 1 and 20"})


@pytest.mark.parametrize("quantity", ["2", 1.5, True])
def test_a_quantity_that_is_not_a_whole_number_is_a_problem(quantity):
    assert check(line(quantity=quantity)).problems == {
        "quantity": "Quantity must be a whole number, like 2"
    }


def test_a_fitted_item_needs_to_say_where_and_every_item_needs_a_reason():
    assert check(line(location="  ", reason="")).problems == {
        "location": "Enter where it is to be fitted, for example by the bath",
        "reason": "Enter why the resident needs this item",
    }
    assert check(line(LOOSE, location="")).problems == {}


def test_long_locations_and_reasons_are_problems():
    problems = check(line(location="x" * 101, reason="y" * 1001)).problems
    assert problems == {
        "location": "Location must be 100 characters or fewer",
        "reason": "Reason must be 1000 characters or fewer",
    }


@pytest.mark.parametrize("side", ["", "middle"])
def test_an_item_with_a_side_needs_left_or_right(side):
    assert check(line(side=side)).problems == {"side": "Select the side"}


def test_a_side_given_among_the_measurements_is_taken_for_the_side():
    order = line(side="", measurements={**valid_measurements(FITTED), "side": "right"})
    assert check(order).problems == {}


def test_a_missing_choice_is_a_problem_named_after_the_measurement():
    assert check(line(measurements={"orientation": "vertical"})).problems == {
        "measurements.length_mm": "Select the rail length"
    }
    assert check(line(measurements={"length_mm": "500", "orientation": "vertical"})).problems == {
        "measurements.length_mm": "Select the rail length"
    }


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (None, "Enter the step height"),
        ("", "Enter the step height"),
        (99, "Step height must be between 100 mm and 300 mm"),
        (100, None),
        ("100", None),
        (" 300 ", None),
        (301, "Step height must be between 100 mm and 300 mm"),
        ("12.5", "Step height must be a whole number in mm"),
        ("tall", "Step height must be a whole number in mm"),
    ],
)
def test_a_number_measurement_is_a_whole_number_within_its_range(value, problem):
    measurements = {} if value is None else {"step_height_mm": value}
    problems = check(line("EQ-HALF-STEP", measurements=measurements)).problems
    assert problems == ({} if problem is None else {"measurements.step_height_mm": problem})


def test_a_measurement_the_item_does_not_have_is_a_problem():
    order = line(LOOSE, measurements={**valid_measurements(LOOSE), "colour": "red"})
    assert check(order).problems == {
        "measurements.colour": "Bath board has no measurement called colour"
    }


def test_problems_do_not_change_the_route():
    decision = check(line(LEVEL_4, reason=""))
    assert (decision.route, list(decision.problems)) == ("approval", ["reason"])


# --- The running total ----------------------------------------------------------------------


def test_the_running_total_multiplies_by_quantity_and_skips_what_has_no_price():
    lines = [
        line(FITTED, quantity=2),  # two at £60
        line(LOOSE),  # £35
        line("AT-LIFELINE"),  # a weekly charge: no unit cost
        line("MA-GOLD-TAPS"),  # not in the catalogue
    ]
    assert order_total_pence(CATALOGUE, lines) == 2 * 6000 + 3500
    assert order_total_pence(CATALOGUE, []) == 0
