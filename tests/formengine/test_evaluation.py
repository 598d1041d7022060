"""VisitView: what a visit shows, hides, still needs and reads back, on a small definition."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from app.formengine.definition import FormDefinition, load_definition
from app.formengine.evaluation import HIDDEN, NOT_ASSESSED, SHOWN, VisitView, age_on

DEFINITION_YAML = """\
id: visit-test
version: 1
title: Visit test
declined_if: "P6 == 'no'"
sections:
  - id: consent
    title: Consent
    task: Check consent
    gate: true
    pages:
      - id: consent
        title: Consent
        questions:
          - {id: P6, type: yes_no, label: Does the resident agree}

  - id: falls
    title: Falls
    task: Check falls
    pages:
      - id: falls-history
        title: Falls history
        show_if: "P6 == 'yes'"
        questions:
          - {id: F1, type: yes_no, label: Any falls}
          - {id: F_NOTES, type: text, label: Notes, optional: true}
      - id: fall-details
        title: About the falls
        show_if: "F1 == 'yes'"
        questions:
          - {id: F2, type: number, label: How many falls, suffix: falls}
          - {id: F4, type: yes_no, label: Injured}
      - id: injuries
        title: Injuries
        questions:
          - id: F5
            type: single
            label: Which injury?
            show_if: "F4 == 'yes'"
            options:
              - {value: fracture, label: A broken bone}
              - {value: bruising, label: Bruising}
          - {id: F6, type: yes_no, label: Can they get up alone}

  - id: home
    title: Home
    task: Check the home
    pages:
      - id: home-check
        title: Home check
        questions:
          - {id: H1, type: yes_no, label: Stair rails on both sides, home_only: true}
          - {id: H2, type: yes_no, label: Bath board, home_only: true, optional: true}
      - id: alarms
        title: Alarms
        questions:
          - {id: H3, type: yes_no_not_sure, label: Working smoke alarm}
          - {id: H4, type: yes_no, label: Carbon monoxide alarm, home_only: true}

  - id: details
    title: Details
    task: Record details
    pages:
      - id: details
        title: Details
        questions:
          - id: D_SINGLE
            type: single
            label: Tenure
            options:
              - {value: owner, label: They own it}
              - {value: tenant, label: Council tenant}
          - id: D_MULTI
            type: multi
            label: Conditions
            options:
              - {value: stroke, label: Stroke}
              - {value: heart, label: Heart condition}
              - {value: none, label: None of these, exclusive: true}
          - {id: D_COUNT, type: number, label: Medicines, suffix: medicines}
          - {id: D_PLAIN_NUMBER, type: number, label: Rooms}
          - {id: D_DATE, type: date, label: Discharged}
          - {id: D_NHS, type: nhs_number, label: NHS number}
          - {id: D_POSTCODE, type: postcode, label: Postcode}
          - {id: D_TEXT, type: text, label: Goals}
          - {id: D_OPTIONAL, type: text, label: Anything else, optional: true}

outputs:
  - {id: falls_service, name: Falls service, kind: referral}
  - {id: fire_check, name: Fire safety check, kind: signpost}

rules:
  - id: FALLS
    output: falls_service
    when: "F2 >= 2"
    reason: "Has had {F2}"
  - id: FIRE
    output: fire_check
    when: "H3 == 'no'"
    reason: No working smoke alarm
