"""The Housing MOT's referral rules, evaluated against the real definition.

Each test starts from a complete "nothing wrong" set of answers and changes only what it is
about, so a rule that fires on the wrong answer shows up as an unexpected output.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from app.formengine.definition import load_definition
from app.formengine.evaluation import HIDDEN, NOT_ASSESSED, SHOWN, Finding, Outcomes, VisitView

DEFINITION_PATH = Path(__file__).resolve().parents[2] / "forms/housing_mot/form.v1.yaml"
DEFINITION = load_definition(DEFINITION_PATH)

# A resident with nothing wrong: every required question shown at a home visit is answered.
BASELINE: dict[str, Any] = {
    "P6": "yes",
    "P3": "owner_occupier",
    "P4": "no",
    "P4_carer": "none",
    "P7": "no",
    "P9": ["none"],
    "P10": 2,
    "P8": "no",
    "WM_GOALS": "To stay in my own home",
    "WM_RATING_BEFORE": "4",
    "F1": "no",
    "F7": "no",
    "F8": "yes",
    "F9": "none",
    "F10": "yes",
    "F11": "yes",
    "F12": "no",
    "F21": "no",
    "F22": "no",
    "F13": "both_sides",
    "F14": "yes",
    "F15": "no",
    "F16": ["none"],
    "F17": "independently",
    "F18": "independently",
    "F19": "yes",
    "F23": "no_pull_cords",
    "F20": ["none"],
    "W1": "no",
    "W2": "no",
    "W3": "gas_central_heating",
    "W4": "working_serviced",
    "W5": "yes",
    "W6": ["living_room", "bedroom"],
    "W6_TEMP": 20,
    "W7": "none",
    "W8": ["none"],
    "W9": "no_prepayment",
    "W10": "yes",
    "W11": ["winter_fuel_payment"],
    "W12": ["none"],
    "S1": "all_levels",
    "S2": "yes",
    "S3": "yes",
    "S4": "appliance_with_co_alarm",
    "S5": ["none"],
    "S6": "yes",
    "S13": "no",
    "S7": "no",
    "S8": "yes",
    "S9": "no",
    "S10": "fitted",
    "S_KEYSAFE": "no",
    "S_CHAIN": "no",
    "S11": "no",
    "S12": "no",
    "A1": ["none"],
    "A5": ["none"],
    "A6": ["none"],
    "A7": "no",
    "A_JOBS": ["none"],
    "AT1": ["none"],
    "AT2": ["nothing_declined"],
    "I1": "yes",
    "I2": ["state_pension"],
    "I3": "no",
    "I4": "no",
    "I5": "no_carer",
    "I6": ["none"],
    "I7": "no",
    "I8": "no",
    "G1a": "hardly_ever",
    "G1b": "hardly_ever",
    "G1c": "hardly_ever",
    "G2": "most_days",
    "G3": "no",
    "G4": "no",
    "G7": "no",
    "G5": "1",
    "G6": "no",
    "G_LIFESTYLE": "no",
    "G9": "no",
}

# The answers to the questions shown only after a fall (F2-F6), for a single minor fall.
ONE_MINOR_FALL: dict[str, Any] = {
    "F1": "yes",
    "F2": 1,
    "F3": ["kitchen"],
    "F4": ["none"],
    "F5": "yes",
    "F5_LONG_LIE": "got_up_straight_away",
    "F6": "no",
}

# The two case stories from product.md, answered in full (shared with the demo data and the
# browser tests).
CASE_STORIES = yaml.safe_load(
    (DEFINITION_PATH.parent / "examples" / "case-stories.yaml").read_text(encoding="utf-8")
)
STORY_1_WIFE_NEEDS_GRAB_RAILS: dict[str, Any] = CASE_STORIES["case-story-1"]["answers"]
STORY_2_WOMAN_WITH_FALLS: dict[str, Any] = CASE_STORIES["case-story-2"]["answers"]


def answers(**overrides: Any) -> dict[str, Any]:
    return {**BASELINE, **overrides}


def fallen(**overrides: Any) -> dict[str, Any]:
    return answers(**{**ONE_MINOR_FALL, **overrides})


def view(given: dict[str, Any], setting: str = "home", age: int | None = 80) -> VisitView:
    return VisitView(DEFINITION, given, setting=setting, age=age)


def outcomes(given: dict[str, Any], setting: str = "home", age: int | None = 80) -> Outcomes:
    return view(given, setting, age).outcomes


def found(given: dict[str, Any], setting: str = "home", age: int | None = 80) -> dict[str, Finding]:
    return outcomes(given, setting, age).by_output()


def rules_fired(given: dict[str, Any], setting: str = "home", age: int | None = 80) -> set[str]:
    return {rule for finding in found(given, setting, age).values() for rule in finding.rules}


def referral_ids(given: dict[str, Any], setting: str = "home", age: int | None = 80) -> set[str]:
    return {finding.output.id for finding in outcomes(given, setting, age).referrals}


def signpost_ids(given: dict[str, Any], setting: str = "home", age: int | None = 80) -> set[str]:
    return {finding.output.id for finding in outcomes(given, setting, age).signposts}


# --- The definition and the baseline ------------------------------------------------------


def test_sections_come_in_the_task_list_order_with_consent_first_as_the_gate() -> None:
    assert [section.id for section in DEFINITION.sections] == [
        "about-the-person",
        "what-matters",
        "falls",
        "warmth",
        "security",
        "adaptations",
        "money",
        "wellbeing",
    ]
    gate = DEFINITION.sections[0]
    assert gate.gate
    assert gate.pages[0].questions[0].id == "P6"
    assert not any(section.gate for section in DEFINITION.sections[1:])


def test_details_captured_at_the_start_of_a_visit_are_not_asked_again() -> None:
    assert {"P1", "P2", "P5", "G10"}.isdisjoint(DEFINITION.questions)


def test_exactly_the_three_commissioned_services_are_provider_services() -> None:
    providers = {o.id for o in DEFINITION.outputs.values() if o.provider_service}
    assert providers == {"handyperson", "minor_adaptations", "assistive_technology"}
    assert all(DEFINITION.outputs[oid].kind == "referral" for oid in providers)


def test_every_output_can_be_reached_by_at_least_one_rule() -> None:
    assert {rule.output for rule in DEFINITION.rules} == set(DEFINITION.outputs)


def test_every_referral_and_signpost_says_what_to_tell_a_resident_who_does_not_consent() -> None:
    for output in DEFINITION.outputs.values():
        if output.kind in ("referral", "signpost"):
            assert output.info, output.id


def test_the_key_safe_question_warns_never_to_record_the_code() -> None:
    assert DEFINITION.questions["S_KEYSAFE"].hint == "Do not record the key safe code anywhere."


@pytest.mark.parametrize(
    "given",
    [BASELINE, STORY_1_WIFE_NEEDS_GRAB_RAILS, STORY_2_WOMAN_WITH_FALLS],
    ids=["baseline", "story-1", "story-2"],
)
def test_answer_sets_complete_every_section_of_a_home_visit(given: dict[str, Any]) -> None:
    visit = view(given)
    for section in DEFINITION.sections:
        assert visit.missing(section) == [], section.id


def test_baseline_answers_propose_nothing() -> None:
    result = outcomes(BASELINE)
    assert (result.referrals, result.signposts, result.prompts, result.warnings) == (
        (),
        (),
        (),
        (),
    )


def test_fall_details_are_hidden_and_ignored_when_there_was_no_fall() -> None:
    given = answers(F1="no", F2=5, F4=["blacked_out"], F5="no")
    visit = view(given)
    assert visit.state(DEFINITION.questions["F2"]) == HIDDEN
    assert "falls_service" not in found(given)
    assert "AT_FALL_DETECTOR" not in rules_fired(given)


def test_fall_details_are_shown_after_a_fall() -> None:
    assert view(fallen()).state(DEFINITION.questions["F2"]) == SHOWN


# --- FALLS_REFERRAL -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "overrides",
    [
        {"F2": 2},
        {"F4": ["injured"]},
        {"F4": ["blacked_out"]},
        {"F5": "no"},
        {"F5_LONG_LIE": "over_an_hour"},
        {"F7": "yes"},
        {"F8": "no"},
    ],
    ids=["two-falls", "injured", "blacked-out", "could-not-get-up", "long-lie", "balance", "chair"],
)
def test_falls_referral_fires_for_each_trigger(overrides: dict[str, Any]) -> None:
    finding = found(fallen(**overrides))["falls_service"]
    assert finding.rules == ("FALLS_REFERRAL",)


def test_falls_referral_does_not_fire_for_one_fall_without_injury_or_balance_problems() -> None:
    assert "falls_service" not in found(fallen(F2=1))


def test_falls_referral_does_not_fire_for_balance_problems_without_a_fall() -> None:
    assert "falls_service" not in found(answers(F7="yes", F8="no"))


def test_falls_referral_reason_names_the_number_of_falls() -> None:
    assert found(fallen(F2=3))["falls_service"].reasons == (
        "Has had 3 falls in the last 12 months",
    )


# --- FRAT_PROMPT --------------------------------------------------------------------------


def test_frat_prompt_appears_with_three_risk_factors() -> None:
    given = answers(P10=5, P9=["stroke"], F7="yes")
    finding = found(given)["frat_prompt"]
    assert finding.output.name == "Consider a falls service referral"
    assert finding.reasons == (
        "Takes 5 medicines a day",
        "Has had a stroke or has Parkinson's",
        "Has problems with balance or walking",
    )


def test_frat_prompt_does_not_appear_with_two_risk_factors() -> None:
    assert "frat_prompt" not in found(answers(P10=5, P9=["parkinsons"]))


def test_frat_prompt_does_not_count_an_untested_chair_rise() -> None:
    assert "frat_prompt" not in found(answers(P10=5, F7="yes", F8="not_tested"))
    assert "frat_prompt" in found(answers(P10=5, F7="yes", F8="no"))


def test_frat_prompt_counts_a_fall_in_the_last_year() -> None:
    assert "frat_prompt" in found(fallen(P10=4, F7="yes"))


def test_frat_prompt_is_a_prompt_not_a_score() -> None:
    given = answers(P10=5, P9=["stroke"], F7="yes", F8="no")
    result = outcomes(given)
    assert [finding.output.id for finding in result.prompts] == ["frat_prompt"]
    assert not any("score" in reason.lower() for reason in result.prompts[0].reasons)


# --- AT_PENDANT and AT_FALL_DETECTOR ------------------------------------------------------


@pytest.mark.parametrize(
    "overrides", [{}, {"F5": "no"}, {"F6": "yes"}], ids=["fall", "could-not-get-up", "worried"]
)
def test_pendant_is_suggested_for_someone_living_alone_after_a_fall(
    overrides: dict[str, Any],
) -> None:
    assert "AT_PENDANT" in rules_fired(fallen(P4="yes", **overrides))


def test_pendant_is_not_suggested_for_someone_who_lives_with_others() -> None:
    assert "AT_PENDANT" not in rules_fired(fallen(P4="no", F5="no", F6="yes"))


def test_pendant_is_not_suggested_again_once_the_resident_has_declined_it() -> None:
    given = fallen(P4="yes", F6="yes", AT2=["pendant_alarm"])
    assert "AT_PENDANT" not in rules_fired(given)
    assert "assistive_technology" not in found(given)


@pytest.mark.parametrize(
    "overrides", [{"F5": "no"}, {"F4": ["blacked_out"]}], ids=["could-not-get-up", "blackout"]
)
def test_fall_detector_is_suggested_after_a_blackout_or_being_unable_to_get_up(
    overrides: dict[str, Any],
) -> None:
    assert "AT_FALL_DETECTOR" in rules_fired(fallen(**overrides))


def test_fall_detector_is_not_suggested_after_an_injury_alone() -> None:
    assert "AT_FALL_DETECTOR" not in rules_fired(fallen(F4=["injured"]))


def test_fall_detector_is_not_suggested_once_the_resident_has_declined_it() -> None:
    assert "AT_FALL_DETECTOR" not in rules_fired(fallen(F5="no", AT2=["fall_detector"]))


def test_assistive_technology_referral_follows_a_chosen_pager_when_a_pendant_was_declined() -> None:
    given = fallen(P4="yes", AT1=["carer_pager"], AT2=["pendant_alarm"])
    finding = found(given)["assistive_technology"]
    assert finding.rules == ("ASSISTIVE_TECHNOLOGY",)
    assert finding.reasons == (
        "The resident would like: pager or carer alert for someone in the home",
    )


def test_choosing_no_assistive_technology_makes_no_referral() -> None:
    assert "assistive_technology" not in found(answers(AT1=["none"]))


# --- FRS ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "overrides",
    [
        {"S1": "some_levels"},
        {"S1": "none"},
        {"S2": "no"},
        {"S5": ["smoke_in_bed"]},
        {"S6": "no"},
        {"G5": "4"},
        {"S4": "appliance_no_co_alarm"},
        {"W12": ["heaters_near_furniture"]},
    ],
    ids=["some-alarms", "no-alarms", "cannot-hear", "risk", "escape", "cir-4", "no-co", "heater"],
)
def test_fire_and_rescue_referral_fires_for_each_trigger(overrides: dict[str, Any]) -> None:
    assert found(answers(**overrides))["fire_and_rescue"].rules == ("FRS",)


def test_fire_and_rescue_referral_does_not_fire_for_a_clutter_rating_of_three() -> None:
    assert "fire_and_rescue" not in found(answers(G5="3"))


def test_fire_and_rescue_ignores_smoke_alarms_at_a_clinic_visit() -> None:
    assert "fire_and_rescue" not in found(answers(S1="none", G5="9"), setting="gp_clinic")


# --- WARM ---------------------------------------------------------------------------------


def test_affordable_warmth_fires_for_an_older_resident_who_struggles_to_keep_warm() -> None:
    finding = found(answers(W1="yes"), age=70)["affordable_warmth"]
    assert finding.reasons == ("Has difficulty keeping their home warm",)


def test_affordable_warmth_does_not_fire_for_a_younger_resident_without_a_vulnerability() -> None:
    assert "affordable_warmth" not in found(answers(W1="yes", I1="no"), age=40)


@pytest.mark.parametrize("condition", ["heart", "respiratory", "mental_health"])
def test_affordable_warmth_fires_for_a_younger_resident_with_a_vulnerable_condition(
    condition: str,
) -> None:
    assert "affordable_warmth" in found(answers(W1="yes", I1="no", P9=[condition]), age=40)


@pytest.mark.parametrize(
    "overrides",
    [{"W2": "yes"}, {"W4": "broken"}, {"W6_TEMP": 16}, {"W3": "none"}],
    ids=["cuts-back", "broken", "cold-room", "no-heating"],
)
def test_affordable_warmth_fires_for_each_trigger(overrides: dict[str, Any]) -> None:
    assert found(answers(**overrides))["affordable_warmth"].rules == ("WARM",)


def test_affordable_warmth_does_not_fire_for_a_living_room_at_18_degrees() -> None:
    assert "affordable_warmth" not in found(answers(W6_TEMP=18))


def test_affordable_warmth_reason_gives_the_temperature() -> None:
    assert found(answers(W6_TEMP=15))["affordable_warmth"].reasons == (
        "The living room was 15 °C, below the healthy 18 °C",
    )


def test_affordable_warmth_ignores_a_temperature_recorded_at_a_clinic_visit() -> None:
    assert "affordable_warmth" not in found(answers(W6_TEMP=12), setting="gp_clinic")


# --- EH -----------------------------------------------------------------------------------


@pytest.mark.parametrize("tenure", ["private_tenant", "housing_association_tenant"])
def test_environmental_health_fires_for_widespread_damp_in_a_rented_home(tenure: str) -> None:
    assert "environmental_health" in found(answers(P3=tenure, W7="widespread", A8="not_asked"))


def test_environmental_health_fires_for_insecure_locks_in_a_private_let() -> None:
    assert "environmental_health" in found(answers(P3="private_tenant", S8="no"))


def test_environmental_health_does_not_fire_for_an_owner_occupier() -> None:
    assert "environmental_health" not in found(answers(W7="widespread", S8="no", W4="broken"))


def test_environmental_health_does_not_fire_for_some_damp() -> None:
    assert "environmental_health" not in found(answers(P3="private_tenant", W7="some"))


# --- BEN ----------------------------------------------------------------------------------


BENEFIT_TRIGGERS = [
    pytest.param(
        {"I3": "yes"},
        "Has needed help with personal care for 6 months or more: check Attendance Allowance",
        id="attendance-allowance",
    ),
    pytest.param(
        {"I3": "yes", "I1": "no"},
        "Has needed help with personal care for 6 months or more: "
        "check Personal Independence Payment",
        id="pip-under-pension-age",
    ),
    pytest.param(
        {"I4": "yes"},
        "Income is below the Pension Credit level: check Pension Credit",
        id="pension-credit",
    ),
    pytest.param(
        {"I4": "not_sure"},
        "Not sure whether income is below the Pension Credit level: check Pension Credit",
        id="pension-credit-not-sure",
    ),
    pytest.param(
        {"I5": "carer_not_claiming"},
        "A carer gives 35 hours or more a week and may be able to claim Carer's Allowance",
        id="carers-allowance",
    ),
    pytest.param(
        {"I6": ["adapted_home"]},
        "Council tax: Home has adapted features (Disabled Band Reduction)",
        id="council-tax",
    ),
    pytest.param(
        {"W2": "yes"},
        "Cuts back on heating or food because of the cost: check income",
        id="cuts-back-on-heating",
    ),
    pytest.param(
        {"W11": ["none"]},
        "Does not receive Warm Home Discount, Winter Fuel Payment or Cold Weather Payment",
        id="no-winter-payments",
    ),
]


@pytest.mark.parametrize(("overrides", "reason"), BENEFIT_TRIGGERS)
def test_benefits_check_fires_for_each_trigger_with_its_reason(
    overrides: dict[str, Any], reason: str
) -> None:
    finding = found(answers(**overrides))["benefits"]
    assert finding.rules == ("BEN",)
    assert reason in finding.reasons


def test_benefits_check_does_not_fire_when_a_carer_already_gets_carers_allowance() -> None:
    assert "benefits" not in found(answers(I5="carer_claiming"))


# --- DFG and OT ---------------------------------------------------------------------------


def test_a_likely_major_adaptation_goes_to_occupational_therapy_for_a_dfg() -> None:
    given = answers(A1=["stairs"], A2="yes", A3="yes")
    finding = found(given)["occupational_therapy"]
    assert finding.rules == ("DFG",)
    assert "Disabled Facilities Grant" in finding.reasons[0]


def test_no_dfg_referral_when_no_major_adaptation_is_likely() -> None:
    assert "occupational_therapy" not in found(answers(A1=["stairs"], A2="yes", A3="no"))


def test_complex_needs_go_to_occupational_therapy_instead_of_minor_adaptations() -> None:
    given = answers(A1=["bathing_or_showering"], A2="no", A3="no", A5=["by_bath"])
    result = found(given)
    assert result["occupational_therapy"].rules == ("OT",)
    assert "minor_adaptations" not in result


def test_a_resident_who_cannot_use_the_bath_goes_to_occupational_therapy() -> None:
    assert found(answers(F17="cannot"))["occupational_therapy"].rules == ("OT",)


# --- KEY_SAFE_CONFLICT --------------------------------------------------------------------


def test_key_safe_and_door_chain_together_raise_a_warning() -> None:
    result = outcomes(answers(S_KEYSAFE="yes", S_CHAIN="yes"))
    assert [finding.output.id for finding in result.warnings] == ["key_safe_conflict"]


def test_key_safe_and_a_wanted_door_chain_raise_a_warning() -> None:
    assert "key_safe_conflict" in found(answers(S_KEYSAFE="yes", S10="wanted"))


@pytest.mark.parametrize(
    "overrides",
    [{"S_KEYSAFE": "yes", "S_CHAIN": "no"}, {"S_KEYSAFE": "no", "S_CHAIN": "yes"}],
    ids=["key-safe-only", "chain-only"],
)
def test_key_safe_or_door_chain_alone_raise_no_warning(overrides: dict[str, Any]) -> None:
    assert "key_safe_conflict" not in found(answers(**overrides))


# --- Provider services and signposts ------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "output"),
    [
        ({"F14": "no"}, "handyperson"),
        ({"F15": "yes"}, "handyperson"),
        ({"F16": ["trailing_cables"]}, "handyperson"),
        ({"F20": ["poor_outside_lighting"]}, "handyperson"),
        ({"S7": "yes"}, "handyperson"),
        ({"S8": "no"}, "handyperson"),
        ({"S10": "wanted"}, "handyperson"),
        ({"S13": "yes"}, "handyperson"),
        ({"W8": ["draughty_doors_or_windows"]}, "handyperson"),
        ({"A_JOBS": ["shower_repair"]}, "handyperson"),
        ({"F13": "one_side"}, "minor_adaptations"),
        ({"F17": "with_difficulty"}, "minor_adaptations"),
        ({"F18": "with_help"}, "minor_adaptations"),
        ({"F20": ["steps_or_threshold"]}, "minor_adaptations"),
        ({"A5": ["by_toilet"]}, "minor_adaptations"),
        ({"A6": ["half_step"]}, "minor_adaptations"),
        ({"A7": "yes"}, "minor_adaptations"),
        ({"S3": "no"}, "assistive_technology"),
        ({"S11": "yes"}, "assistive_technology"),
        ({"G7": "yes", "P4": "yes"}, "assistive_technology"),
        ({"G1a": "often", "G1b": "some_of_the_time"}, "community_groups"),
        ({"G2": "rarely"}, "community_groups"),
        ({"G3": "yes"}, "hearing_services"),
        ({"G4": "yes"}, "sight_services"),
        ({"F10": "no"}, "optician"),
        ({"G6": "yes"}, "housing_options"),
        ({"I8": "yes"}, "debt_advice"),
        ({"I7": "yes"}, "blue_badge"),
        ({"G_LIFESTYLE": "yes"}, "lifestyle_support"),
        ({"G8": ["smoking"]}, "lifestyle_support"),
        ({"P10": 4}, "gp_or_pharmacist"),
        ({"P4_carer": "unpaid_carer"}, "carers_support"),
        ({"S11": "yes"}, "scams_support"),
        ({"F11": "no"}, "home_safety_advice"),
        ({"F21": "yes"}, "home_safety_advice"),
        ({"F22": "yes"}, "home_safety_advice"),
        ({"G9": "yes"}, "safeguarding"),
        ({"S12": "yes"}, "safeguarding"),
    ],
)
def test_service_and_signpost_routing(overrides: dict[str, Any], output: str) -> None:
    assert output in found(answers(**overrides))


def test_strength_and_balance_is_signposted_for_fear_of_falling() -> None:
    assert "strength_and_balance" in found(fallen(F6="yes"))


def test_community_groups_are_not_signposted_below_a_loneliness_score_of_six() -> None:
    # hardly ever (1) + some of the time (2) + some of the time (2) = 5
    given = answers(G1a="some_of_the_time", G1b="some_of_the_time")
    assert "community_groups" not in found(given)
    assert "community_groups" in found(answers(G1a="often", G1b="some_of_the_time"))


def test_minor_adaptations_need_a_resident_with_stairs_and_fewer_than_two_rails() -> None:
    assert "minor_adaptations" not in found(answers(F13="no_stairs"))
    assert "minor_adaptations" not in found(answers(F13="both_sides"))


def test_the_stair_rail_question_is_asked_only_away_from_home() -> None:
    stair_rails = DEFINITION.questions["A4"]
    assert view(BASELINE).state(stair_rails) == HIDDEN
    assert view(BASELINE, setting="phone").state(stair_rails) == SHOWN
    assert "minor_adaptations" in found(answers(A4="one"), setting="phone")


# --- The two case stories -----------------------------------------------------------------


def test_story_1_produces_grab_rails_small_jobs_income_check_and_smoke_alarm_check() -> None:
    result = found(STORY_1_WIFE_NEEDS_GRAB_RAILS, age=78)
    assert referral_ids(STORY_1_WIFE_NEEDS_GRAB_RAILS, age=78) == {
        "minor_adaptations",
        "handyperson",
        "benefits",
        "fire_and_rescue",
    }
    assert {"community_groups", "home_safety_advice"} <= signpost_ids(
        STORY_1_WIFE_NEEDS_GRAB_RAILS, age=78
    )
    assert "Grab rails needed: by the bath, by the toilet" in result["minor_adaptations"].reasons
    assert "Small jobs: shower repair, dripping or stiff taps" in result["handyperson"].reasons
    assert "Smoke alarms: only on some levels" in result["fire_and_rescue"].reasons
    assert result["benefits"].reasons == (
        "Not sure whether income is below the Pension Credit level: check Pension Credit",
    )


def test_story_2_produces_every_referral_the_service_made() -> None:
    result = found(STORY_2_WOMAN_WITH_FALLS)
    assert referral_ids(STORY_2_WOMAN_WITH_FALLS) == {
        "assistive_technology",
        "benefits",
        "fire_and_rescue",
        "handyperson",
        "affordable_warmth",
        "minor_adaptations",
        "falls_service",
    }
    assert {"lifestyle_support", "hearing_services"} <= signpost_ids(STORY_2_WOMAN_WITH_FALLS)
    assert result["assistive_technology"].rules == ("ASSISTIVE_TECHNOLOGY",)
    assert result["assistive_technology"].reasons == (
        "The resident would like: pager or carer alert for someone in the home",
    )
    benefits = result["benefits"].reasons
    assert any("Attendance Allowance" in reason for reason in benefits)
    assert any("Carer's Allowance" in reason for reason in benefits)
    assert "Doors or windows do not lock securely: fit locks" in result["handyperson"].reasons
    assert (
        "Grab rails needed: by the bath, at the front door" in result["minor_adaptations"].reasons
    )
    assert "Outside steps need: a half step" in result["minor_adaptations"].reasons


def test_story_2_records_the_declined_pendant_and_does_not_suggest_it() -> None:
    alone = {**STORY_2_WOMAN_WITH_FALLS, "P4": "yes"}
    assert "AT_PENDANT" not in rules_fired(alone)


# --- Reasons, declined assessments and clinic visits --------------------------------------


def test_reasons_are_in_words_and_name_the_triggering_answer() -> None:
    given = fallen(F2=4, F4=["injured", "dizzy"], S5=["smoke_in_bed", "open_fire"])
    result = found(given)
    assert result["falls_service"].reasons == (
        "Has had 4 falls in the last 12 months",
        "A fall with injury, blackout or dizziness (injured, felt dizzy first)",
    )
    assert result["fire_and_rescue"].reasons == ("Fire risks: smokes in bed, open fire",)
    every_reason = [reason for finding in result.values() for reason in finding.reasons]
    question_ids = set(DEFINITION.questions)
    for reason in every_reason:
        assert "{" not in reason
        assert not question_ids & set(reason.replace(":", " ").replace(",", " ").split())
        assert "_" not in reason


def test_a_declined_assessment_produces_no_outcomes() -> None:
    given = {**STORY_2_WOMAN_WITH_FALLS, "P6": "no"}
    visit = view(given)
    assert visit.declined
    result = visit.outcomes
    assert (result.referrals, result.signposts, result.prompts, result.warnings) == (
        (),
        (),
        (),
        (),
    )


def test_a_declined_assessment_needs_nothing_more_in_the_first_section() -> None:
    visit = view({"P6": "no"})
    assert visit.missing(DEFINITION.sections[0]) == []


def test_a_clinic_visit_marks_home_only_questions_not_assessed() -> None:
    visit = view(answers(A4="both"), setting="gp_clinic")
    home_only = [q for q in DEFINITION.questions.values() if q.home_only]
    assert {q.id for q in home_only} >= {"F11", "F13", "F17", "W6_TEMP", "S1", "S8", "G5"}
    for question in home_only:
        assert visit.state(question) == NOT_ASSESSED, question.id
        assert visit.display(question) == "Not assessed — clinic visit"
    for section in DEFINITION.sections:
        assert visit.missing(section) == [], section.id


def test_a_clinic_visit_ignores_home_only_answers_in_the_rules() -> None:
    given = answers(F17="cannot", F14="no", S8="no", W7="widespread", P3="private_tenant")
    assert found(given, setting="gp_clinic") == {}


def test_a_clinic_visit_suggests_a_home_visit_when_falls_are_reported() -> None:
    result = outcomes(fallen(), setting="gp_clinic")
    assert [finding.output.id for finding in result.prompts] == ["home_visit_suggested"]
    assert result.prompts[0].reasons == (
        "Has had a fall in the last 12 months: check the home for hazards",
    )


def test_a_clinic_visit_suggests_a_home_visit_for_difficulties_with_daily_activities() -> None:
    given = answers(A1=["bathing_or_showering"], A2="yes", A3="no", A4="both")
    assert "home_visit_suggested" in found(given, setting="hospital")


def test_a_home_visit_never_suggests_another_home_visit() -> None:
    assert "home_visit_suggested" not in found(fallen(A1=["stairs"], A2="yes", A3="no"))


def test_a_clinic_visit_with_nothing_found_suggests_no_home_visit() -> None:
    assert found(answers(A4="both"), setting="gp_clinic") == {}
