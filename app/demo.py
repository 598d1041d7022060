"""Demo data for the field node: an HSC profile and a few visits, two of them the case
stories from the service's own records, part done. Every resident here is fictional."""

from __future__ import annotations

from datetime import date, timedelta

from flask import current_app

from app import queries
from app.auth import hash_passphrase

DEMO_EMAIL = "sam.hsc@example.org"
DEMO_PASSPHRASE = "demo passphrase 1"  # noqa: S105 - the published demo sign-in


def seed() -> str:
    if queries.get_profile_by_email(DEMO_EMAIL):
        return f"Demo data already present. Sign in as {DEMO_EMAIL} / {DEMO_PASSPHRASE!r}."
    hsc = queries.create_profile("Sam Patel", DEMO_EMAIL, hash_passphrase(DEMO_PASSPHRASE))
    form = current_app.extensions["forms"].latest("housing-mot")
    today = date.today()
    for resident, visit, pages in DEMO_VISITS:
        visit = {
            **visit,
            "first_contact_date": today - timedelta(days=visit["first_contact_date"]),
            "visit_date": today - timedelta(days=visit["visit_date"]),
        }
        record = queries.start_visit(hsc, resident, visit, form.key)
        for section_id, answers, completed in pages:
            rev = queries.section_rev(record, section_id)
            record = queries.save_answers(hsc.id, record.id, section_id, rev, answers, [], "")
            if completed:
                rev = queries.section_rev(record, section_id)
                record = queries.mark_section(hsc.id, record.id, section_id, rev, True)
    return (
        f"Demo HSC profile and {len(DEMO_VISITS)} visits created. "
        f"Sign in as {DEMO_EMAIL} with the passphrase {DEMO_PASSPHRASE!r}."
    )


def _resident(given, family, born, line1, town, postcode, district, **extra):
    return {
        "given_name": given,
        "family_name": family,
        "date_of_birth": born,
        "address_line_1": line1,
        "address_line_2": "",
        "town": town,
        "postcode": postcode,
        "district": district,
        "phone": extra.get("phone", ""),
        "nhs_number": extra.get("nhs_number"),
    }


DEMO_VISITS: list = []
