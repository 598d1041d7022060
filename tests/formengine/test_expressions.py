"""The safe expression language used by show-ifs and referral rules."""

from __future__ import annotations

from typing import Any

import pytest

from app.formengine.expressions import ExpressionError, Literal, compile_expression


def run(source: str, **values: Any) -> Any:
    return compile_expression(source)(values)


# --- Unanswered questions --------------------------------------------------------------


@pytest.mark.parametrize(
    "source",
    [
        "F1 == 'yes'",
        "F1 != 'yes'",
        "F2 < 3",
        "F2 <= 3",
        "F2 > 3",
        "F2 >= 3",
        "F1 in ['yes', 'no']",
        "F1 not in ['yes', 'no']",
        "'yes' in F1",
        "'yes' not in F1",
        "F1 == F2",
        "F1 != F2",
    ],
)
def test_every_comparison_with_an_unanswered_question_is_false(source: str) -> None:
    assert run(source) is False
    assert run(source, F1=None, F2=None) is False


def test_not_equal_is_true_for_a_different_answer() -> None:
    assert run("F1 != 'yes'", F1="no") is True
    assert run("F1 != 'yes'", F1="yes") is False


def test_comparing_values_of_different_kinds_is_false_rather_than_an_error() -> None:
    assert run("F2 > 3", F2="many") is False
    assert run("F2 == 3", F2="3") is False


def test_chained_comparisons_hold_only_when_every_link_holds() -> None:
    assert run("1 <= F2 <= 3", F2=2) is True
    assert run("1 <= F2 <= 3", F2=4) is False


# --- in / not in -----------------------------------------------------------------------


def test_in_and_not_in_test_a_single_answer_against_a_list() -> None:
    assert run("P3 in ['council_tenant', 'private_tenant']", P3="private_tenant") is True
    assert run("P3 in ['council_tenant', 'private_tenant']", P3="owner_occupier") is False
    assert run("P3 not in ['council_tenant', 'private_tenant']", P3="owner_occupier") is True
    assert run("P3 not in ['council_tenant', 'private_tenant']", P3="council_tenant") is False


def test_in_with_a_multi_answer_is_true_when_any_chosen_option_is_in_the_list() -> None:
    assert run("P9 in ['stroke', 'parkinsons']", P9=["heart", "stroke"]) is True
    assert run("P9 in ['stroke', 'parkinsons']", P9=["heart"]) is False
    assert run("P9 not in ['stroke', 'parkinsons']", P9=["heart"]) is True
    assert run("P9 not in ['stroke', 'parkinsons']", P9=["heart", "stroke"]) is False


def test_a_literal_in_a_multi_answer_is_true_when_that_option_was_chosen() -> None:
    assert run("'stroke' in P9", P9=["heart", "stroke"]) is True
    assert run("'stroke' in P9", P9=["heart"]) is False
    assert run("'stroke' not in P9", P9=["heart"]) is True


def test_in_against_a_single_answer_matches_whole_values_not_substrings() -> None:
    assert run("'no' in F1", F1="no") is True
    assert run("'no' in F1", F1="not_sure") is False
    assert run("'no' not in F1", F1="not_sure") is True
    assert run("F1 in 'not_sure'", F1="no") is False


def test_in_against_a_number_is_false() -> None:
    assert run("'a' in F2", F2=3) is False


# --- Functions -------------------------------------------------------------------------


def test_any_of_is_true_when_a_single_answer_is_one_of_the_values() -> None:
    assert run("any_of(F1, 'yes', 'not_sure')", F1="not_sure") is True
    assert run("any_of(F1, 'yes', 'not_sure')", F1="no") is False


def test_any_of_is_true_when_a_multi_answer_includes_one_of_the_values() -> None:
    assert run("any_of(P9, 'stroke', 'parkinsons')", P9=["heart", "parkinsons"]) is True
    assert run("any_of(P9, 'stroke', 'parkinsons')", P9=["heart"]) is False
    assert run("any_of(P9, 'stroke')", P9=[]) is False


def test_any_of_an_unanswered_question_is_false() -> None:
    assert run("any_of(P9, 'stroke')") is False
    assert run("any_of(P9, 'stroke')", P9=None) is False


@pytest.mark.parametrize("value", [None, "", []])
def test_answered_is_false_for_no_answer(value: Any) -> None:
    assert run("answered(F1)", F1=value) is False


