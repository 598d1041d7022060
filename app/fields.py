"""WTForms fields and validators that speak GOV.UK: messages, date inputs, error summaries."""

from __future__ import annotations

from datetime import date
from typing import Any

from govuk_frontend_wtf.wtforms_widgets import GovDateInput
from wtforms import Field, SelectChoice
from wtforms.validators import StopValidation, ValidationError

from app.validation import InvalidAnswer


def choices(pairs) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


def is_blank(value: Any) -> bool:
    return value is None or value == "" or value == []


def _typed(field) -> bool:
    return any(str(value).strip() for value in (field.raw_data or []))


class Required:
    """GOV.UK style required check with a message written for the question."""

    def __init__(self, message: str) -> None:
        self.message = message
        self.field_flags = {}  # no HTML 'required': validation happens on Continue

    def __call__(self, form, field) -> None:
        data = field.data.strip() if isinstance(field.data, str) else field.data
        if not is_blank(data):
            return
        if _typed(field) and field.errors:
            raise StopValidation()  # what was typed has its own error ("must be a real date")
        field.errors[:] = []  # nothing chosen is "select an answer", not "not a valid choice"
        raise StopValidation(self.message)


class Optional:
    def __init__(self) -> None:
        self.field_flags = {}

    def __call__(self, form, field) -> None:
        data = field.data.strip() if isinstance(field.data, str) else field.data
        if is_blank(data) and not _typed(field):
            field.errors[:] = []
            raise StopValidation()


class Cleaned:
    """Run a cleaning function (NHS number, postcode) and keep its result as the data."""

    def __init__(self, clean) -> None:
        self.clean = clean

    def __call__(self, form, field) -> None:
        try:
            field.data = self.clean(field.data)
        except InvalidAnswer as error:
            raise ValidationError(str(error)) from None


class GovDateField(Field):
    """Day, month and year inputs, with the GOV.UK date-input error messages."""

    widget = GovDateInput()

    def __init__(self, label=None, validators=None, *, name_in_errors="Date", when=None, **kw):
        super().__init__(label, validators, **kw)
        self.name_in_errors = name_in_errors
        self.when = when  # "past" or "not_future", checked once a real date is given

    def _value(self) -> str:
        return self.data.isoformat() if isinstance(self.data, date) else ""

    def process_data(self, value) -> None:
        if isinstance(value, str) and value:
            value = date.fromisoformat(value)
        self.data = value

    def process_formdata(self, valuelist) -> None:
        if not valuelist:
            self.raw_data = ["", "", ""]  # not posted at all: render empty inputs, not a crash
            return
        parts = [str(value).strip() for value in valuelist[:3]]
        parts += [""] * (3 - len(parts))
        self.raw_data = parts
        self.data = None
        if not any(parts):
            return
        day, month, year = parts
        missing = [
            name for name, value in zip(("day", "month", "year"), parts, strict=True) if not value
        ]
        what = self.name_in_errors
        if missing:
            raise ValueError(f"{what} must include a {' and '.join(missing)}")
        if not (day.isdigit() and month.isdigit() and year.isdigit()):
            raise ValueError(f"{what} must be a real date")
        if len(year) != 4:
            raise ValueError("Year must include 4 numbers")
        try:
            value = date(int(year), int(month), int(day))
        except ValueError:
            raise ValueError(f"{what} must be a real date") from None
        if self.when == "past" and value >= date.today():
            raise ValueError(f"{what} must be in the past")
        if self.when == "not_future" and value > date.today():
            raise ValueError(f"{what} must be today or in the past")
        if value.year < 1900:
            raise ValueError(f"{what} must be after 1900")
        self.data = value


def error_href(field: Field) -> str:
    if isinstance(field, GovDateField):
        parts = field.raw_data or ["", "", ""]
        first_missing = next(
            (
                name
                for name, value in zip(("day", "month", "year"), parts, strict=False)
                if not value
            ),
            "day",
        )
        return f"#{field.id}-{first_missing}"
    return f"#{field.id}"


def error_list(form) -> list[dict[str, str]]:
    """The error summary's list: one entry per field in page order, linking to the field."""
    return [{"text": field.errors[0], "href": error_href(field)} for field in form if field.errors]
