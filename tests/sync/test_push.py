"""Push: what central answers for each record, and that what it stores is exactly once."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import CentralVisit, Device, SyncMutation, VisitRevision
from tests.sync.conftest import Api, heartbeat, make_device, visit_body


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def test_a_new_visit_is_created_with_a_receipt_and_its_revision_kept(api: Api):
    mutation = api.mutation()
    response = api.push(mutation)
    assert response.status_code == 200
    [result] = response.json["results"]
    assert result["status"] == "created"
    assert result["receipt"]["revision"] == 1
    assert result["receipt"]["sha256"] == mutation["sha256"]
    with api.app.app_context():
        revision = db.session.scalar(select(VisitRevision))
        assert revision.sha256 == mutation["sha256"] and revision.device_id == api.device_id
        assert revision.device_time is not None and revision.server_time is not None
        assert revision.body == mutation["body"]


def test_a_replayed_mutation_gets_the_stored_result_and_changes_nothing(api: Api):
    mutation = api.mutation()
    first = api.push(mutation).json["results"][0]
    again = api.push(mutation).json["results"][0]
    assert again["status"] == "unchanged" and again["replayed"] is True
    assert again["receipt"] == first["receipt"]
    assert count(api.app, CentralVisit) == 1
    assert count(api.app, VisitRevision) == 1
    assert count(api.app, SyncMutation) == 1


def test_the_same_revision_sent_under_a_new_mutation_id_is_unchanged(api: Api):
    body = visit_body()
    api.push(api.mutation(body))
    result = api.push(api.mutation(body)).json["results"][0]
    assert result["status"] == "unchanged"
    assert count(api.app, VisitRevision) == 1


def test_the_same_revision_with_other_content_is_a_conflict_with_the_servers_copy(api: Api):
    body = visit_body()
    first = api.push(api.mutation(body)).json["results"][0]
    other = {**body, "answers": {**body["answers"], "F1": "yes"}}
    result = api.push(api.mutation(other)).json["results"][0]
    assert result["status"] == "conflict" and result["code"] == "SYNC_CONFLICT"
    assert result["server_revision"] == 1
    assert result["server_sha256"] == first["receipt"]["sha256"]


def test_a_stale_base_revision_is_a_conflict_never_an_overwrite(api: Api):
    body = visit_body()
    api.push(api.mutation(body))
    with api.app.app_context():
        visit = db.session.get(CentralVisit, uuid.UUID(body["visit"]["id"]))
        visit.status, visit.revision = "returned", 2  # revision 2 arrived from elsewhere
        db.session.commit()
    stale = {**body, "answers": {**body["answers"], "F1": "yes"}}
    result = api.push(api.mutation(stale, revision=2, base=1)).json["results"][0]
    assert result["status"] == "conflict" and result["server_revision"] == 2


def test_a_returned_visit_comes_back_as_a_new_revision(api: Api):
    body = visit_body()
    api.push(api.mutation(body))
    with api.app.app_context():
        db.session.get(CentralVisit, uuid.UUID(body["visit"]["id"])).status = "returned"
        db.session.commit()
    corrected = {**body, "answers": {**body["answers"], "F1": "yes"}}
    result = api.push(api.mutation(corrected, revision=2, base=1)).json["results"][0]
    assert result["status"] == "revised" and result["receipt"]["revision"] == 2
    assert count(api.app, VisitRevision) == 2


def test_a_new_revision_of_a_visit_not_returned_is_refused_as_locked(api: Api):
    body = visit_body()
    api.push(api.mutation(body))
    changed = {**body, "answers": {**body["answers"], "F1": "yes"}}
    result = api.push(api.mutation(changed, revision=2, base=1)).json["results"][0]
    assert result["status"] == "rejected" and result["code"] == "VISIT_LOCKED"


def test_an_invalid_record_is_rejected_with_field_errors_and_the_others_still_apply(api: Api):
    bad = visit_body(F2="three", NOT_A_QUESTION="x")
    good = visit_body()
    results = api.push(api.mutation(bad), api.mutation(good)).json["results"]
    assert results[0]["status"] == "rejected" and results[0]["code"] == "RECORD_REJECTED"
    errors = results[0]["errors"]["body"]["answers"]
    assert "F2" in errors and "NOT_A_QUESTION" in errors
    assert results[1]["status"] == "created"
    assert count(api.app, CentralVisit) == 1


def test_a_record_whose_hash_does_not_match_its_body_is_rejected(api: Api):
    mutation = api.mutation()
    mutation["sha256"] = "0" * 64
    result = api.push(mutation).json["results"][0]
    assert result["status"] == "rejected" and result["code"] == "HASH_MISMATCH"


def test_an_unknown_form_version_is_answered_as_such(api: Api):
    body = visit_body()
    body["visit"]["form_version"] = 99
    result = api.push(api.mutation(body)).json["results"][0]
    assert result["status"] == "unknown_form_version"
    assert count(api.app, CentralVisit) == 0


def test_a_mutation_id_reused_with_other_content_is_rejected_and_not_applied(api: Api):
    mutation = api.mutation()
    api.push(mutation)
    changed = api.mutation(visit_body(), mutation_id=uuid.UUID(mutation["mutation_id"]))
    result = api.push(changed).json["results"][0]
    assert result["status"] == "rejected" and result["code"] == "KEY_REUSED"
    assert count(api.app, CentralVisit) == 1


def test_another_users_visit_cannot_be_revised_from_this_device(central_app, api: Api):
    body = visit_body()
    api.push(api.mutation(body))
    token, device_id, user_id = make_device(central_app, "other@example.org")
    other = Api(central_app, token, device_id, user_id)
    result = other.push(other.mutation(body)).json["results"][0]
    assert result["status"] == "rejected" and result["code"] == "NOT_PERMITTED"


def test_the_heartbeat_is_recorded_with_the_clock_offset(api: Api):
    api.push(heartbeat=heartbeat(outbox_length=3, oldest_unsynced_age_seconds=90000))
    with api.app.app_context():
        device = db.session.get(Device, api.device_id)
        assert device.heartbeat["outbox_length"] == 3
        assert device.oldest_unsynced_since is not None
        assert device.clock_offset_seconds is not None and device.last_sync_at is not None


@pytest.mark.parametrize(
    ("question", "value", "message"),
    [
        ("P3", "castle", "Must be one of this question's options."),
        ("P6", 1, "Must be one of this question's options."),
        ("P6", ["yes"], "Must be one of this question's options."),
        ("P9", "stroke", "Must be a list of this question's options."),
        ("P9", ["stroke", "gout"], "Must be a list of this question's options."),
        ("P9", ["stroke", 1], "Must be a list of this question's options."),
        ("P9", [["stroke"]], "Must be a list of this question's options."),
        ("P9", [{"a": 1}], "Must be a list of this question's options."),
        ("P10", "3", "Must be a whole number."),
        ("P10", 2.5, "Must be a whole number."),
        ("P10", True, "Must be a whole number."),
        ("P8_DATE", "9/11/2026", "Must be a date, like 2026-11-09."),
        ("P8_DATE", 20261109, "Must be a date, like 2026-11-09."),
        ("P4_OTHERS", "x" * 5001, "Must be text of 5,000 characters or fewer."),
        ("P4_OTHERS", 7, "Must be text of 5,000 characters or fewer."),
        ("NOT_A_QUESTION", "yes", "Not a question of this form."),
    ],
)
def test_an_answer_that_does_not_fit_its_question_rejects_the_record(
    api: Api, question, value, message
):
    body = visit_body()
    body["answers"][question] = value
    [result] = api.push(api.mutation(body)).json["results"]
    assert (result["status"], result["code"]) == ("rejected", "RECORD_REJECTED")
    assert result["errors"] == {"body": {"answers": {question: [message]}}}
    assert count(api.app, CentralVisit) == 0


@pytest.mark.parametrize(
    ("question", "value"),
    [
        ("P3", "council_tenant"),
        ("P9", []),
        ("P9", ["stroke", "dementia_or_memory"]),
        ("P10", 0),
        ("P8_DATE", "2026-11-09"),
        ("P4_OTHERS", "x" * 5000),
    ],
)
def test_an_answer_that_fits_its_question_is_taken(api: Api, question, value):
    body = visit_body()
    body["answers"][question] = value
    [result] = api.push(api.mutation(body)).json["results"]
    assert result["status"] == "created", result


def test_a_refused_list_item_is_reported_by_its_position_and_a_replay_refuses_it_again(api: Api):
    body = visit_body()
    body["orders"] = [{"id": str(uuid.uuid4()), "quantity": "two"}]  # and much else missing
    mutation = api.mutation(body)
    response = api.push(mutation)
    assert response.status_code == 200
    [result] = response.json["results"]
    assert (result["status"], result["code"]) == ("rejected", "RECORD_REJECTED")
    assert result["errors"]["orders"]["0"]["quantity"] == ["Not a valid integer."], result
    # The answer was lost, say, and the tablet sends the record again: the same refusal.
    [again] = api.push(mutation).json["results"]
    assert again == {**result, "replayed": True}
    assert count(api.app, CentralVisit) == 0


def test_an_unexpected_error_loading_a_record_halts_the_push_there(api: Api, monkeypatch):
    """Records are loaded before the batch's reads; a record whose loading fails for a reason
    that is not the record's fault halts the batch at that record, in its turn, as before:
    the records ahead of it apply, it and those after it are left for the device to resend."""
    from sync import server

    first, broken, after = api.mutation(), api.mutation(), api.mutation()
    load_body = server._load_body

    def failing(mutation: dict):
        if mutation["mutation_id"] == uuid.UUID(broken["mutation_id"]):
            raise RuntimeError("loader fault (injected)")
        return load_body(mutation)

    monkeypatch.setattr(server, "_load_body", failing)
    answer = api.push(first, broken, after)
    assert answer.status_code == 200
    assert [result["status"] for result in answer.json["results"]] == ["created"]
    assert answer.json["halted_at"] == broken["seq"]
    assert count(api.app, CentralVisit) == 1 and count(api.app, SyncMutation) == 1

    # A replay of the applied record is recognised even when a later record cannot load.
    answer = api.push(first, broken)
    assert [result["status"] for result in answer.json["results"]] == ["unchanged"]
    assert answer.json["halted_at"] == broken["seq"]

    monkeypatch.setattr(server, "_load_body", load_body)
    answer = api.push(broken, after)
    assert [result["status"] for result in answer.json["results"]] == ["created", "created"]
    assert answer.json["halted_at"] is None
    assert count(api.app, CentralVisit) == 3
