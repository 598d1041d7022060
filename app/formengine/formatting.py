"""How answers read back to people: on check-answers pages and in referral reasons."""

from __future__ import annotations

from datetime import date
from typing import Any

from app.formengine.definition import Question


def format_nhs_number(digits: str) -> str:
    """Shown in 3-3-4 groups, as the NHS display standard asks."""
    return f"{digits[:3]} {digits[3:6]} {digits[6:]}" if len(digits) == 10 else digits


def format_date(value: str | date) -> str:
    day = date.fromisoformat(value) if isinstance(value, str) else value
    return f"{day.day} {day:%B %Y}"


def format_answer(question: Question, value: Any) -> str:
    if value is None:
        return ""
    if question.type == "multi":
        return ", ".join(question.option_label(item) for item in value)
    if question.options:
        return question.option_label(value)
    if question.type == "date":
        return format_date(value)
    if question.type == "nhs_number":
        return format_nhs_number(value)
    if question.type == "number":
        return f"{value} {question.suffix}".strip()
    return str(value)
