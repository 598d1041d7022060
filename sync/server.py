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

import hashlib
import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Any

from flask import current_app
from marshmallow import ValidationError
from sqlalchemy import bindparam, select, update

from app.central import ingest, orders, referrals
from app.db import insert_many
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
from sync import fastload, faults
from sync.canonical import canonical_json, sha256_of
from sync.errors import ERRORS
from sync.fastload import compile_loader
from sync.schemas import MutationSchema, VisitBodySchema, validation_detail

log = logging.getLogger(__name__)
PULL_LIMIT = 200
MUTATION, VISIT_BODY = MutationSchema(), VisitBodySchema()  # schemas are reusable
LOAD_MUTATION, LOAD_VISIT_BODY = compile_loader(MUTATION), compile_loader(VISIT_BODY)


def next_server_seq(count: int = 1) -> int:
    """The last of ``count`` new pull cursor values, taken under the counter row's lock,
    which is held until commit: values commit in the order they were taken."""
    value = db.session.execute(
        update(SyncCounter)
        .where(SyncCounter.id == 1)
        .values(value=SyncCounter.value + count)
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


MULTI_MESSAGE = "Must be a list of this question's options."
OPTION_MESSAGE = "Must be one of this question's options."
NUMBER_MESSAGE = "Must be a whole number."
DATE_MESSAGE = "Must be a date, like 2026-11-09."
TEXT_MESSAGE = "Must be text of 5,000 characters or fewer."


def _is_date(value: Any) -> bool:
    try:
        date.fromisoformat(value)
    except (TypeError, ValueError):
        return False
    return True


def _answer_check(question) -> Callable[[Any], str | None]:
    """A check on a pushed value for a question without options: ``None`` if it fits, or
    the message."""
    if question.type == "number":
        return lambda v: None if type(v) is int else NUMBER_MESSAGE
    if question.type == "date":
        return lambda v: None if _is_date(v) else DATE_MESSAGE
    return lambda v: None if type(v) is str and len(v) <= 5000 else TEXT_MESSAGE


@dataclass(frozen=True)
class _AnswerChecks:
    """A form's questions by how their answers are checked: the options of single- and
    multiple-choice questions, and a check for each of the others; and the referrals a
    consent may name."""

    single: dict[str, frozenset[str]]
    multi: dict[str, frozenset[str]]
    other: dict[str, Callable[[Any], str | None]]
    referrals: frozenset[str]


@cache
def _answer_checks(definition_key: tuple[str, int]) -> _AnswerChecks:
    definition = current_app.extensions["forms"].get(*definition_key)
    referrals = frozenset(o.id for o in definition.outputs.values() if o.kind == "referral")
    checks = _AnswerChecks({}, {}, {}, referrals)
    for qid, question in definition.questions.items():
        allowed = frozenset(option.value for option in question.options)
        if question.type == "multi":
            checks.multi[qid] = allowed
        elif allowed:
            checks.single[qid] = allowed
        else:
            checks.other[qid] = _answer_check(question)
    return checks


def _all_options(value: Any, allowed: frozenset[str]) -> bool:
    try:  # every item one of the options (so a string); an unhashable one is not
        return type(value) is list and allowed.issuperset(value)
    except TypeError:
        return False


def check_answers(definition: FormDefinition, answers: Mapping[str, Any]) -> dict[str, list[str]]:
    """Answers must name questions of the form and have values of the question's type."""
    checks = _answer_checks(definition.key)
    single, multi, other = checks.single, checks.multi, checks.other
    problems: dict[str, list[str]] = {}
    for question_id, value in answers.items():
        if (allowed := single.get(question_id)) is not None:
            if type(value) is str and value in allowed:
                continue
            message = OPTION_MESSAGE
        elif (allowed := multi.get(question_id)) is not None:
            if _all_options(value, allowed):
                continue
            message = MULTI_MESSAGE
        elif (check := other.get(question_id)) is not None:
            if (message := check(value)) is None:
                continue
        else:
            message = "Not a question of this form."
        problems[str(question_id)] = [message]
    return problems


def _check_consents(definition: FormDefinition, consents: Mapping[str, str]) -> dict:
    referrals = _answer_checks(definition.key).referrals
    if referrals.issuperset(consents):
        return {}
    return {key: ["Not a referral of this form."] for key in consents if key not in referrals}


@dataclass
class _VisitState:
    """Central's copy of a visit as this push sees it, before and after each record."""

    user_id: uuid.UUID
    revision: int
    sha256: str
    status: str
    received_at: datetime
    new: bool = False


# What a push reads up front, for all its records at once (built once: the ids vary).
STORED_RESULTS = select(
    SyncMutation.mutation_id, SyncMutation.fingerprint, SyncMutation.result
).where(SyncMutation.mutation_id.in_(bindparam("ids", expanding=True)))
VISIT_STATES = select(
    CentralVisit.id,
    CentralVisit.user_id,
    CentralVisit.revision,
    CentralVisit.sha256,
    CentralVisit.status,
    CentralVisit.received_at,
).where(CentralVisit.id.in_(bindparam("ids", expanding=True)))
KNOWN_RESIDENTS = select(CentralResident.id).where(
    CentralResident.id.in_(bindparam("ids", expanding=True))
)


def _load_mutation(raw: Any) -> dict | ValidationError:
    """A record's envelope, loaded, or why it cannot be."""
    try:
        return fastload.load(MUTATION, LOAD_MUTATION, raw)
    except ValidationError as error:
        return error


def _load_body(mutation: dict) -> dict | ValidationError:
    """A record's visit body, loaded, or why it cannot be."""
    try:
        return fastload.load(VISIT_BODY, LOAD_VISIT_BODY, mutation["body"])
    except ValidationError as error:
        return error


class _Batch:
    """Applies a push's records in order, in memory, then writes them all at once.

    Everything a record's outcome depends on is read up front (stored results, the visits
    and residents it names), so deciding a record costs no queries; the rows are written
    with one multi-row statement per table. A record that meets an unexpected error halts
    the batch before any of its rows exist, as a savepoint would.
    """

    def __init__(self, device: Device, now: datetime, raws: list) -> None:
        self.device, self.now = device, now
        # Read once, not per record.
        self.device_id, self.user_id, self.user = device.id, device.user_id, device.user
        self.now_iso = iso(now)
        self.forms = current_app.extensions["forms"]
        self.poison = faults.poison()
        # Each record is loaded once, here: its ids say what to read up front.
        self.envelopes: list[dict | ValidationError] = []
        self.bodies: list[dict | ValidationError | None] = []
        for raw in raws:
            try:
                envelope = _load_mutation(raw)
                body = None if isinstance(envelope, ValidationError) else _load_body(envelope)
            except Exception:  # loaded again in its turn, where the error halts the batch
                break
            self.envelopes.append(envelope)
            self.bodies.append(body)
        loaded = [m for m in self.envelopes if not isinstance(m, ValidationError)]
        mutation_ids = {mutation["mutation_id"] for mutation in loaded}
        visit_ids = {mutation["visit_id"] for mutation in loaded}
        resident_ids = {body["resident"]["id"] for body in self.bodies if isinstance(body, dict)}
        self.stored: dict[uuid.UUID, tuple[str, dict]] = {
            mutation_id: (fingerprint, result)
            for mutation_id, fingerprint, result in db.session.execute(
                STORED_RESULTS, {"ids": list(mutation_ids)}
            )
        }
        self.visits: dict[uuid.UUID, _VisitState] = {
            row.id: _VisitState(row.user_id, row.revision, row.sha256, row.status, row.received_at)
            for row in db.session.execute(VISIT_STATES, {"ids": list(visit_ids)})
        }
        self.known_residents = set(db.session.scalars(KNOWN_RESIDENTS, {"ids": list(resident_ids)}))
        self.residents: dict[uuid.UUID, dict] = {}
        self.visit_rows: dict[uuid.UUID, dict] = {}
        self.revisions: list[dict] = []
        self.mutations: list[dict] = []
        self.audits: list[dict] = []
        self.changes: list[dict] = []  # the receipts of the records that changed a visit
        self.jobs: list[dict] = []
        self.order_rows: dict[uuid.UUID, list[dict]] = {}

    def __call__(self, index: int, raw: Mapping) -> dict:
        """The result of the ``index``-th record, ``raw``."""
        loaded = index < len(self.envelopes)
        mutation = self.envelopes[index] if loaded else _load_mutation(raw)
        if isinstance(mutation, ValidationError):
            return _rejected(raw, "RECORD_REJECTED", validation_detail(mutation))
        # The canonical text is hashed, and stored as the revision's body: serialised once.
        body_json = canonical_json(mutation["body"])
        body_sha = hashlib.sha256(body_json).hexdigest()
        visit_text = str(mutation["visit_id"])
        fingerprint = sha256_of(
            [
                raw["type"],
                visit_text,
                raw["revision"],
                raw["base_revision"],
                body_sha,
            ]
        )
        stored = self.stored.get(mutation["mutation_id"])
        if stored is not None:
            if stored[0] != fingerprint:
                return _rejected(raw, "KEY_REUSED")
            # The stored result again: a receipt as ``unchanged``, a refusal as it was.
            status = "unchanged" if "receipt" in stored[1] else stored[1]["status"]
            return {**stored[1], "status": status, "replayed": True, "seq": raw["seq"]}
        body = self.bodies[index] if loaded else _load_body(mutation)
        result = self.decide(raw, mutation, body, body_sha, body_json, visit_text)
        self.stored[mutation["mutation_id"]] = (fingerprint, result)
        self.mutations.append(
            {
                "mutation_id": mutation["mutation_id"],
                "device_id": self.device_id,
                "device_seq": mutation["seq"],
                "fingerprint": fingerprint,
                "result": result,
                "created_at": self.now,
            }
        )
        return result

    def decide(
        self,
        raw: Mapping,
        mutation: dict,
        body: dict | ValidationError,
        body_sha: str,
        body_json: bytes,
        visit_text: str,
    ) -> dict:
        if isinstance(body, ValidationError):
            return _rejected(raw, "RECORD_REJECTED", validation_detail(body))
        if body_sha != mutation["sha256"]:
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
        faults.on_apply(body, self.poison)

        visit_id = mutation["visit_id"]
        state = self.visits.get(visit_id)
        revision, base = mutation["revision"], mutation["base_revision"]
        if state is not None and state.user_id != self.user_id:
            return _rejected(raw, "NOT_PERMITTED")
        current = state.revision if state else 0
        if state is not None and revision == current:
            if state.sha256 == mutation["sha256"]:
                return self.receipt(raw, visit_text, state, "unchanged")
            return self.conflict(raw, state)
        if base != current or revision != current + 1:
            return self.conflict(raw, state)
        if state is not None and state.status != "returned":
            return _rejected(raw, "VISIT_LOCKED")

        status = "created" if state is None else "revised"
        if state is None:
            state = _VisitState(self.user_id, 0, "", "", self.now, new=True)
            self.visits[visit_id] = state
        state.revision, state.sha256 = revision, mutation["sha256"]
        state.status, state.received_at = "processing", self.now
        self.residents[resident["id"]] = {**resident, "updated_at": self.now}
        # Orders are decided now, so a refusal can go back in the receipt; the answers as
        # the rules see them are worked out only for a visit that orders something.
        values = referrals.view_of(definition, body).values if body["orders"] else {}
        ordered = orders.ingest_orders(
            self.user,
            visit_id,
            revision,
            resident["id"],
            body["orders"],
            values,
            body["consents"],
            self.now,
        )
        self.order_rows[visit_id] = ordered.rows
        # Referrals and the other flags are worked out after the receipt (app.central.ingest).
        self.jobs.append(
            {
                "visit_id": visit_id,
                "revision": revision,
                "ordered": ordered.ordered,
                "queued_at": self.now,
                "attempts": 0,
                "last_error": "",
            }
        )
        row = self.visit_rows.setdefault(visit_id, {"id": visit_id, "_new": state.new})
        if state.new:
            row["first_received_at"] = self.now
        row.update(
            user_id=state.user_id,
            resident_id=resident["id"],
            device_id=self.device_id,
            district=resident["district"],
            setting=visit_fields["setting"],
            kind=visit_fields["kind"],
            referral_source=visit_fields["referral_source"],
            first_contact_date=visit_fields["first_contact_date"],
            visit_date=visit_fields["visit_date"],
            flags=["policy_changed"] if ordered.policy_changed else [],
            form_id=definition.id,
            form_version=definition.version,
            revision=revision,
            sha256=mutation["sha256"],
            status="processing",
            received_at=self.now,
            updated_at=self.now,
        )
        device_time = _naive_utc(mutation["device_time"])
        self.revisions.append(
            {
                "visit_id": visit_id,
                "revision": revision,
                "sha256": mutation["sha256"],
                "body": body_json.decode(),
                "device_id": self.device_id,
                "mutation_id": mutation["mutation_id"],
                "device_time": device_time,
                "server_time": self.now,
                "clock_offset_seconds": (self.now - device_time).total_seconds(),
            }
        )
        self.audits.append(
            {
                "at": self.now,
                "actor_id": self.user_id,
                "device_id": self.device_id,
                "action": f"visit_{status}",
                "record_type": "visit",
                "record_id": visit_text,
                "note": f"revision {revision}",
            }
        )
        result = self.receipt(raw, visit_text, state, status)
        if ordered.rejected:
            # Kept with the receipt, so the tablet shows which orders were refused and why.
            result["receipt"]["orders_rejected"] = ordered.rejected
        self.changes.append(result["receipt"])
        return result

    def receipt(self, raw: Mapping, visit_text: str, state: _VisitState, status: str) -> dict:
        received = state.received_at
        receipt = {
            "visit_id": visit_text,
            "revision": state.revision,
            "sha256": state.sha256,
            "received_at": self.now_iso if received is self.now else iso(received),
        }
        return _result(raw, status, receipt=receipt)

    def conflict(self, raw: Mapping, state: _VisitState | None) -> dict:
        return _result(
            raw,
            "conflict",
            code="SYNC_CONFLICT",
            message=ERRORS["SYNC_CONFLICT"].message,
            server_revision=state.revision if state else 0,
            server_sha256=state.sha256 if state else None,
        )

    def write(self) -> None:
        """All the batch's rows, one statement per table, in the caller's transaction."""
        session = db.session
        new_residents = [r for i, r in self.residents.items() if i not in self.known_residents]
        old_residents = [r for i, r in self.residents.items() if i in self.known_residents]
        insert_many(CentralResident.__table__, new_residents)
        if old_residents:
            session.execute(update(CentralResident), old_residents)
        new_visits, old_visits = [], []
        for row in self.visit_rows.values():
            (new_visits if row.pop("_new") else old_visits).append(row)
        insert_many(CentralVisit.__table__, new_visits)
        if old_visits:
            session.execute(update(CentralVisit), old_visits)
        insert_many(VisitRevision.__table__, self.revisions, as_is=("body",))
        ingest.queue_jobs(self.jobs)
        orders.write_orders(
            [row["id"] for row in old_visits],
            [row for rows in self.order_rows.values() for row in rows],
        )
        if self.changes:
            last = next_server_seq(len(self.changes))
            first = last - len(self.changes) + 1
            insert_many(
                ChangeLogEntry.__table__,
                [
                    {
                        "server_seq": first + n,
                        "user_id": self.user_id,
                        "kind": "visit.received",
                        "record_id": receipt["visit_id"],
                        "payload": receipt,
                        "at": self.now,
                    }
                    for n, receipt in enumerate(self.changes)
                ],
            )
        insert_many(SyncMutation.__table__, self.mutations)
        insert_many(CentralAuditEvent.__table__, self.audits)


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
    batch = _Batch(device, now, request["mutations"])
    results: list[dict] = []
    halted_at = None
    for index, raw in enumerate(request["mutations"]):
        try:
            results.append(batch(index, raw))
        except Exception:
            halted_at = raw.get("seq") if isinstance(raw, Mapping) else None
            log.exception("push halted: device %s, seq %s", device.id, halted_at)
            break
    batch.write()
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
