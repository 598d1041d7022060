"""On the field node: what the HSC sees of a visit's way to the office, and correcting one."""

from __future__ import annotations

from sqlalchemy import select

from app import queries
from app.extensions import db
from app.models import OutboxEntry, Visit
from sync import device
from tests.support.factories import make_visit


def completed_visit(app, profile):
    with app.app_context():
        visit = make_visit(profile)
        queries.save_answers(profile.id, visit.id, "falls", 0, {"F2": 3}, [], "")
        return queries.save_consents(profile.id, visit.id, 0, {}, complete=True)


def entries(app, visit_id) -> list[OutboxEntry]:
    with app.app_context():
        return list(
            db.session.scalars(
                select(OutboxEntry)
                .where(OutboxEntry.visit_id == visit_id)
                .order_by(OutboxEntry.seq)
            )
        )


def test_completing_a_visit_queues_revision_one_with_its_hash(app, profile):
    visit = completed_visit(app, profile)
    [entry] = entries(app, visit.id)
    assert (entry.state, entry.revision, entry.base_revision) == ("queued", 1, 0)
    assert entry.body["visit"]["id"] == str(visit.id)
    assert entry.body["answers"]["F2"] == 3
    from sync.canonical import sha256_of

    assert entry.sha256 == sha256_of(entry.body)


def test_a_completed_visit_on_an_unenrolled_device_says_it_is_kept_here(app, signed_in, profile):
    visit = completed_visit(app, profile)
    html = signed_in.text(f"/visits/{visit.id}")
    assert "Waiting to send" in html and "not enrolled" in html
    assert "Not syncing" in html


def test_a_quarantined_visit_shows_why_in_words_and_can_be_corrected_and_resent(
    app, signed_in, profile
):
    visit = completed_visit(app, profile)
    with app.app_context():
        entry = db.session.scalar(select(OutboxEntry))
        entry.state = "quarantined"
        entry.problem = {
            "code": "RECORD_REJECTED",
            "message": "The office could not accept this visit as it is.",
            "errors": {"body": {"answers": {"F2": ["Must be a whole number."]}}},
        }
        db.session.get(Visit, visit.id).office_status = "needs_correcting"
        db.session.commit()
    html = signed_in.text(f"/visits/{visit.id}")
    assert "Needs correcting" in html
    assert "How many times has the resident fallen in the last 12 months?: Must be a whole" in html
    response = signed_in.submit(f"/visits/{visit.id}", {}, form_index=-1)
    assert response.status_code == 302
    with app.app_context():
        reopened = db.session.get(Visit, visit.id)
        assert reopened.status == "draft"
        assert db.session.scalar(select(OutboxEntry)).state == "withdrawn"
        rev = queries.section_rev(reopened, queries.SUMMARY_KEY)
        queries.save_consents(profile.id, visit.id, rev, {}, complete=True)
    first, again = entries(app, visit.id)
    assert again.state == "queued" and again.revision == 1  # central never had revision 1
    assert again.mutation_id != first.mutation_id


def test_the_sync_status_endpoint_reports_each_visits_progress(app, signed_in, profile):
    visit = completed_visit(app, profile)
    state = signed_in.client.get(f"/sync-status?visit={visit.id}&visit=not-a-uuid").json
    assert state["enrolled"] is False and state["waiting"] == 1
    assert state["visits"][str(visit.id)]["label"] == "Waiting to send"


def test_a_pull_applies_once_and_a_returned_visit_opens_for_revision_two(app, profile):
    visit = completed_visit(app, profile)
    with app.app_context():
        stored = db.session.get(Visit, visit.id)
        stored.central_revision = 1  # as if central acknowledged revision 1
        db.session.commit()
        from app.db import write_transaction
        from app.models import DeviceState

        with write_transaction():
            db.session.add(
                DeviceState(
                    id=1,
                    central_url="http://central.invalid",
                    device_id=visit.id,
                    token="t",
                    profile_id=profile.id,
                )
            )
        page = {
            "changes": [
                {
                    "server_seq": 7,
                    "kind": "visit.returned",
                    "id": str(visit.id),
                    "payload": {"revision": 1, "comment": "Add the step height"},
                }
            ],
            "next_cursor": 7,
            "has_more": False,
            "reference": {},
        }
        device.apply_pull(page)
        device.apply_pull(page)  # applying twice is harmless
        returned = db.session.get(Visit, visit.id)
        assert (returned.status, returned.office_status) == ("draft", "returned")
        assert returned.office_comment == "Add the step height"
        assert device.device_state().pull_cursor == 7
        rev = queries.section_rev(returned, queries.SUMMARY_KEY)
        queries.save_consents(profile.id, visit.id, rev, {}, complete=True)
    latest = entries(app, visit.id)[-1]
    assert (latest.revision, latest.base_revision) == (2, 1)
