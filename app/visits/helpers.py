"""Shared by the journey's views: loading the HSC's own visit and its evaluated view."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from flask import abort, current_app, url_for
from flask_login import current_user

from app import orders, queries
from app.equipment.rules import format_pence
from app.formengine import FormDefinition, VisitView
from app.formengine.definition import Page, Section
from app.formengine.evaluation import age_on
from app.models import Visit
from app.visits.equipment_rows import order_rows, total_of

CANNOT_START, NOT_STARTED, IN_PROGRESS, COMPLETED = (
    "cannot_start",
    "not_started",
    "in_progress",
    "completed",
)


def load_visit(visit_id: uuid.UUID) -> Visit:
    visit = queries.get_visit(current_user.id, visit_id)
    if visit is None:
        abort(404)
    return visit


def definition_for(visit: Visit) -> FormDefinition:
    definition = current_app.extensions["forms"].get(visit.form_id, visit.form_version)
    if definition is None:
        raise LookupError(f"form {visit.form_id} v{visit.form_version} is not installed")
    return definition


def view_for(visit: Visit) -> VisitView:
    return VisitView(
        definition_for(visit),
        visit.answers,
        setting=visit.setting,
        age=age_on(visit.resident.date_of_birth, visit.visit_date),
        referral_source=visit.referral_source,
        visit_kind=visit.kind,
    )


def section_or_404(view: VisitView, section_id: str) -> Section:
    section = view.definition.section(section_id)
    if section is None:
        abort(404)
    return section


@dataclass(frozen=True)
class Task:
    section: Section
    status: str
    href: str | None


def section_status(visit: Visit, view: VisitView, section: Section) -> str:
    gate = next((s for s in view.definition.sections if s.gate), None)
    entry = visit.progress.get(section.id, {})
    if section is not gate:
        gate_done = gate is None or visit.progress.get(gate.id, {}).get("completed")
        if not gate_done or view.declined:
            return CANNOT_START
    if entry.get("completed") or (section is not gate and not view.shown_pages(section)):
        return COMPLETED  # a section with nothing to ask on this visit holds nothing back
    return IN_PROGRESS if entry.get("rev") else NOT_STARTED


def tasks(visit: Visit, view: VisitView) -> list[Task]:
    result = []
    for section in view.definition.sections:
        status = section_status(visit, view, section)
        href = None
        if status == COMPLETED:
            href = url_for("visits.check_answers", visit_id=visit.id, section=section.id)
        elif status != CANNOT_START:
            href = url_for("visits.section_start", visit_id=visit.id, section=section.id)
        result.append(Task(section, status, href))
    return result


def all_sections_complete(visit: Visit, view: VisitView) -> bool:
    statuses = [section_status(visit, view, s) for s in view.definition.sections]
    if view.declined:
        gate = next(s for s in view.definition.sections if s.gate)
        return section_status(visit, view, gate) == COMPLETED
    return all(status == COMPLETED for status in statuses)


# Asked of everyone; an HSC who cannot order equipment is pointed at it instead.
ASSESSMENT_QUESTION = "EQ_ASSESSMENT_REQUEST"


@dataclass(frozen=True)
class EquipmentStep:
    """The equipment step on the task list, for the signed-in HSC.

    A trusted assessor orders (``href``, once the resident has agreed to the assessment);
    anyone else sees no ordering at all, only the question that requests an occupational
    therapist or trusted-assessor assessment (``assessment_href``).
    """

    trusted_assessor: bool
    href: str | None = None
    count: int = 0
    total: str = ""
    assessment_href: str | None = None
    assessment_requested: bool = False


def equipment_step(visit: Visit, view: VisitView) -> EquipmentStep:
    gate = next((s for s in view.definition.sections if s.gate), None)
    startable = not view.declined and (
        gate is None or bool(visit.progress.get(gate.id, {}).get("completed"))
    )
    if orders.is_trusted_assessor(current_user):
        rows = order_rows(orders.list_orders(visit))
        return EquipmentStep(
            trusted_assessor=True,
            href=url_for("visits.equipment", visit_id=visit.id) if startable else None,
            count=len(rows),
            total=format_pence(total_of(rows)),
        )
    question = view.definition.questions.get(ASSESSMENT_QUESTION)
    href = None
    if question is not None and startable:
        section = view.definition.section(question.section_id)
        page = next(p for p in section.pages if p.id == question.page_id)
        if view.page_shown(page):
            href = page_url(visit, section, page)
    return EquipmentStep(
        trusted_assessor=False,
        assessment_href=href,
        assessment_requested=visit.answers.get(ASSESSMENT_QUESTION) == "yes",
    )


def page_url(visit: Visit, section: Section, page: Page, *, back_to_check: bool = False) -> str:
    args = {"return": "check-answers"} if back_to_check else {}
    return url_for("visits.page", visit_id=visit.id, section=section.id, page=page.id, **args)


def next_page(view: VisitView, section: Section, after: Page | None) -> Page | None:
    pages = view.shown_pages(section)
    if after is None:
        return pages[0] if pages else None
    ids = [p.id for p in section.pages]
    position = ids.index(after.id)
    return next((p for p in pages if ids.index(p.id) > position), None)


def previous_page(view: VisitView, section: Section, before: Page) -> Page | None:
    ids = [p.id for p in section.pages]
    position = ids.index(before.id)
    earlier = [p for p in view.shown_pages(section) if ids.index(p.id) < position]
    return earlier[-1] if earlier else None


@dataclass(frozen=True)
class Progress:
    """Where a visit is, from draft to the office, in the HSC's words."""

    label: str
    tag: str  # GOV.UK tag colour class
    detail: str = ""


def visit_progress(visit: Visit, entry, enrolled: bool) -> Progress:
    if visit.status == "draft":
        if visit.office_status == "returned":
            return Progress("Returned by the office", "govuk-tag--orange", visit.office_comment)
        if entry is not None and entry.state in ("quarantined", "conflict"):
            return Progress("Being corrected", "govuk-tag--orange")
        return Progress("In progress", "govuk-tag--light-blue")
    if visit.office_status == "approved":
        return Progress("Approved by the office", "govuk-tag--green")
    if entry is None:
        return Progress("Completed", "govuk-tag--grey", "Kept on this device")
    if entry.state == "acknowledged":
        when = visit.received_at.strftime("%-d %B %Y at %H:%M") if visit.received_at else ""
        return Progress("Received by the office", "govuk-tag--green", when)
    if entry.state == "quarantined":
        return Progress(
            "Needs correcting", "govuk-tag--red", (entry.problem or {}).get("message", "")
        )
    if entry.state == "conflict":
        return Progress("The office has a different version", "govuk-tag--red")
    if entry.state == "sent":
        return Progress("Sent", "govuk-tag--blue", "Waiting for the office to confirm")
    detail = "" if enrolled else "This device is not enrolled, so nothing is sent"
    return Progress("Waiting to send", "govuk-tag--yellow", detail)


def problem_lines(definition: FormDefinition, problem: dict) -> list[str]:
    """A quarantined visit's field errors, in words, naming questions by their labels."""
    lines: list[str] = []

    def walk(prefix: list[str], errors) -> None:
        if isinstance(errors, dict):
            for key, value in errors.items():
                walk([*prefix, str(key)], value)
        elif isinstance(errors, list):
            for item in errors:
                walk(prefix, item)
        else:
            name = prefix[-1] if prefix else ""
            question = definition.questions.get(name)
            where = question.label if question else " ".join(p.replace("_", " ") for p in prefix)
            lines.append(f"{where}: {errors}" if where else str(errors))

    walk([], (problem or {}).get("errors") or {})
    return lines
