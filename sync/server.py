"""Central's side of sync: applying a push, answering a pull.

A push is one database transaction. Each mutation runs in a savepoint and its result is
stored (``SyncMutation``) in the same transaction as the change, so a retried push — after a
lost response, a crash, a duplicate delivery — gets the stored result back and changes
nothing. An unexpected error in one mutation rolls back only that mutation and halts the
batch there; the device resends from it later. Nothing is skipped silently.

The pull cursor is ``server_seq`` from a single counter row taken inside each write
transaction, so cursor values commit in order on SQLite and on PostgreSQL alike.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask import current_app
from marshmallow import ValidationError
from sqlalchemy import select, update

from app.extensions import db
from app.formengine import FormDefinition
from app.models import (
    CentralAuditEvent,
    CentralResident,
    CentralVisit,
    ChangeLogEntry,
    Device,
    SyncCounter,
    SyncMutation,
    User,
    VisitRevision,
)
from app.models.field import utcnow
from sync import faults
from sync.canonical import sha256_of
from sync.errors import ERRORS
from sync.schemas import MutationSchema, VisitBodySchema, validation_detail

log = logging.getLogger(__name__)
PULL_LIMIT = 200


def next_server_seq() -> int:
    """The next pull cursor value, taken under the counter row's lock until commit."""
    value = db.session.execute(
        update(SyncCounter)
        .where(SyncCounter.id == 1)
        .values(value=SyncCounter.value + 1)
        .returning(SyncCounter.value)
    ).scalar_one()
    return int(value)


def current_server_seq() -> int:
    return int(db.session.scalar(select(SyncCounter.value).where(SyncCounter.id == 1)) or 0)


def log_change(user_id: uuid.UUID, kind: str, record_id: uuid.UUID, payload: dict) -> int:
    seq = next_server_seq()
    db.session.add(
        ChangeLogEntry(
            server_seq=seq, user_id=user_id, kind=kind, record_id=str(record_id), payload=payload
        )
    )
    return seq


def iso(moment: datetime) -> str:
    return moment.replace(tzinfo=UTC).isoformat()


def _naive_utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


@dataclass
class PushOutcome:
    results: list[dict]
    halted_at: int | None


def _result(mutation: Mapping, status: str, **extra: Any) -> dict:
    result = {
        "seq": mutation.get("seq"),
        "mutation_id": str(mutation.get("mutation_id", "")),
        "visit_id": str(mutation.get("visit_id", "")),
        "status": status,
    }
    result.update(extra)
    return result


def _rejected(mutation: Mapping, code: str, errors: dict | None = None) -> dict:
    error = ERRORS[code]
    return _result(mutation, "rejected", code=code, message=error.message, errors=errors or {})


def check_answers(definition: FormDefinition, answers: Mapping[str, Any]) -> dict[str, list[str]]:
    """Answers must name questions of the form and have values of the question's type."""
    problems: dict[str, list[str]] = {}
    for question_id, value in answers.items():
        question = definition.questions.get(question_id)
        if question is None:
            problems[question_id] = ["Not a question of this form."]
            continue
        allowed = {option.value for option in question.options}
        message = None
        if question.type == "multi":
            if not isinstance(value, list) or not all(v in allowed for v in value):
                message = "Must be a list of this question's options."
        elif allowed:
            if value not in allowed:
                message = "Must be one of this question's options."
        elif question.type == "number":
            if not isinstance(value, int) or isinstance(value, bool):
                message = "Must be a whole number."
        elif question.type == "date":
            try:
                date.fromisoformat(value)
            except (TypeError, ValueError):
                message = "Must be a date, like 2026-11-09."
        elif not isinstance(value, str) or len(value) > 5000:
            message = "Must be text of 5,000 characters or fewer."
        if message:
            problems[question_id] = [message]
    return problems


def _check_consents(definition: FormDefinition, consents: Mapping[str, str]) -> dict:
    referrals = {o.id for o in definition.outputs.values() if o.kind == "referral"}
    return {key: ["Not a referral of this form."] for key in consents if key not in referrals}


