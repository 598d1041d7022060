"""Each answer type, as a form field: what it accepts, what it stores, what it says when wrong."""

from __future__ import annotations

import pytest
from werkzeug.datastructures import MultiDict

from app.formengine.definition import Option, Page, Question
from app.visits.answer_forms import answers_from, page_form_class

CHOICES = (Option("a", "Apples"), Option("b", "Bananas"), Option("none", "None", exclusive=True))
QUESTIONS = (
    Question("YN", "yes_no_not_sure", "Any worries?"),
    Question("ONE", "single", "Favourite fruit?", options=CHOICES[:2]),
    Question("MANY", "multi", "Fruit in the house?", options=CHOICES),
    Question("TXT", "text", "Anything else?", optional=True),
    Question("NUM", "number", "How many falls?", min=0, max=50, suffix="falls"),
    Question("DAY", "date", "When did it happen?"),
    Question("NHS", "nhs_number", "NHS number", optional=True),
    Question("PC", "postcode", "Postcode of the surgery"),
)
PAGE = Page("everything", "Everything", QUESTIONS)
VALID = MultiDict(
    [("YN", "not_sure"), ("ONE", "a"), ("MANY", "a"), ("MANY", "b"), ("TXT", "  "),
     ("NUM", "3"), ("DAY", "9"), ("DAY", "11"), ("DAY", "2026"), ("NHS", "943-476-5919"),
     ("PC", "le19 2dr")]
)  # fmt: skip


def form_with(app, data: MultiDict):
    with app.test_request_context(method="POST", data=data):
        form = page_form_class(("test-form", 1), PAGE)(meta={"csrf": False})
        valid = form.validate()
        return form, valid


def test_valid_answers_of_every_type_are_stored_in_canonical_form(app):
    form, valid = form_with(app, VALID)
    assert valid, form.errors
    answers, cleared = answers_from(form, list(QUESTIONS))
    assert answers == {
        "YN": "not_sure", "ONE": "a", "MANY": ["a", "b"], "NUM": 3, "DAY": "2026-11-09",
        "NHS": "9434765919", "PC": "LE19 2DR",
    }  # fmt: skip
    assert cleared == ["TXT"]


@pytest.mark.parametrize(
    ("field", "values", "message"),
    [
        ("YN", [], "Select an answer for: Any worries"),
        ("ONE", ["pears"], "Not a valid choice"),
        ("MANY", [], "Select at least one option for: Fruit in the house"),
        ("MANY", ["a", "none"], "Select ‘None’ on its own, or clear it"),
        ("NUM", ["three"], "Enter a whole number for: How many falls"),
        ("NUM", ["51"], "How many falls must be 50 or fewer"),
        ("NUM", ["-1"], "How many falls must be 0 or more"),
        ("DAY", ["31", "2", "2026"], "When did it happen must be a real date"),
        ("DAY", ["1", "", "2026"], "When did it happen must include a month"),
        ("DAY", ["1", "1", "3000"], "When did it happen must be today or in the past"),
        ("NHS", ["1111111111"], "Enter a valid NHS number"),
        ("PC", ["LE1"], "Enter a real postcode"),
        ("PC", [], "Enter an answer for: Postcode of the surgery"),
    ],
)
def test_wrong_or_missing_answers_get_a_specific_message(app, field, values, message):
    data = MultiDict([(k, v) for k, v in VALID.items(multi=True) if k != field])
    for value in values:
        data.add(field, value)
    form, valid = form_with(app, data)
    assert not valid
    assert form[field].errors and message in form[field].errors[0]
    assert set(form.errors) == {field}
