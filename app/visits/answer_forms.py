"""Turns a page of a form definition into a WTForms form, and its data back into answers."""

from __future__ import annotations

from functools import cache
from typing import Any

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxesInput,
    GovRadioInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import Field, HiddenField, RadioField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import ValidationError

from app.fields import Cleaned, GovDateField, Optional, Required, choices, is_blank
from app.formengine.definition import Page, Question
from app.validation import clean_nhs_number, clean_postcode

WIDTHS = {
    "number": "govuk-input--width-4",
    "nhs_number": "govuk-input--width-10",
    "postcode": "govuk-input--width-10",
}


def _short(label: str) -> str:
    return label.rstrip("?").rstrip(".")


def _message(question: Question) -> str:
    subject = _short(question.label)
    if question.type in ("yes_no", "yes_no_not_sure", "single"):
        return f"Select an answer for: {subject}"
    if question.type == "multi":
        return f"Select at least one option for: {subject}"
    if question.type == "date":
        return f"Enter a date for: {subject}"
    return f"Enter an answer for: {subject}"


class _Exclusive:
    """A 'none' option cannot be chosen with others."""

    def __init__(self, question: Question) -> None:
        self.values = {
            option.value: option.label for option in question.options if option.exclusive
        }

    def __call__(self, form, field) -> None:
        chosen = set(field.data or [])
        for value, label in self.values.items():
            if value in chosen and len(chosen) > 1:
                raise ValidationError(f"Select ‘{label}’ on its own, or clear it")


class _WholeNumber:
    def __init__(self, question: Question) -> None:
        self.question = question

    def __call__(self, form, field) -> None:
        raw = str(field.data).strip().replace(",", "")
        q = self.question
        subject = _short(q.label)
        if not raw.lstrip("-").isdigit():
            raise ValidationError(f"Enter a whole number for: {subject}")
        number = int(raw)
        if q.min is not None and number < q.min:
            raise ValidationError(f"{subject} must be {q.min} or more")
        if q.max is not None and number > q.max:
            raise ValidationError(f"{subject} must be {q.max} or fewer")
        field.data = number


def _label(question: Question) -> str:
    return question.label + (" (optional)" if question.optional else "")


def field_for(question: Question) -> Field:
    validators: list[Any] = [Optional() if question.optional else Required(_message(question))]
    common = {"label": _label(question), "description": question.hint}
    qtype = question.type
    if question.options and qtype != "multi":
        options = choices((o.value, o.label) for o in question.options)
        return RadioField(choices=options, validators=validators, widget=GovRadioInput(), **common)
    if qtype == "multi":
        options = choices((o.value, o.label) for o in question.options)
        validators.append(_Exclusive(question))
        return SelectMultipleField(
            choices=options, validators=validators, widget=GovCheckboxesInput(), **common
        )
    if qtype == "date":
        return GovDateField(
            validators=validators,
            name_in_errors=_short(question.label),
            when="not_future",
            **common,
        )
    if qtype == "text":
        if question.multiline:
            return TextAreaField(validators=validators, widget=GovTextArea(), **common)
        return StringField(validators=validators, widget=GovTextInput(), **common)
    if qtype == "number":
        validators.append(_WholeNumber(question))
    elif qtype == "nhs_number":
        validators.append(Cleaned(clean_nhs_number))
    elif qtype == "postcode":
        validators.append(Cleaned(clean_postcode))
    return StringField(validators=validators, widget=GovTextInput(), **common)


class PageForm(FlaskForm):
    rev = HiddenField()


@cache
def page_form_class(definition_key: tuple[str, int], page: Page) -> type[PageForm]:
    """One form class per page of a definition, built once."""
    attributes = {question.id: field_for(question) for question in page.questions}
    return type(f"PageForm_{page.id.replace('-', '_')}", (PageForm,), attributes)


def render_params(question: Question, *, is_heading: bool) -> dict[str, Any]:
    """Extra macro parameters: headings, widths, input modes, exclusive options."""
    legend_class = "govuk-fieldset__legend--l" if is_heading else "govuk-fieldset__legend--m"
    label = {
        "text": _label(question),
        "isPageHeading": is_heading,
        "classes": "govuk-label--l" if is_heading else "govuk-label--m",
    }
    if question.options or question.type == "date":
        params: dict[str, Any] = {
            "fieldset": {
                "legend": {
                    "text": _label(question),
                    "isPageHeading": is_heading,
                    "classes": legend_class,
                }
            }
        }
        if question.options:
            items = []
            for option in question.options:
                item: dict[str, Any] = {}
                if option.hint:
                    item["hint"] = {"text": option.hint}
                if option.exclusive:
                    item["behaviour"] = "exclusive"
                items.append(item)
            params["items"] = items
            if len(question.options) <= 3 and question.type != "multi":
                params["classes"] = "govuk-radios--inline"
        return params
    params = {"label": label}
    if question.type in WIDTHS:
        params["classes"] = WIDTHS[question.type]
    if question.type in ("number", "nhs_number"):
        params["inputmode"] = "numeric"
        params["spellcheck"] = False
    if question.type == "postcode":
        params["autocomplete"] = "postal-code"
    if question.suffix:
        params["suffix"] = {"text": question.suffix}
    return params


def answers_from(form: PageForm, questions: list[Question]) -> tuple[dict[str, Any], list[str]]:
    """The answers to store from a valid form, and the optional questions left blank."""
    answers: dict[str, Any] = {}
    cleared: list[str] = []
    for question in questions:
        value = form[question.id].data
        if isinstance(value, str):
            value = value.strip()
        if hasattr(value, "isoformat"):
            value = value.isoformat()
        if is_blank(value):
            cleared.append(question.id)
        else:
            answers[question.id] = value
    return answers, cleared