class _Apply:
    """Applies one mutation inside the caller's savepoint."""

    def __init__(self, device: Device, now: datetime) -> None:
        self.device = device
        self.now = now
        self.forms = current_app.extensions["forms"]

    def __call__(self, raw: Mapping) -> dict:
        try:
            mutation = MutationSchema().load(raw)
        except ValidationError as error:
            return _rejected(raw, "RECORD_REJECTED", validation_detail(error))
        fingerprint = sha256_of(
            {k: raw[k] for k in ("type", "visit_id", "revision", "base_revision", "body")}
        )
        stored = db.session.get(SyncMutation, mutation["mutation_id"])
        if stored is not None:
            if stored.fingerprint != fingerprint:
                return _rejected(raw, "KEY_REUSED")
            return {**stored.result, "status": "unchanged", "replayed": True, "seq": raw["seq"]}
        result = self.apply(raw, mutation)
        db.session.add(
            SyncMutation(
                mutation_id=mutation["mutation_id"],
                device_id=self.device.id,
                device_seq=mutation["seq"],
                fingerprint=fingerprint,
                result=result,
            )
        )
        return result

    def apply(self, raw: Mapping, mutation: dict) -> dict:
        try:
            body = VisitBodySchema().load(mutation["body"])
        except ValidationError as error:
            return _rejected(raw, "RECORD_REJECTED", validation_detail(error))
        if sha256_of(mutation["body"]) != mutation["sha256"]:
            return _rejected(raw, "HASH_MISMATCH")
        visit_fields, resident = body["visit"], body["resident"]
        if visit_fields["id"] != mutation["visit_id"]:
            return _rejected(
                raw, "RECORD_REJECTED", {"body": {"visit": {"id": ["Not this visit."]}}}
            )
        definition = self.forms.get(visit_fields["form_id"], visit_fields["form_version"])
        if definition is None:
            return _result(
                raw,
                "unknown_form_version",
                code="UNKNOWN_FORM_VERSION",
                message=ERRORS["UNKNOWN_FORM_VERSION"].message,
            )
        problems = check_answers(definition, body["answers"])
        problems |= _check_consents(definition, body["consents"])
        if problems:
            return _rejected(raw, "RECORD_REJECTED", {"body": {"answers": problems}})
        faults.on_apply(body)

        visit = db.session.get(CentralVisit, mutation["visit_id"])
        revision, base = mutation["revision"], mutation["base_revision"]
        if visit is not None and visit.user_id != self.device.user_id:
            return _rejected(raw, "NOT_PERMITTED")
        current = visit.revision if visit else 0
        if visit is not None and revision == current:
            if visit.sha256 == mutation["sha256"]:
                return self.receipt(raw, visit, "unchanged")
            return self.conflict(raw, visit)
        if base != current or revision != current + 1:
            return self.conflict(raw, visit)
        if visit is not None and visit.status != "returned":
            return _rejected(raw, "VISIT_LOCKED")

        self.store_resident(resident)
        status = "created" if visit is None else "revised"
        if visit is None:
            visit = CentralVisit(id=mutation["visit_id"], user_id=self.device.user_id)
            db.session.add(visit)
        visit.resident_id = resident["id"]
        visit.device_id = self.device.id
        visit.district = resident["district"]
        visit.setting = visit_fields["setting"]
        visit.form_id, visit.form_version = definition.id, definition.version
        visit.revision, visit.sha256, visit.status = revision, mutation["sha256"], "received"
        visit.received_at = visit.updated_at = self.now
        device_time = _naive_utc(mutation["device_time"])
        db.session.add(
            VisitRevision(
                visit_id=visit.id,
                revision=revision,
                sha256=mutation["sha256"],
                body=mutation["body"],
                device_id=self.device.id,
                mutation_id=mutation["mutation_id"],
                device_time=device_time,
                server_time=self.now,
                clock_offset_seconds=(self.now - device_time).total_seconds(),
            )
        )
        db.session.add(
            CentralAuditEvent(
                actor_id=self.device.user_id,
                device_id=self.device.id,
                action=f"visit_{status}",
                record_type="visit",
                record_id=str(visit.id),
                note=f"revision {revision}",
            )
        )
        result = self.receipt(raw, visit, status)
        log_change(self.device.user_id, "visit.received", visit.id, result["receipt"])
        return result

    def store_resident(self, fields: dict) -> None:
        resident = db.session.get(CentralResident, fields["id"])
        if resident is None:
            resident = CentralResident(id=fields["id"])
            db.session.add(resident)
        for name, value in fields.items():
            setattr(resident, name, value)
        resident.updated_at = self.now

    def receipt(self, raw: Mapping, visit: CentralVisit, status: str) -> dict:
        receipt = {
            "visit_id": str(visit.id),
            "revision": visit.revision,
            "sha256": visit.sha256,
            "received_at": iso(visit.received_at),
        }
        return _result(raw, status, receipt=receipt)

    def conflict(self, raw: Mapping, visit: CentralVisit | None) -> dict:
        return _result(
            raw,
            "conflict",
            code="SYNC_CONFLICT",
            message=ERRORS["SYNC_CONFLICT"].message,
            server_revision=visit.revision if visit else 0,
            server_sha256=visit.sha256 if visit else None,
        )


