"""The field node's writes: each one transaction, audited, and refused when stale or locked."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app import queries
from app.extensions import db
from app.models import AuditEvent, Visit
from tests.support.factories import make_profile, make_visit


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield


def audit_actions(record_id) -> list[str]:
    return list(
        db.session.scalars(select(AuditEvent.action).where(AuditEvent.record_id == str(record_id)))
    )


def test_starting_a_visit_records_the_form_version_and_audits_resident_and_visit(ctx, profile):
    visit = make_visit(profile)
    assert (visit.form_id, visit.form_version, visit.status) == ("housing-mot", 1, "draft")
    assert audit_actions(visit.id) == ["visit_started"]
    assert audit_actions(visit.resident_id) == ["resident_created"]


def test_saving_answers_merges_them_clears_blank_optionals_and_counts_a_revision(ctx, profile):
    visit = make_visit(profile)
    queries.save_answers(profile.id, visit.id, "falls", 0, {"F1": "yes", "F2": 3}, [], "/next")
    visit = queries.save_answers(profile.id, visit.id, "falls", 1, {"F1": "no"}, ["F2"], "/x")
    assert visit.answers == {"F1": "no"}
    assert queries.section_rev(visit, "falls") == 2
    assert visit.last_page == "/x"
    assert audit_actions(visit.id).count("answers_saved") == 2


def test_a_save_from_a_stale_page_is_refused_and_changes_nothing(ctx, profile):
    visit = make_visit(profile)
    queries.save_answers(profile.id, visit.id, "falls", 0, {"F1": "yes"}, [], "")
    with pytest.raises(queries.StaleEdit):
        queries.save_answers(profile.id, visit.id, "falls", 0, {"F1": "no"}, [], "")
    db.session.expire_all()
    assert db.session.get(Visit, visit.id).answers == {"F1": "yes"}


def test_sections_have_their_own_revisions_so_two_sections_can_be_edited_at_once(ctx, profile):
    visit = make_visit(profile)
    queries.save_answers(profile.id, visit.id, "falls", 0, {"F1": "no"}, [], "")
    visit = queries.save_answers(profile.id, visit.id, "warmth", 0, {"W1": "yes"}, [], "")
    assert visit.answers == {"F1": "no", "W1": "yes"}


def test_completing_records_consent_and_locks_the_visit_against_any_change(ctx, profile):
    visit = make_visit(profile)
    visit = queries.save_consents(profile.id, visit.id, 0, {"handyperson": "yes"}, complete=True)
    assert visit.status == "completed" and visit.completed_at is not None
    assert visit.consents == {"handyperson": "yes"}
    with pytest.raises(queries.VisitLocked):
        queries.save_answers(profile.id, visit.id, "falls", 0, {"F1": "yes"}, [], "")
    with pytest.raises(queries.VisitLocked):
        queries.mark_section(profile.id, visit.id, "falls", 0, True)
    assert "visit_completed" in audit_actions(visit.id)


def test_an_hsc_sees_only_their_own_visits(ctx, profile):
    mine = make_visit(profile)
    other = make_profile()
    theirs = make_visit(other)
    assert queries.get_visit(profile.id, theirs.id) is None
    lists = queries.list_visits(profile.id)
    assert [v.id for v in lists.drafts] == [mine.id]
    with pytest.raises(LookupError):
        queries.save_answers(profile.id, theirs.id, "falls", 0, {"F1": "yes"}, [], "")


def test_profile_emails_are_matched_without_regard_to_case_or_spaces(ctx):
    profile = make_profile(email="Someone@Example.org")
    assert queries.get_profile_by_email("  someone@example.ORG ").id == profile.id
