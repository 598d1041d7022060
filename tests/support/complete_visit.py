"""``python -m tests.support.complete_visit EMAIL``: complete one visit on a field database in
a process of its own (so a test can have it killed part way), printing the visit id."""

import sys

from app import create_app, queries
from tests.browser.journey import CASE_STORIES
from tests.support.factories import resident_fields, visit_fields


def main(email: str) -> None:
    app = create_app("field")
    with app.app_context():
        profile = queries.get_profile_by_email(email)
        visit = queries.start_visit(profile, resident_fields(), visit_fields(), ("housing-mot", 1))
        print(visit.id, flush=True)
        answers = CASE_STORIES["case-story-2"]["answers"]
        queries.save_answers(profile.id, visit.id, "all", 0, answers, [], "")
        queries.save_consents(profile.id, visit.id, 0, {"handyperson": "yes"}, True)


if __name__ == "__main__":
    main(sys.argv[1])