def record_heartbeat(device: Device, heartbeat: Mapping, now: datetime) -> None:
    device_clock = _naive_utc(heartbeat["device_clock"])
    age = heartbeat.get("oldest_unsynced_age_seconds")
    device.heartbeat = {
        **{k: v for k, v in heartbeat.items() if k != "device_clock"},
        "device_clock": iso(device_clock),
    }
    device.oldest_unsynced_since = None if age is None else now - timedelta(seconds=age)
    device.clock_offset_seconds = (now - device_clock).total_seconds()
    device.last_seen_at = device.last_sync_at = now


def apply_push(device: Device, request: Mapping) -> PushOutcome:
    """Apply a validated push in the current transaction; the caller commits."""
    now = utcnow()
    record_heartbeat(device, request["heartbeat"], now)
    apply = _Apply(device, now)
    results: list[dict] = []
    halted_at = None
    for raw in request["mutations"]:
        savepoint = db.session.begin_nested()
        try:
            results.append(apply(raw))
            savepoint.commit()
        except Exception:
            savepoint.rollback()
            halted_at = raw.get("seq") if isinstance(raw, Mapping) else None
            log.exception("push halted: device %s, seq %s", device.id, halted_at)
            break
    return PushOutcome(results, halted_at)


def profile_of(user: User) -> dict:
    return {
        "user_id": str(user.id),
        "version": user.profile_version,
        "name": user.name,
        "email": user.email,
        "ta_level": user.ta_level,
        "ta_signed_off_on": user.ta_signed_off_on.isoformat() if user.ta_signed_off_on else None,
        "districts": user.district_names,
    }


def pull_page(user: User, cursor: int, limit: int = PULL_LIMIT) -> dict:
    """Changes for this user's devices after ``cursor``: one indexed range scan."""
    rows = db.session.scalars(
        select(ChangeLogEntry)
        .where(ChangeLogEntry.user_id == user.id, ChangeLogEntry.server_seq > cursor)
        .order_by(ChangeLogEntry.server_seq)
        .limit(limit + 1)
    ).all()
    page = rows[:limit]
    forms = [{"id": d.id, "version": d.version} for d in current_app.extensions["forms"]]
    return {
        "changes": [
            {
                "server_seq": row.server_seq,
                "kind": row.kind,
                "id": row.record_id,
                "payload": row.payload,
            }
            for row in page
        ],
        "next_cursor": page[-1].server_seq if page else cursor,
        "has_more": len(rows) > limit,
        "reference": {"forms": forms, "profile": profile_of(user)},
        "server_time": iso(utcnow()),
    }