"""

# Every required question in the details section, answered.
DETAILS: dict[str, Any] = {
    "D_SINGLE": "tenant",
    "D_MULTI": ["stroke", "heart"],
    "D_COUNT": 3,
    "D_PLAIN_NUMBER": 7,
    "D_DATE": "2026-11-09",
    "D_NHS": "9434765919",
    "D_POSTCODE": "SW1A 1AA",
    "D_TEXT": "To stay at home",
}


@pytest.fixture(scope="module")
def definition(tmp_path_factory: pytest.TempPathFactory) -> FormDefinition:
    path: Path = tmp_path_factory.mktemp("forms") / "form.v1.yaml"
    path.write_text(DEFINITION_YAML, encoding="utf-8")
    return load_definition(path)


def visit(definition: FormDefinition, setting: str = "home", **answers: Any) -> VisitView:
    return VisitView(definition, answers, setting=setting, age=80)


def ids(questions: list[Any]) -> list[str]:
    return [q.id for q in questions]


# --- show_if ---------------------------------------------------------------------------


def test_a_page_show_if_hides_every_question_on_the_page(definition: FormDefinition) -> None:
    view = visit(definition, P6="yes", F1="no", F2=3, F4="yes")
    page = definition.section("falls").pages[1]
    assert not view.page_shown(page)
    assert view.shown_questions(page) == []
    assert [view.state(q) for q in page.questions] == [HIDDEN, HIDDEN]


def test_a_page_show_if_shows_the_page_when_it_holds(definition: FormDefinition) -> None:
    view = visit(definition, P6="yes", F1="yes")
    page = definition.section("falls").pages[1]
    assert view.page_shown(page)
    assert ids(view.shown_questions(page)) == ["F2", "F4"]


def test_hidden_answers_are_kept_in_answers_but_none_in_values(
    definition: FormDefinition,
) -> None:
    view = visit(definition, P6="yes", F1="no", F2=3, F4="yes")
    assert view.answers["F2"] == 3
    assert view.answers["F4"] == "yes"
    assert view.values["F2"] is None
    assert view.values["F4"] is None


def test_a_hidden_answer_does_not_satisfy_a_later_show_if(definition: FormDefinition) -> None:
    view = visit(definition, P6="yes", F1="no", F4="yes", F5="fracture")
    f5 = definition.questions["F5"]
    assert view.state(f5) == HIDDEN
    assert view.values["F5"] is None


def test_a_hidden_answer_does_not_fire_a_rule(definition: FormDefinition) -> None:
    view = visit(definition, P6="yes", F1="no", F2=5)
    assert view.outcomes.referrals == ()


def test_a_question_show_if_hides_only_that_question(definition: FormDefinition) -> None:
    view = visit(definition, P6="yes", F1="yes", F4="no")
    page = definition.section("falls").pages[2]
    assert view.state(definition.questions["F5"]) == HIDDEN
    assert view.state(definition.questions["F6"]) == SHOWN
    assert view.page_shown(page)
    assert ids(view.shown_questions(page)) == ["F6"]


def test_a_question_show_if_shows_the_question_when_it_holds(definition: FormDefinition) -> None:
    view = visit(definition, P6="yes", F1="yes", F4="yes", F5="bruising")
    assert view.state(definition.questions["F5"]) == SHOWN
    assert view.values["F5"] == "bruising"


def test_hidden_questions_are_not_missing(definition: FormDefinition) -> None:
    view = visit(definition, P6="yes", F1="no", F6="yes")
    assert view.missing(definition.section("falls")) == []


def test_shown_unanswered_questions_are_missing_in_order(definition: FormDefinition) -> None:
    view = visit(definition, P6="yes", F1="yes", F4="yes")
    assert ids(view.missing(definition.section("falls"))) == ["F2", "F5", "F6"]


# --- home_only -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("setting", "label"),
    [
        ("gp_clinic", "Not assessed — clinic visit"),
        ("hospital", "Not assessed — hospital visit"),
        ("phone", "Not assessed — phone call"),
    ],
)
def test_home_only_questions_are_not_assessed_away_from_home(
    definition: FormDefinition, setting: str, label: str
) -> None:
    view = visit(definition, setting, H1="no", H3="yes", H4="no")
    for qid in ("H1", "H2", "H4"):
        question = definition.questions[qid]
        assert view.state(question) == NOT_ASSESSED, qid
        assert view.display(question) == label, qid
        assert view.values[qid] is None, qid
    assert view.answers["H1"] == "no"
    assert view.state(definition.questions["H3"]) == SHOWN
    assert view.missing(definition.section("home")) == []


def test_a_page_of_only_home_only_questions_is_not_shown_away_from_home(
    definition: FormDefinition,
) -> None:
    home_check, alarms = definition.section("home").pages
    view = visit(definition, "gp_clinic")
    assert not view.page_shown(home_check)
    assert view.page_shown(alarms)
    assert ids(view.shown_questions(alarms)) == ["H3"]


def test_home_only_questions_are_shown_and_required_at_home(definition: FormDefinition) -> None:
    view = visit(definition, "home", H1="yes")
    for qid in ("H1", "H2", "H3", "H4"):
        assert view.state(definition.questions[qid]) == SHOWN, qid
    assert view.display(definition.questions["H1"]) == "Yes"
    assert view.values["H1"] == "yes"
    assert ids(view.missing(definition.section("home"))) == ["H3", "H4"]


# --- missing ---------------------------------------------------------------------------


def test_missing_ignores_optional_questions(definition: FormDefinition) -> None:
    view = visit(definition, P6="yes", F1="no", F6="no", **{**DETAILS, "D_TEXT": "Stay"})
    assert view.missing(definition.section("falls")) == []
    assert view.missing(definition.section("details")) == []
    assert "F_NOTES" not in view.answers
    assert "D_OPTIONAL" not in view.answers


@pytest.mark.parametrize(("qid", "empty"), [("D_TEXT", ""), ("D_MULTI", []), ("D_COUNT", None)])
def test_an_empty_answer_counts_as_missing(
    definition: FormDefinition, qid: str, empty: Any
) -> None:
    view = visit(definition, **{**DETAILS, qid: empty})
    assert ids(view.missing(definition.section("details"))) == [qid]


def test_a_zero_counts_as_an_answer(definition: FormDefinition) -> None:
    view = visit(definition, **{**DETAILS, "D_COUNT": 0})
    assert view.missing(definition.section("details")) == []
    assert view.display(definition.questions["D_COUNT"]) == "0 medicines"


# --- display ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("qid", "value", "shown_as"),
    [
        ("P6", "yes", "Yes"),
        ("H3", "not_sure", "Not sure"),
        ("D_SINGLE", "tenant", "Council tenant"),
        ("D_MULTI", ["stroke", "heart"], "Stroke, Heart condition"),
        ("D_MULTI", ["none"], "None of these"),
        ("D_COUNT", 3, "3 medicines"),
        ("D_PLAIN_NUMBER", 7, "7"),
        ("D_DATE", "2026-11-09", "9 November 2026"),
        ("D_DATE", date(2026, 3, 1), "1 March 2026"),
        ("D_NHS", "9434765919", "943 476 5919"),
        ("D_POSTCODE", "SW1A 1AA", "SW1A 1AA"),
        ("D_TEXT", "To stay at home", "To stay at home"),
        ("D_OPTIONAL", "Has a cat", "Has a cat"),
    ],
)
def test_display_reads_each_answer_type_back_in_words(
    definition: FormDefinition, qid: str, value: Any, shown_as: str
) -> None:
    view = visit(definition, **{"P6": "yes", qid: value})
    assert view.display(definition.questions[qid]) == shown_as


@pytest.mark.parametrize("value", [None, "", []])
def test_display_of_an_unanswered_required_question_is_not_answered(
    definition: FormDefinition, value: Any
) -> None:
    view = visit(definition, D_MULTI=value, D_TEXT=value)
    assert view.display(definition.questions["D_MULTI"]) == "Not answered"
    assert view.display(definition.questions["D_TEXT"]) == "Not answered"


def test_display_of_an_unanswered_optional_question_is_not_provided(
    definition: FormDefinition,
) -> None:
    view = visit(definition, D_OPTIONAL="")
    assert view.display(definition.questions["D_OPTIONAL"]) == "Not provided"
    assert visit(definition).display(definition.questions["D_OPTIONAL"]) == "Not provided"


# --- declined --------------------------------------------------------------------------


def test_declined_when_consent_is_no_gives_empty_outcomes(definition: FormDefinition) -> None:
    view = visit(definition, P6="no", H3="no")
    assert view.declined
    result = view.outcomes
    assert (result.referrals, result.signposts, result.prompts, result.warnings) == (
        (),
        (),
        (),
        (),
    )


def test_the_same_answers_with_consent_give_outcomes(definition: FormDefinition) -> None:
    view = visit(definition, P6="yes", H3="no", F1="yes", F2=2)
    assert not view.declined
    assert [f.output.id for f in view.outcomes.referrals] == ["falls_service"]
    assert view.outcomes.referrals[0].reasons == ("Has had 2 falls",)
    assert [f.output.id for f in view.outcomes.signposts] == ["fire_check"]


def test_an_unanswered_consent_is_not_declined(definition: FormDefinition) -> None:
    assert not visit(definition).declined


# --- with_answers and context ----------------------------------------------------------


def test_with_answers_returns_a_fresh_view_with_the_same_context(
    definition: FormDefinition,
) -> None:
    before = VisitView(
        definition, {"P6": "yes", "F1": "no"}, setting="phone", age=72, referral_source="gp"
    )
    page = definition.section("falls").pages[1]
    assert not before.page_shown(page)
    after = before.with_answers({"P6": "yes", "F1": "yes"})
    assert after is not before
    assert after.page_shown(page)
    assert not before.page_shown(page)
    assert before.answers == {"P6": "yes", "F1": "no"}
    assert after.setting == "phone"
    assert {k: after.values[k] for k in ("setting", "age", "referral_source")} == {
        "setting": "phone",
        "age": 72,
        "referral_source": "gp",
    }


def test_the_view_keeps_its_own_copy_of_the_answers(definition: FormDefinition) -> None:
    given = {"P6": "yes"}
    view = VisitView(definition, given, setting="home")
    given["P6"] = "no"
    assert view.answers == {"P6": "yes"}
    assert not view.declined


# --- age_on ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("on", "age"),
    [
        (date(2026, 3, 14), 79),
        (date(2026, 3, 15), 80),
        (date(2026, 3, 16), 80),
        (date(2027, 3, 14), 80),
    ],
)
def test_age_on_goes_up_on_the_birthday(on: date, age: int) -> None:
    assert age_on(date(1946, 3, 15), on) == age


def test_age_on_counts_a_29_february_birthday_from_1_march_in_other_years() -> None:
    assert age_on(date(1944, 2, 29), date(2026, 2, 28)) == 81
    assert age_on(date(1944, 2, 29), date(2026, 3, 1)) == 82


def test_age_on_an_unknown_date_of_birth_is_none() -> None:
    assert age_on(None, date(2026, 1, 1)) is None
