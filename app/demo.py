"""Demo data for the field node: an HSC profile and a few visits, two of them the case
stories from the service's own records, part done. Every resident here is fictional."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import yaml
from flask import current_app

from app import queries
from app.auth import hash_passphrase
from app.formengine import FormDefinition, VisitView
from app.models import HscProfile, Visit

DEMO_EMAIL = "sam.hsc@example.org"
DEMO_PASSPHRASE = "demo passphrase 1"  # noqa: S105 - the published demo sign-in


def case_stories(definition: FormDefinition) -> dict[str, dict[str, Any]]:
    path = Path(definition.path).parent / "examples" / "case-stories.yaml"
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def seed() -> str:
    """Demo visits for the demo HSC: the profile enrolment made, or a new local one."""
    hsc = queries.get_profile_by_email(DEMO_EMAIL)
    if hsc is not None and queries.list_visits(hsc.id).drafts:
        return f"Demo data already present. Sign in as {DEMO_EMAIL} / {DEMO_PASSPHRASE!r}."
    if hsc is None:
        hsc = queries.create_profile("Sam Patel", DEMO_EMAIL, hash_passphrase(DEMO_PASSPHRASE))
    definition = current_app.extensions["forms"].latest("housing-mot")
    stories = case_stories(definition)
    today = date.today()
    story_1, story_2 = stories["case-story-1"], stories["case-story-2"]
    # Story 1: first contact at the GP drop-in four days ago; the home visit is half done.
    _visit(hsc, definition, story_1, today - timedelta(days=4), sections_done=3)
    # Story 2: referred by First Contact Plus; consent and the falls questions so far.
    _visit(hsc, definition, story_2, today - timedelta(days=9), sections_done=1)
    # A GP clinic visit just started, and one completed last week.
    clinic = {
        "resident": {
            **story_1["resident"],
            "given_name": "Arthur",
            "family_name": "Bell",
            "date_of_birth": "1941-09-30",
            "address_line_1": "2 Mill Street",
            "postcode": "LE10 1AA",
            "town": "Hinckley",
            "district": "hinckley_and_bosworth",
        },
        "visit": {"setting": "gp_clinic", "referral_source": "self"},
        "answers": {"P6": "yes"},
    }
    _visit(hsc, definition, clinic, today, sections_done=0)
    done = {
        **story_1,
        "resident": {
            **story_1["resident"],
            "given_name": "Rose",
            "family_name": "Ward",
            "postcode": "LE8 6LA",
            "town": "Whetstone",
            "district": "blaby",  # in the demo team leader's patch
        },
    }
    visit = _visit(hsc, definition, done, today - timedelta(days=7), sections_done=99)
    view = VisitView(definition, visit.answers, setting=visit.setting)
    consents = {finding.output.id: "yes" for finding in view.outcomes.referrals}
    queries.save_consents(hsc.id, visit.id, 0, consents, complete=True)  # sent to the office
    return (
        "Demo HSC profile and 4 visits created (2 case stories part done). "
        f"Sign in as {DEMO_EMAIL} with the passphrase {DEMO_PASSPHRASE!r}."
    )


def _visit(
    hsc: HscProfile,
    definition: FormDefinition,
    story: dict[str, Any],
    first_contact: date,
    *,
    sections_done: int,
) -> Visit:
    resident = {**story["resident"]}
    resident["date_of_birth"] = date.fromisoformat(resident["date_of_birth"])
    visit_fields = {
        **story["visit"],
        "first_contact_date": first_contact,
        "visit_date": min(first_contact + timedelta(days=3), date.today()),
    }
    visit = queries.start_visit(hsc, resident, visit_fields, definition.key)
    answers = story["answers"]
    view = VisitView(definition, answers, setting=visit.setting)
    for index, section in enumerate(definition.sections):
        if index > sections_done:
            break
        pages = view.shown_pages(section)
        if index == sections_done:
            pages = pages[:1]  # the section the HSC is part way through
        for page in pages:
            page_answers = {
                q.id: answers[q.id] for q in view.shown_questions(page) if q.id in answers
            }
            if not page_answers:
                continue
            rev = queries.section_rev(visit, section.id)
            visit = queries.save_answers(hsc.id, visit.id, section.id, rev, page_answers, [], "")
        if index < sections_done and not view.missing(section):
            rev = queries.section_rev(visit, section.id)
            visit = queries.mark_section(hsc.id, visit.id, section.id, rev, True)
    return visit
