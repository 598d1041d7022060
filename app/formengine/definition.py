"""Form definitions: the Housing MOT (and any later form) as data, loaded and checked.

A definition is a YAML file in ``forms/<form>/``. Loading checks everything that would
otherwise surface as a confusing failure in the middle of a visit: unknown answer types,
duplicate ids, a show-if or rule naming a question that does not exist (or that comes
later, so cannot yet be answered), an option value that a question does not offer, an
output sharing a question that does not exist. Every error names the file and the question,
rule or output at fault.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from app.formengine.expressions import Expression, ExpressionError, compile_expression

ANSWER_TYPES = (
    "yes_no",
    "yes_no_not_sure",
    "single",
    "multi",
    "text",
    "number",
    "date",
    "nhs_number",
    "postcode",
)
FIXED_OPTIONS = {
    "yes_no": (("yes", "Yes"), ("no", "No")),
    "yes_no_not_sure": (("yes", "Yes"), ("no", "No"), ("not_sure", "Not sure")),
}
OUTPUT_KINDS = ("referral", "signpost", "prompt", "warning")
CONTEXT_NAMES = frozenset({"setting", "age", "referral_source", "visit_kind"})
SETTINGS = ("home", "gp_clinic", "hospital", "phone")
VISIT_KINDS = ("first", "follow_up")
_KEBAB = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
_QUESTION_ID = re.compile(r"^[A-Z][A-Za-z0-9_]*$")
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


class DefinitionError(ValueError):
    def __init__(self, path: Path | str, where: str, message: str) -> None:
        super().__init__(f"{path}: {where}: {message}")
        self.path = str(path)
        self.where = where


@dataclass(frozen=True)
class Option:
    value: str
    label: str
    hint: str = ""
    exclusive: bool = False


@dataclass(frozen=True)
class Question:
    id: str
    type: str
    label: str
    hint: str = ""
    options: tuple[Option, ...] = ()
    optional: bool = False
    show_if: Expression | None = None
    home_only: bool = False
    min: int | None = None
    max: int | None = None
    suffix: str = ""
    multiline: bool = False
    page_id: str = ""
    section_id: str = ""

    def option_label(self, value: str) -> str:
        for option in self.options:
            if option.value == value:
                return option.label
        return value


@dataclass(frozen=True)
class Page:
    id: str
    title: str
    questions: tuple[Question, ...]
    show_if: Expression | None = None
    hint: str = ""


@dataclass(frozen=True)
class Section:
    id: str
    title: str
    task: str
    pages: tuple[Page, ...]
    gate: bool = False
    summary: str = ""

    @property
    def questions(self) -> Iterator[Question]:
        for page in self.pages:
            yield from page.questions


@dataclass(frozen=True)
class Clause:
    when: Expression
    reason: str


@dataclass(frozen=True)
class Rule:
    id: str
    output: str
    clauses: tuple[Clause, ...]
    requires: Expression | None = None


@dataclass(frozen=True)
class Output:
    id: str
    name: str
    kind: str
    description: str = ""
    provider_service: bool = False
    info: str = ""
    # The answers a provider is shown with the referral (for the job and for access), and
    # nothing else of the visit.
    shares: tuple[str, ...] = ()


@dataclass(frozen=True)
class FormDefinition:
    id: str
    version: int
    title: str
    path: str
    sections: tuple[Section, ...]
    outputs: dict[str, Output]
    rules: tuple[Rule, ...]
    declined_if: Expression | None = None
    questions: dict[str, Question] = field(default_factory=dict)

    def section(self, section_id: str) -> Section | None:
        return next((s for s in self.sections if s.id == section_id), None)

    @property
    def key(self) -> tuple[str, int]:
        return (self.id, self.version)


class _Loader:
    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, where: str, message: str) -> DefinitionError:
        return DefinitionError(self.path, where, message)

    def require(self, data: dict, key: str, where: str, kind: type = str) -> Any:
        if not isinstance(data, dict):
            raise self.fail(where, f"expected a mapping with '{key}', found {data!r}")
        if key not in data:
            raise self.fail(where, f"missing '{key}'")
        value = data[key]
        if not isinstance(value, kind) or (kind is str and not value.strip()):
            raise self.fail(where, f"'{key}' must be a non-empty {kind.__name__}")
        return value

    def expression(self, source: Any, where: str) -> Expression:
        try:
            return compile_expression(source)
        except ExpressionError as error:
            raise self.fail(where, str(error)) from None

    def check_names(
        self,
        expression: Expression,
        where: str,
        known: dict[str, Question],
        available: set[str] | None = None,
    ) -> None:
        for name in sorted(expression.names):
            if name in CONTEXT_NAMES:
                continue
            if name not in known:
                raise self.fail(where, f"refers to unknown question '{name}'")
            if available is not None and name not in available:
                raise self.fail(
                    where, f"refers to question '{name}', which is not answered before it"
                )
        for literal in expression.literals:
            for name, allowed in (("setting", SETTINGS), ("visit_kind", VISIT_KINDS)):
                if literal.question == name and literal.value not in allowed:
                    raise self.fail(
                        where,
                        f"compares {name} with '{literal.value}'; use one of {', '.join(allowed)}",
                    )
            question = known.get(literal.question)
            if question is None or not question.options:
                continue
            if literal.value not in {option.value for option in question.options}:
                raise self.fail(
                    where,
                    f"compares question '{literal.question}' with '{literal.value}', "
                    "which is not one of its options",
                )

    def option(self, raw: Any, where: str) -> Option:
        if not isinstance(raw, dict):
            raise self.fail(where, "each option needs a value and a label")
        return Option(
            value=str(self.require(raw, "value", where)),
            label=self.require(raw, "label", where),
            hint=raw.get("hint", ""),
            exclusive=bool(raw.get("exclusive", False)),
        )

    def question(self, raw: Any, section_id: str, page_id: str) -> Question:
        if not isinstance(raw, dict):
            raise self.fail(f"page '{page_id}'", "each question must be a mapping")
        qid = self.require(raw, "id", f"page '{page_id}'")
        where = f"question '{qid}'"
        if not _QUESTION_ID.match(qid):
            raise self.fail(where, "ids start with a capital letter: letters, digits, _")
        qtype = self.require(raw, "type", where)
        if qtype not in ANSWER_TYPES:
            raise self.fail(where, f"unknown type '{qtype}'; use one of {', '.join(ANSWER_TYPES)}")
        if qtype in FIXED_OPTIONS:
            if "options" in raw:
                raise self.fail(where, f"type '{qtype}' has fixed options")
            options = tuple(Option(value, label) for value, label in FIXED_OPTIONS[qtype])
        elif qtype in ("single", "multi"):
            raw_options = raw.get("options")
            if not isinstance(raw_options, list) or len(raw_options) < 2:
                raise self.fail(where, f"type '{qtype}' needs at least two options")
            options = tuple(self.option(item, where) for item in raw_options)
            values = [option.value for option in options]
            if len(values) != len(set(values)):
                raise self.fail(where, "option values must be unique")
        else:
            if "options" in raw:
                raise self.fail(where, f"type '{qtype}' takes no options")
            options = ()
        unknown = set(raw) - {
            "id",
            "type",
            "label",
            "hint",
            "options",
            "optional",
            "show_if",
            "home_only",
            "min",
            "max",
            "suffix",
            "multiline",
        }
        if unknown:
            raise self.fail(where, f"unknown keys: {', '.join(sorted(unknown))}")
        return Question(
            id=qid,
            type=qtype,
            label=self.require(raw, "label", where),
            hint=raw.get("hint", ""),
            options=options,
            optional=bool(raw.get("optional", False)),
            show_if=self.expression(raw["show_if"], where) if "show_if" in raw else None,
            home_only=bool(raw.get("home_only", False)),
            min=raw.get("min"),
            max=raw.get("max"),
            suffix=raw.get("suffix", ""),
            multiline=bool(raw.get("multiline", False)),
            page_id=page_id,
            section_id=section_id,
        )

    def load(self) -> FormDefinition:
        try:
            data = yaml.safe_load(self.path.read_text(encoding="utf-8"))
        except yaml.YAMLError as error:
            raise self.fail("file", f"not valid YAML: {error}") from None
        if not isinstance(data, dict):
            raise self.fail("file", "a definition is a mapping")
        form_id = self.require(data, "id", "form")
        version = self.require(data, "version", "form", int)
        questions: dict[str, Question] = {}
        sections: list[Section] = []
        section_ids: set[str] = set()
        page_ids: set[str] = set()
        # show-if may only look back: questions answered on an earlier page.
        answered_before: set[str] = set()
        for raw_section in self.require(data, "sections", "form", list):
            sid = self.require(raw_section, "id", "form")
            where = f"section '{sid}'"
            if not _KEBAB.match(sid) or sid in section_ids:
                raise self.fail(where, "section ids are unique and kebab-case")
            section_ids.add(sid)
            pages = []
            for raw_page in self.require(raw_section, "pages", where, list):
                pid = self.require(raw_page, "id", where)
                page_where = f"page '{pid}'"
                if not _KEBAB.match(pid) or pid in page_ids:
                    raise self.fail(page_where, "page ids are unique and kebab-case")
                page_ids.add(pid)
                page_show_if = None
                if "show_if" in raw_page:
                    page_show_if = self.expression(raw_page["show_if"], page_where)
                page_questions = []
                for raw_question in self.require(raw_page, "questions", page_where, list):
                    question = self.question(raw_question, sid, pid)
                    if question.id in questions:
                        raise self.fail(f"question '{question.id}'", "duplicate question id")
                    questions[question.id] = question
                    page_questions.append(question)
                if page_show_if is not None:
                    self.check_names(page_show_if, page_where, questions, answered_before)
                for question in page_questions:
                    if question.show_if is not None:
                        self.check_names(
                            question.show_if,
                            f"question '{question.id}'",
                            questions,
                            answered_before,
                        )
                answered_before.update(q.id for q in page_questions)
                pages.append(
                    Page(
                        id=pid,
                        title=self.require(raw_page, "title", page_where),
                        questions=tuple(page_questions),
                        show_if=page_show_if,
                        hint=raw_page.get("hint", ""),
                    )
                )
            sections.append(
                Section(
                    id=sid,
                    title=self.require(raw_section, "title", where),
                    task=self.require(raw_section, "task", where),
                    pages=tuple(pages),
                    gate=bool(raw_section.get("gate", False)),
                    summary=raw_section.get("summary", ""),
                )
            )
        outputs = self.outputs(data, questions)
        rules = self.rules(data, questions, outputs)
        declined_if = None
        if "declined_if" in data:
            declined_if = self.expression(data["declined_if"], "declined_if")
            self.check_names(declined_if, "declined_if", questions)
        return FormDefinition(
            id=form_id,
            version=version,
            title=self.require(data, "title", "form"),
            path=str(self.path),
            sections=tuple(sections),
            outputs=outputs,
            rules=rules,
            declined_if=declined_if,
            questions=questions,
        )

    def outputs(self, data: dict, questions: dict[str, Question]) -> dict[str, Output]:
        outputs: dict[str, Output] = {}
        for raw in self.require(data, "outputs", "form", list):
            oid = self.require(raw, "id", "outputs")
            where = f"output '{oid}'"
            kind = self.require(raw, "kind", where)
            if kind not in OUTPUT_KINDS:
                raise self.fail(where, f"kind must be one of {', '.join(OUTPUT_KINDS)}")
            if oid in outputs:
                raise self.fail(where, "duplicate output id")
            outputs[oid] = Output(
                id=oid,
                name=self.require(raw, "name", where),
                kind=kind,
                description=raw.get("description", ""),
                provider_service=bool(raw.get("provider_service", False)),
                info=raw.get("info", ""),
                shares=self.shares(raw, kind, where, questions),
            )
        return outputs

    def shares(
        self, raw: dict, kind: str, where: str, questions: dict[str, Question]
    ) -> tuple[str, ...]:
        shares = raw.get("shares", [])
        if not isinstance(shares, list) or not all(isinstance(qid, str) for qid in shares):
            raise self.fail(where, "'shares' must be a list of question ids")
        if shares and kind != "referral":
            raise self.fail(where, "only a referral shares answers with a service")
        for qid in shares:
            if qid not in questions:
                raise self.fail(where, f"shares unknown question '{qid}'")
        if len(shares) != len(set(shares)):
            raise self.fail(where, "'shares' names a question twice")
        return tuple(shares)

    def rules(
        self, data: dict, questions: dict[str, Question], outputs: dict[str, Output]
    ) -> tuple[Rule, ...]:
        rules = []
        seen: set[str] = set()
        for raw in self.require(data, "rules", "form", list):
            rid = self.require(raw, "id", "rules")
            where = f"rule '{rid}'"
            if rid in seen:
                raise self.fail(where, "duplicate rule id")
            seen.add(rid)
            output = self.require(raw, "output", where)
            if output not in outputs:
                raise self.fail(where, f"names unknown output '{output}'")
            raw_clauses = raw.get("any") or [{"when": raw.get("when"), "reason": raw.get("reason")}]
            clauses = []
            for raw_clause in raw_clauses:
                if not isinstance(raw_clause, dict):
                    raise self.fail(where, "each clause under 'any' needs 'when' and 'reason'")
                when = self.expression(raw_clause.get("when"), where)
                self.check_names(when, where, questions)
                reason = self.require(raw_clause, "reason", where)
                for name in _PLACEHOLDER.findall(reason):
                    if name not in questions:
                        raise self.fail(where, f"reason refers to unknown question '{name}'")
                clauses.append(Clause(when=when, reason=reason))
            requires = None
            if "requires" in raw:
                requires = self.expression(raw["requires"], where)
                self.check_names(requires, where, questions)
            rules.append(Rule(id=rid, output=output, clauses=tuple(clauses), requires=requires))
        return tuple(rules)


def load_definition(path: Path | str) -> FormDefinition:
    return _Loader(Path(path)).load()


class FormRegistry:
    """Every definition found under the forms directory, by id and version."""

    def __init__(self, definitions: list[FormDefinition]) -> None:
        self._by_key: dict[tuple[str, int], FormDefinition] = {}
        for definition in definitions:
            if definition.key in self._by_key:
                other = self._by_key[definition.key].path
                raise DefinitionError(
                    definition.path, "form", f"id and version already used by {other}"
                )
            self._by_key[definition.key] = definition

    @classmethod
    def from_directory(cls, directory: Path | str) -> FormRegistry:
        paths = sorted(Path(directory).glob("*/form.v*.yaml"))
        return cls([load_definition(path) for path in paths])

    def get(self, form_id: str, version: int) -> FormDefinition | None:
        return self._by_key.get((form_id, version))

    def latest(self, form_id: str) -> FormDefinition:
        versions = [d for (fid, _), d in self._by_key.items() if fid == form_id]
        if not versions:
            raise LookupError(f"no definition of form {form_id!r}")
        return max(versions, key=lambda d: d.version)

    def __iter__(self) -> Iterator[FormDefinition]:
        return iter(self._by_key.values())