@pytest.mark.parametrize("value", ["no", 0, ["none"], "text"])
def test_answered_is_true_for_any_given_answer_including_no_and_zero(value: Any) -> None:
    assert run("answered(F1)", F1=value) is True


def test_answered_is_false_for_a_question_missing_from_the_values() -> None:
    assert run("answered(F1)") is False


def test_count_true_counts_only_the_conditions_that_hold() -> None:
    source = "count_true(F1 == 'yes', F2 >= 4, any_of(P9, 'stroke'), answered(F3)) >= 3"
    assert run(source, F1="yes", F2=5, P9=["stroke"]) is True
    assert run(source, F1="yes", F2=2, P9=["stroke"]) is False


def test_count_true_does_not_count_conditions_on_unanswered_questions() -> None:
    source = "count_true(F1 == 'yes', F2 >= 4, F2 < 4) >= 1"
    assert run(source) is False
    assert run(source, F2=1) is True


# --- and / or / not --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("f1", "f2", "expected"),
    [("yes", "yes", True), ("yes", "no", False), ("no", "yes", False), (None, "yes", False)],
)
def test_and_holds_only_when_both_conditions_hold(f1: Any, f2: Any, expected: bool) -> None:
    assert run("F1 == 'yes' and F2 == 'yes'", F1=f1, F2=f2) is expected


@pytest.mark.parametrize(
    ("f1", "f2", "expected"),
    [("yes", "no", True), ("no", "yes", True), ("no", "no", False), (None, None, False)],
)
def test_or_holds_when_either_condition_holds(f1: Any, f2: Any, expected: bool) -> None:
    assert run("F1 == 'yes' or F2 == 'yes'", F1=f1, F2=f2) is expected


def test_not_negates_a_condition() -> None:
    assert run("not F1 == 'yes'", F1="no") is True
    assert run("not F1 == 'yes'", F1="yes") is False
    assert run("answered(A1) and not any_of(A1, 'none')", A1=["stairs"]) is True
    assert run("answered(A1) and not any_of(A1, 'none')", A1=["none"]) is False


def test_not_of_a_false_comparison_on_an_unanswered_question_is_true() -> None:
    assert run("not F1 == 'yes'") is True


def test_and_binds_tighter_than_or() -> None:
    source = "F1 == 'yes' or F2 == 'yes' and F3 == 'yes'"
    assert run(source, F1="yes", F2="no", F3="no") is True
    assert run(source, F1="no", F2="yes", F3="no") is False


# --- Numbers ---------------------------------------------------------------------------


def test_negative_numbers_compare_as_numbers() -> None:
    assert run("W6_TEMP > -5", W6_TEMP=-2) is True
    assert run("W6_TEMP > -5", W6_TEMP=-10) is False
    assert run("W6_TEMP == -2.5", W6_TEMP=-2.5) is True


def test_context_names_are_ordinary_variables() -> None:
    assert run("setting != 'home' and age >= 65", setting="gp_clinic", age=70) is True
    assert run("setting != 'home' and age >= 65", setting="home", age=70) is False


# --- Refused at compile time -----------------------------------------------------------


