"""Evaluating one visit against its definition: what is asked, what is missing, what follows.

``VisitView`` walks the definition once, in order, deciding for every question whether it
is shown, hidden by a show-if, or not assessed because it needs a home visit. Answers to
hidden or unassessed questions stay stored (nothing typed is thrown away) but count as
unanswered for later show-ifs, for completeness and for the referral rules.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from typing import Any

from app.formengine.definition import FormDefinition, Output, Page, Question, Section
from app.formengine.formatting import format_answer

SHOWN, HIDDEN, NOT_ASSESSED = "shown", "hidden", "not_assessed"
NOT_ASSESSED_LABELS = {
    "gp_clinic": "Not assessed — clinic visit",
    "hospital": "Not assessed — hospital visit",
    "phone": "Not assessed — phone call",
}
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def age_on(date_of_birth: date | None, on: date) -> int | None:
    if date_of_birth is None:
        return None
    before_birthday = (on.month, on.day) < (date_of_birth.month, date_of_birth.day)
    return on.year - date_of_birth.year - before_birthday


@dataclass(frozen=True)
class Finding:
    output: Output
    reasons: tuple[str, ...]
    rules: tuple[str, ...]


@dataclass(frozen=True)
class Outcomes:
    referrals: tuple[Finding, ...]
    signposts: tuple[Finding, ...]
    prompts: tuple[Finding, ...]
    warnings: tuple[Finding, ...]

    def by_output(self) -> dict[str, Finding]:
        every = (*self.referrals, *self.signposts, *self.prompts, *self.warnings)
        return {finding.output.id: finding for finding in every}


class VisitView:
    def __init__(
        self,
        definition: FormDefinition,
        answers: Mapping[str, Any],
        *,
        setting: str,
        age: int | None = None,
        referral_source: str | None = None,
        visit_kind: str = "first",
    ) -> None:
        self.definition = definition
        self.answers = dict(answers)
        self.setting = setting
        self.context = {
            "setting": setting,
            "age": age,
            "referral_source": referral_source,
            "visit_kind": visit_kind,
        }

    def with_answers(self, answers: Mapping[str, Any]) -> VisitView:
        """The same visit with other answers: what the next page will be once a page is saved."""
        return VisitView(
            self.definition,
            answers,
            setting=self.setting,
            age=self.context["age"],
            referral_source=self.context["referral_source"],
            visit_kind=self.context["visit_kind"],
        )

    @cached_property
    def _walk(self) -> tuple[dict[str, Any], dict[str, str], dict[str, bool]]:
        values: dict[str, Any] = dict(self.context)
        states: dict[str, str] = {}
        pages: dict[str, bool] = {}
        for section in self.definition.sections:
            for page in section.pages:
                page_shown = page.show_if is None or page.show_if(values) is True
                for question in page.questions:
                    if not page_shown or (
                        question.show_if is not None and question.show_if(values) is not True
                    ):
                        states[question.id] = HIDDEN
                    elif question.home_only and self.setting != "home":
                        states[question.id] = NOT_ASSESSED
                    else:
                        states[question.id] = SHOWN
                        values[question.id] = self.answers.get(question.id)
                        continue
                    values[question.id] = None
                pages[page.id] = page_shown and any(states[q.id] == SHOWN for q in page.questions)
        return values, states, pages

    @property
    def values(self) -> dict[str, Any]:
        """Answers as the rules see them, with the context names added."""
        return self._walk[0]

    def state(self, question: Question) -> str:
        return self._walk[1][question.id]

    def page_shown(self, page: Page) -> bool:
        return self._walk[2][page.id]

    def shown_pages(self, section: Section) -> list[Page]:
        return [page for page in section.pages if self.page_shown(page)]

    def shown_questions(self, page: Page) -> list[Question]:
        return [q for q in page.questions if self.state(q) == SHOWN]

    def missing(self, section: Section) -> list[Question]:
        """Required questions shown in this section that have no answer yet."""
        return [
            question
            for question in section.questions
            if self.state(question) == SHOWN
            and not question.optional
            and self.answers.get(question.id) in (None, "", [])
        ]

    def display(self, question: Question) -> str:
        state = self.state(question)
        if state == NOT_ASSESSED:
            return NOT_ASSESSED_LABELS.get(self.setting, "Not assessed")
        value = self.answers.get(question.id)
        if value in (None, "", []):
            return "Not provided" if question.optional else "Not answered"
        return format_answer(question, value)

    @property
    def declined(self) -> bool:
        condition = self.definition.declined_if
        return condition is not None and condition(self.values) is True

    @cached_property
    def outcomes(self) -> Outcomes:
        values = self.values
        found: dict[str, tuple[list[str], list[str]]] = {}
        if not self.declined:
            for rule in self.definition.rules:
                if rule.requires is not None and rule.requires(values) is not True:
                    continue
                reasons = [
                    self._reason(clause.reason) for clause in rule.clauses if clause.when(values)
                ]
                if not reasons:
                    continue
                rule_reasons, rule_ids = found.setdefault(rule.output, ([], []))
                rule_ids.append(rule.id)
                rule_reasons.extend(r for r in reasons if r not in rule_reasons)
        groups: dict[str, list[Finding]] = {kind: [] for kind in ("referral", "signpost")}
        groups |= {"prompt": [], "warning": []}
        for output_id, output in self.definition.outputs.items():
            if output_id in found:
                reasons, rule_ids = found[output_id]
                groups[output.kind].append(Finding(output, tuple(reasons), tuple(rule_ids)))
        return Outcomes(
            referrals=tuple(groups["referral"]),
            signposts=tuple(groups["signpost"]),
            prompts=tuple(groups["prompt"]),
            warnings=tuple(groups["warning"]),
        )

    def _reason(self, template: str) -> str:
        def substitute(match: re.Match[str]) -> str:
            question = self.definition.questions[match.group(1)]
            value = self.values.get(question.id)
            if value in (None, []):
                return "—"
            if not question.options:
                return format_answer(question, value)  # numbers, dates: "15 °C", "3 March"
            chosen = value if isinstance(value, list) else [value]
            return ", ".join(_mid_sentence(question.option_label(item)) for item in chosen)

        return _PLACEHOLDER.sub(substitute, template)


def _mid_sentence(label: str) -> str:
    """A sentence-case option label, lower-cased to read inside a reason.

    Labels with any other capital hold a name or an abbreviation ("Warm Home Discount",
    "PIP") and are left alone.
    """
    rest = label[1:]
    return label if any(c.isupper() for c in rest) else label[:1].lower() + rest
