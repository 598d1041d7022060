"""Completing visits on a field database the way the journey does (each with its outbox
entry). ``python -m tests.support.complete_visit EMAIL`` does one in a process of its own,
so a test can have it killed part way."""

import sys
from typing import Any

from app import create_app, queries
from tests.browser.journey import CASE_STORIES
from tests.support.factories import resident_fields, visit_fields

ANSWERS = CASE_STORIES["case-story-2"]["answers"]


def complete_visit(email: str, **answers: Any) -> str:
    """Complete one visit for the profile with this email; call in a field app context."""
    profile = queries.get_profile_by_email(email)
    visit = queries.start_visit(profile, resident_fields(), visit_fields(), ("housing-mot", 1))
    queries.save_answers(profile.id, visit.id, "all", 0, {**ANSWERS, **answers}, [], "")
    queries.save_consents(profile.id, visit.id, 0, {"handyperson": "yes"}, True)
    return str(visit.id)


if __name__ == "__main__":
    with create_app("field").app_context():
        complete_visit(sys.argv[1])