@pytest.mark.parametrize(
    "source",
    [
        pytest.param("F1.__class__ == 'x'", id="attribute-in-comparison"),
        pytest.param("F1.__class__", id="attribute"),
        pytest.param("answered(F1.__class__)", id="attribute-as-argument"),
        pytest.param("F1[0] == 'a'", id="subscript"),
        pytest.param("P9[0:1] == ['a']", id="slice"),
        pytest.param("lambda: F1 == 'yes'", id="lambda"),
        pytest.param("(lambda: 1)() == 1", id="lambda-called"),
        pytest.param("[x for x in P9] == []", id="list-comprehension"),
        pytest.param("{x for x in P9} == 1", id="set-comprehension"),
        pytest.param("{x: 1 for x in P9} == 1", id="dict-comprehension"),
        pytest.param("count_true(x == 'a' for x in P9) >= 1", id="generator"),
        pytest.param("eval('1')", id="eval"),
        pytest.param("eval('1') == 1", id="eval-in-comparison"),
        pytest.param("__import__('os')", id="import"),
        pytest.param("open('x')", id="open"),
        pytest.param("len(P9) > 1", id="builtin"),
        pytest.param("F1.count('a') > 1", id="method"),
        pytest.param("any_of(F1, 'yes', also='no')", id="keyword-argument"),
        pytest.param("answered(question=F1)", id="keyword-only"),
        pytest.param("F2 + 1 > 2", id="addition"),
        pytest.param("F2 * 2 > 2", id="multiplication"),
        pytest.param("-F2 < 2", id="negated-question"),
        pytest.param("F1 == f'{F2}'", id="f-string"),
        pytest.param("(x := F1) == 'yes'", id="walrus"),
        pytest.param("F1 is None", id="is"),
        pytest.param("F1 == 'a' if F2 == 'b' else F3 == 'c'", id="conditional-expression"),
        pytest.param("F1 in [F2]", id="question-in-list"),
        pytest.param("F1 == b'yes'", id="bytes"),
        pytest.param("F1", id="bare-question"),
        pytest.param("F1 and F2 == 'yes'", id="bare-question-in-and"),
        pytest.param("F2 == 'yes' or F1", id="bare-question-in-or"),
        pytest.param("not F1", id="bare-question-in-not"),
        pytest.param("count_true(F1, F2 == 'yes') >= 1", id="bare-question-in-count-true"),
        pytest.param("'yes'", id="bare-literal"),
        pytest.param("count_true(F1 == 'yes')", id="count-true-as-condition"),
        pytest.param("count_true(F1 == 'yes') and F2 == 'no'", id="count-true-in-and"),
        pytest.param("answered(F1, F2)", id="answered-two-questions"),
        pytest.param("answered('F1')", id="answered-a-string"),
        pytest.param("any_of(F1)", id="any-of-without-values"),
        pytest.param("any_of(F1, F2)", id="any-of-question-value"),
        pytest.param("count_true()", id="count-true-empty"),
        pytest.param("", id="empty"),
        pytest.param("   ", id="blank"),
        pytest.param("F1 ==", id="syntax-incomplete"),
        pytest.param("F1 == 'yes", id="syntax-unclosed-string"),
        pytest.param("F1 === 'yes'", id="syntax-triple-equals"),
        pytest.param("F1 == 'yes'; F2 == 'no'", id="syntax-two-statements"),
    ],
)
def test_disallowed_construct_is_refused_at_compile_time(source: str) -> None:
    with pytest.raises(ExpressionError):
        compile_expression(source)


@pytest.mark.parametrize("source", [None, 1, ["F1 == 'yes'"]])
def test_an_expression_that_is_not_a_string_is_refused(source: Any) -> None:
    with pytest.raises(ExpressionError, match="non-empty string"):
        compile_expression(source)


def test_a_refusal_quotes_the_expression_at_fault() -> None:
    with pytest.raises(ExpressionError, match=r"'F2 \+ 1 > 2'"):
        compile_expression("F2 + 1 > 2")


def test_a_syntax_error_is_reported_as_an_expression_error_quoting_the_source() -> None:
    with pytest.raises(ExpressionError, match="cannot parse 'F1 =='"):
        compile_expression("F1 ==")


def test_an_unknown_function_refusal_lists_the_allowed_functions() -> None:
    with pytest.raises(ExpressionError, match="allowed: answered, any_of, count_true"):
        compile_expression("__import__('os')")


# --- What a compiled expression records -------------------------------------------------


def test_names_collects_every_question_and_context_name() -> None:
    expression = compile_expression(
        "count_true(F1 == 'yes', any_of(P9, 'stroke'), answered(F2), F3 >= F4) >= 2"
        " and setting != 'home'"
    )
    assert expression.names == frozenset({"F1", "P9", "F2", "F3", "F4", "setting"})


def test_literals_pair_each_string_with_the_question_it_is_compared_with() -> None:
    expression = compile_expression(
        "F1 == 'yes' and 'no' == F2 and P3 in ['council_tenant', 'private_tenant']"
        " and any_of(P9, 'stroke', 'heart') and F5 not in ['none'] and F6 >= 2"
    )
    assert expression.literals == (
        Literal("F1", "yes"),
        Literal("F2", "no"),
        Literal("P3", "council_tenant"),
        Literal("P3", "private_tenant"),
        Literal("P9", "stroke"),
        Literal("P9", "heart"),
        Literal("F5", "none"),
    )


def test_literals_skip_comparisons_between_two_questions_and_with_numbers() -> None:
    assert compile_expression("F1 == F2 and F3 > 2").literals == ()


def test_source_is_kept_without_surrounding_whitespace() -> None:
    assert compile_expression("  F1 == 'yes'\n").source == "F1 == 'yes'"
