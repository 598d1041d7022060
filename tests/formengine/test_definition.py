"""Loading form definitions: the real one loads, and each mistake is refused by name."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from app.formengine.definition import (
    DefinitionError,
    FormDefinition,
    FormRegistry,
    load_definition,
)

FORMS = Path(__file__).resolve().parents[2] / "forms"


def minimal(form_id: str = "test-form", version: int = 1) -> dict[str, Any]:
    """A small valid definition: one section, two pages, one output, one rule."""
    return {
        "id": form_id,
        "version": version,
        "title": "Test form",
        "declined_if": "Q1 == 'no'",
        "sections": [
            {
                "id": "first",
                "title": "First",
                "task": "Do the first thing",
                "pages": [
                    {
                        "id": "page-one",
                        "title": "Page one",
                        "questions": [
                            {"id": "Q1", "type": "yes_no", "label": "Question one?"},
                            {
                                "id": "Q2",
                                "type": "single",
                                "label": "Question two?",
                                "options": [
                                    {"value": "a", "label": "A"},
                                    {"value": "b", "label": "B"},
                                ],
                            },
                        ],
                    },
                    {
                        "id": "page-two",
                        "title": "Page two",
                        "show_if": "Q1 == 'yes'",
                        "questions": [
                            {"id": "Q3", "type": "number", "label": "Question three?"},
                        ],
                    },
                ],
            }
        ],
        "outputs": [{"id": "out", "name": "An output", "kind": "referral"}],
        "rules": [
            {"id": "R1", "output": "out", "when": "Q2 == 'a'", "reason": "Chose {Q2}"},
        ],
    }


def question(data: dict[str, Any], qid: str) -> dict[str, Any]:
    for section in data["sections"]:
        for page in section["pages"]:
            for raw in page["questions"]:
                if raw["id"] == qid:
                    return raw
    raise KeyError(qid)


def page(data: dict[str, Any], pid: str) -> dict[str, Any]:
    return next(p for s in data["sections"] for p in s["pages"] if p["id"] == pid)


def write(path: Path, data: dict[str, Any] | str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = data if isinstance(data, str) else yaml.safe_dump(data, sort_keys=False)
    path.write_text(text, encoding="utf-8")
    return path


def refused(tmp_path: Path, data: dict[str, Any] | str) -> str:
    """Load ``data`` from a file; assert it is refused naming that file; return the message."""
    path = write(tmp_path / "form.v1.yaml", data)
    with pytest.raises(DefinitionError) as caught:
        load_definition(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: "), message
    assert caught.value.path == str(path)
    return message


# --- The real definition ---------------------------------------------------------------


def test_the_real_definition_loads_with_at_least_eight_sections() -> None:
    definition = load_definition(FORMS / "housing_mot/form.v1.yaml")
    assert definition.key == ("housing-mot", 1)
    assert len(definition.sections) >= 8


def test_the_real_definition_has_unique_section_page_and_question_ids() -> None:
    definition = load_definition(FORMS / "housing_mot/form.v1.yaml")
    section_ids = [section.id for section in definition.sections]
    page_ids = [page.id for section in definition.sections for page in section.pages]
    question_ids = [q.id for section in definition.sections for q in section.questions]
    assert len(section_ids) == len(set(section_ids))
    assert len(page_ids) == len(set(page_ids))
    assert len(question_ids) == len(set(question_ids))
    assert list(definition.questions) == question_ids


def test_the_real_definition_records_where_each_question_lives() -> None:
    definition = load_definition(FORMS / "housing_mot/form.v1.yaml")
    for section in definition.sections:
        for page_ in section.pages:
            for q in page_.questions:
                assert (q.section_id, q.page_id) == (section.id, page_.id), q.id


# --- The minimal definition used below --------------------------------------------------


def test_the_minimal_definition_loads(tmp_path: Path) -> None:
    definition = load_definition(write(tmp_path / "form.v1.yaml", minimal()))
    assert isinstance(definition, FormDefinition)
    assert list(definition.questions) == ["Q1", "Q2", "Q3"]
    assert [o.value for o in definition.questions["Q1"].options] == ["yes", "no"]
    assert definition.rules[0].clauses[0].reason == "Chose {Q2}"


def test_a_show_if_may_name_context_names(tmp_path: Path) -> None:
    data = minimal()
    question(data, "Q3")["show_if"] = "setting != 'home' and age >= 65"
    definition = load_definition(write(tmp_path / "form.v1.yaml", data))
    assert definition.questions["Q3"].show_if is not None


# --- Rules -----------------------------------------------------------------------------


def test_a_rule_naming_an_unknown_question_is_refused(tmp_path: Path) -> None:
    data = minimal()
    data["rules"][0]["when"] = "Q9 == 'yes'"
    message = refused(tmp_path, data)
    assert "rule 'R1'" in message
    assert "unknown question 'Q9'" in message


def test_a_rule_clause_naming_an_unknown_question_is_refused(tmp_path: Path) -> None:
    data = minimal()
    data["rules"][0] = {
        "id": "R1",
        "output": "out",
        "any": [
            {"when": "Q1 == 'yes'", "reason": "One"},
            {"when": "Q8 > 2", "reason": "Two"},
        ],
    }
    message = refused(tmp_path, data)
    assert "rule 'R1'" in message
    assert "unknown question 'Q8'" in message


def test_a_rule_requirement_naming_an_unknown_question_is_refused(tmp_path: Path) -> None:
    data = minimal()
    data["rules"][0]["requires"] = "answered(Q7)"
    message = refused(tmp_path, data)
    assert "rule 'R1'" in message
    assert "unknown question 'Q7'" in message


def test_a_rule_naming_an_unknown_output_is_refused(tmp_path: Path) -> None:
    data = minimal()
    data["rules"][0]["output"] = "nowhere"
    message = refused(tmp_path, data)
    assert "rule 'R1'" in message
    assert "unknown output 'nowhere'" in message


def test_a_reason_placeholder_naming_an_unknown_question_is_refused(tmp_path: Path) -> None:
    data = minimal()
    data["rules"][0]["reason"] = "Chose {X}"
    message = refused(tmp_path, data)
    assert "rule 'R1'" in message
    assert "unknown question 'X'" in message


def test_a_rule_with_a_disallowed_expression_is_refused(tmp_path: Path) -> None:
    data = minimal()
    data["rules"][0]["when"] = "Q3 + 1 > 2"
    message = refused(tmp_path, data)
    assert "rule 'R1'" in message
    assert "BinOp is not allowed" in message


def test_a_rule_clause_that_is_not_a_mapping_is_refused(tmp_path: Path) -> None:
    data = minimal()
    data["rules"][0] = {"id": "R1", "output": "out", "any": ["Q1 == 'yes'"]}
    message = refused(tmp_path, data)
    assert "rule 'R1': each clause under 'any' needs 'when' and 'reason'" in message


def test_a_duplicate_rule_id_is_refused(tmp_path: Path) -> None:
    data = minimal()
    data["rules"].append(copy.deepcopy(data["rules"][0]))
    message = refused(tmp_path, data)
    assert "rule 'R1': duplicate rule id" in message


# --- Show-ifs --------------------------------------------------------------------------


def test_a_question_show_if_naming_an_unknown_question_is_refused(tmp_path: Path) -> None:
    data = minimal()
    question(data, "Q3")["show_if"] = "Q9 == 'yes'"
    message = refused(tmp_path, data)
    assert "question 'Q3'" in message
    assert "unknown question 'Q9'" in message


def test_a_page_show_if_naming_an_unknown_question_is_refused(tmp_path: Path) -> None:
    data = minimal()
    page(data, "page-two")["show_if"] = "Q9 == 'yes'"
    message = refused(tmp_path, data)
    assert "page 'page-two'" in message
    assert "unknown question 'Q9'" in message


def test_a_question_show_if_naming_a_question_on_the_same_page_is_refused(
    tmp_path: Path,
) -> None:
    data = minimal()
    question(data, "Q2")["show_if"] = "Q1 == 'yes'"
    message = refused(tmp_path, data)
    assert "question 'Q2'" in message
    assert "'Q1', which is not answered before it" in message


def test_a_page_show_if_naming_a_question_on_that_page_is_refused(tmp_path: Path) -> None:
    data = minimal()
    page(data, "page-two")["show_if"] = "Q3 > 1"
    message = refused(tmp_path, data)
    assert "page 'page-two'" in message
    assert "'Q3', which is not answered before it" in message


def test_a_question_show_if_naming_a_question_on_a_later_page_is_refused(
    tmp_path: Path,
) -> None:
    data = minimal()
    question(data, "Q2")["show_if"] = "Q3 > 1"
    message = refused(tmp_path, data)
    assert "question 'Q2'" in message
    assert "'Q3'" in message


def test_a_show_if_comparing_a_question_with_a_value_it_does_not_offer_is_refused(
    tmp_path: Path,
) -> None:
    data = minimal()
    question(data, "Q3")["show_if"] = "Q1 == 'maybe'"
    message = refused(tmp_path, data)
    assert "question 'Q3'" in message
    assert "compares question 'Q1' with 'maybe'" in message


@pytest.mark.parametrize(
    "when",
    ["Q2 == 'c'", "Q2 in ['a', 'c']", "any_of(Q2, 'c')", "'c' == Q2", "Q1 != 'Yes'"],
)
def test_a_rule_comparing_a_question_with_a_value_it_does_not_offer_is_refused(
    tmp_path: Path, when: str
) -> None:
    data = minimal()
    data["rules"][0]["when"] = when
    message = refused(tmp_path, data)
    assert "rule 'R1'" in message
    assert "which is not one of its options" in message


def test_declined_if_naming_an_unknown_question_is_refused(tmp_path: Path) -> None:
    data = minimal()
    data["declined_if"] = "CONSENT == 'no'"
    message = refused(tmp_path, data)
    assert "declined_if" in message
    assert "unknown question 'CONSENT'" in message


# --- Questions -------------------------------------------------------------------------


def test_an_unknown_answer_type_is_refused(tmp_path: Path) -> None:
    data = minimal()
    question(data, "Q3")["type"] = "integer"
    message = refused(tmp_path, data)
    assert "question 'Q3'" in message
    assert "unknown type 'integer'" in message


def test_a_duplicate_question_id_is_refused(tmp_path: Path) -> None:
    data = minimal()
    question(data, "Q3")["id"] = "Q1"
    message = refused(tmp_path, data)
    assert "question 'Q1': duplicate question id" in message


@pytest.mark.parametrize("qtype", ["single", "multi"])
@pytest.mark.parametrize("options", [None, [], [{"value": "a", "label": "A"}]])
def test_a_choice_question_with_fewer_than_two_options_is_refused(
    tmp_path: Path, qtype: str, options: list[dict[str, str]] | None
) -> None:
    data = minimal()
    raw = question(data, "Q2")
    raw["type"] = qtype
    if options is None:
        del raw["options"]
    else:
        raw["options"] = options
    message = refused(tmp_path, data)
    assert "question 'Q2'" in message
    assert "needs at least two options" in message


@pytest.mark.parametrize("qtype", ["yes_no", "yes_no_not_sure"])
def test_a_fixed_option_question_with_explicit_options_is_refused(
    tmp_path: Path, qtype: str
) -> None:
    data = minimal()
    raw = question(data, "Q2")
    raw["type"] = qtype
    data["rules"][0]["when"] = "Q2 == 'yes'"
    message = refused(tmp_path, data)
    assert "question 'Q2'" in message
    assert f"type '{qtype}' has fixed options" in message


def test_a_free_answer_question_with_options_is_refused(tmp_path: Path) -> None:
    data = minimal()
    question(data, "Q3")["options"] = [{"value": "a", "label": "A"}]
    message = refused(tmp_path, data)
    assert "question 'Q3'" in message
    assert "takes no options" in message


def test_duplicate_option_values_are_refused(tmp_path: Path) -> None:
    data = minimal()
    question(data, "Q2")["options"][1]["value"] = "a"
    message = refused(tmp_path, data)
    assert "question 'Q2': option values must be unique" in message


def test_unknown_keys_on_a_question_are_refused(tmp_path: Path) -> None:
    data = minimal()
    question(data, "Q3")["showif"] = "Q1 == 'yes'"
    question(data, "Q3")["required"] = True
    message = refused(tmp_path, data)
    assert "question 'Q3'" in message
    assert "unknown keys: required, showif" in message


def test_a_question_id_not_starting_with_a_capital_is_refused(tmp_path: Path) -> None:
    data = minimal()
    question(data, "Q3")["id"] = "q3"
    message = refused(tmp_path, data)
    assert "question 'q3'" in message


# --- Outputs and sections --------------------------------------------------------------


def test_an_output_kind_not_allowed_is_refused(tmp_path: Path) -> None:
    data = minimal()
    data["outputs"][0]["kind"] = "advice"
    message = refused(tmp_path, data)
    assert "output 'out'" in message
    assert "kind must be one of referral, signpost, prompt, warning" in message


def test_a_duplicate_output_id_is_refused(tmp_path: Path) -> None:
    data = minimal()
    data["outputs"].append(copy.deepcopy(data["outputs"][0]))
    message = refused(tmp_path, data)
    assert "output 'out': duplicate output id" in message


def test_an_output_shares_the_questions_it_names_in_order(tmp_path: Path) -> None:
    data = minimal()
    data["outputs"][0]["shares"] = ["Q3", "Q1"]
    definition = load_definition(write(tmp_path / "form.v1.yaml", data))
    assert definition.outputs["out"].shares == ("Q3", "Q1")


def test_an_output_without_shares_shares_nothing(tmp_path: Path) -> None:
    definition = load_definition(write(tmp_path / "form.v1.yaml", minimal()))
    assert definition.outputs["out"].shares == ()


def test_an_output_sharing_a_question_that_does_not_exist_is_refused(tmp_path: Path) -> None:
    data = minimal()
    data["outputs"][0]["shares"] = ["Q1", "KEY_SAFE_CODE"]
    message = refused(tmp_path, data)
    assert "output 'out': shares unknown question 'KEY_SAFE_CODE'" in message


def test_an_output_whose_shares_is_not_a_list_of_ids_is_refused(tmp_path: Path) -> None:
    data = minimal()
    data["outputs"][0]["shares"] = "Q1"
    assert "output 'out': 'shares' must be a list of question ids" in refused(tmp_path, data)


def test_only_a_referral_may_share_answers(tmp_path: Path) -> None:
    data = minimal()
    data["outputs"][0].update(kind="signpost", shares=["Q1"])
    assert "output 'out': only a referral shares answers" in refused(tmp_path, data)


def test_the_real_provider_referrals_share_answers_and_no_other_output_does() -> None:
    definition = load_definition(FORMS / "housing_mot/form.v1.yaml")
    sharing = {oid for oid, output in definition.outputs.items() if output.shares}
    assert sharing == {"handyperson", "minor_adaptations", "assistive_technology"}
    for oid in sharing:
        assert "S_KEYSAFE" in definition.outputs[oid].shares  # whether, never a code
        assert "WM_GOALS" not in definition.outputs[oid].shares


def test_a_duplicate_section_id_is_refused(tmp_path: Path) -> None:
    data = minimal()
    data["sections"].append(
        {
            "id": "first",
            "title": "Again",
            "task": "Again",
            "pages": [
                {
                    "id": "page-three",
                    "title": "Page three",
                    "questions": [{"id": "Q4", "type": "text", "label": "Four?"}],
                }
            ],
        }
    )
    message = refused(tmp_path, data)
    assert "section 'first'" in message
    assert "unique and kebab-case" in message


@pytest.mark.parametrize("sid", ["First", "first_section", "first--section", "-first"])
def test_a_section_id_that_is_not_kebab_case_is_refused(tmp_path: Path, sid: str) -> None:
    data = minimal()
    data["sections"][0]["id"] = sid
    message = refused(tmp_path, data)
    assert f"section '{sid}'" in message
    assert "unique and kebab-case" in message


def test_a_duplicate_page_id_is_refused(tmp_path: Path) -> None:
    data = minimal()
    page(data, "page-two")["id"] = "page-one"
    message = refused(tmp_path, data)
    assert "page 'page-one'" in message
    assert "unique and kebab-case" in message


def test_a_section_that_is_not_a_mapping_is_refused(tmp_path: Path) -> None:
    data = minimal()
    data["sections"].append("hidden")
    message = refused(tmp_path, data)
    assert "expected a mapping with 'id'" in message


def test_a_missing_required_key_is_refused_by_name(tmp_path: Path) -> None:
    data = minimal()
    del data["sections"][0]["task"]
    message = refused(tmp_path, data)
    assert "section 'first': missing 'task'" in message


# --- The file itself -------------------------------------------------------------------


def test_invalid_yaml_is_refused(tmp_path: Path) -> None:
    message = refused(tmp_path, "id: test-form\nsections: [\n  - id: first\n")
    assert "not valid YAML" in message


def test_a_file_that_is_not_a_mapping_is_refused(tmp_path: Path) -> None:
    message = refused(tmp_path, "- just\n- a list\n")
    assert "a definition is a mapping" in message


# --- The registry ----------------------------------------------------------------------


def test_the_registry_loads_every_form_file_under_the_forms_directory(tmp_path: Path) -> None:
    write(tmp_path / "test_form/form.v1.yaml", minimal())
    write(tmp_path / "other/form.v1.yaml", minimal("other-form"))
    write(tmp_path / "test_form/examples/form.v9.yaml", minimal(version=9))
    write(tmp_path / "test_form/notes.yaml", "not: a definition\n")
    registry = FormRegistry.from_directory(tmp_path)
    assert sorted(d.key for d in registry) == [("other-form", 1), ("test-form", 1)]


def test_the_registry_finds_the_real_housing_mot() -> None:
    registry = FormRegistry.from_directory(FORMS)
    assert registry.latest("housing-mot").version >= 1
    assert registry.get("housing-mot", 1) is not None


def test_latest_picks_the_highest_version_numerically(tmp_path: Path) -> None:
    for version in (1, 2, 10):
        write(tmp_path / f"test_form/form.v{version}.yaml", minimal(version=version))
    registry = FormRegistry.from_directory(tmp_path)
    assert registry.latest("test-form").version == 10
    assert registry.get("test-form", 2).version == 2


def test_get_returns_none_for_a_version_not_loaded(tmp_path: Path) -> None:
    write(tmp_path / "test_form/form.v1.yaml", minimal())
    assert FormRegistry.from_directory(tmp_path).get("test-form", 2) is None


def test_two_files_with_the_same_id_and_version_are_refused(tmp_path: Path) -> None:
    first = write(tmp_path / "test_form/form.v1.yaml", minimal())
    second = write(tmp_path / "test_form/form.v2.yaml", minimal(version=1))
    with pytest.raises(DefinitionError) as caught:
        FormRegistry.from_directory(tmp_path)
    message = str(caught.value)
    assert str(first) in message
    assert str(second) in message
    assert "id and version already used" in message


def test_latest_of_an_unknown_form_raises_lookup_error(tmp_path: Path) -> None:
    write(tmp_path / "test_form/form.v1.yaml", minimal())
    registry = FormRegistry.from_directory(tmp_path)
    with pytest.raises(LookupError, match="no-such-form"):
        registry.latest("no-such-form")


def test_the_registry_refuses_a_directory_with_a_broken_definition(tmp_path: Path) -> None:
    data = minimal()
    data["rules"][0]["output"] = "nowhere"
    write(tmp_path / "test_form/form.v1.yaml", data)
    with pytest.raises(DefinitionError, match="unknown output"):
        FormRegistry.from_directory(tmp_path)
