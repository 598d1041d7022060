"""The device's side of sync: the outbox, sending it, and applying what central says.

Completing a visit writes its outbox entry in the same local transaction (``queue_visit``).
``sync_once`` then, under a lease so only one sync runs per device: pushes every entry that
has no result yet (``queued``, or ``sent`` with the outcome unknown) in ``seq`` order and
records the results in one local transaction; pulls pages of changes, applying each page and
its new cursor in one local transaction. Sending again is always safe: central answers a
mutation it has already applied with the stored result.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import Row, Text, bindparam, cast, func, select, update

from app.db import write_transaction
from app.extensions import db
from app.models import DeviceState, EquipmentOrder, HscProfile, OutboxEntry, Visit
from app.models.field import utcnow
from sync import faults
from sync.canonical import canonical_json, sha256_of
from sync.client import Encoded, Refused, SyncClient, TooLarge, TryLater, encode
from sync.order_status import apply_order_status
from sync.referral_status import apply_referral_status
from sync.schemas import PROTOCOL

log = logging.getLogger(__name__)
APP_VERSION = "0.1.0"
BATCH_RECORDS = 100
BATCH_BYTES = 512 * 1024
LEASE = timedelta(minutes=2)
UNSENT = ("queued", "sent")
NEEDS_ATTENTION = ("quarantined", "conflict")
# Sync reads and writes the outbox and visits through Core: a push handles hundreds of rows.
OUTBOX, VISITS = OutboxEntry.__table__, Visit.__table__


def _date(value) -> str | None:
    return value.isoformat() if value is not None else None


def visit_body(visit: Visit) -> dict[str, Any]:
    """The completed visit as central stores it; hashed as canonical JSON."""
    resident = visit.resident
    return {
        "visit": {
            "id": str(visit.id),
            "setting": visit.setting,
            "kind": visit.kind,
            "previous_visit_id": str(visit.previous_visit_id) if visit.previous_visit_id else None,
            "referral_source": visit.referral_source,
            "first_contact_date": _date(visit.first_contact_date),
            "visit_date": _date(visit.visit_date),
            "form_id": visit.form_id,
            "form_version": visit.form_version,
            "completed_at": visit.completed_at.replace(tzinfo=UTC).isoformat(),
        },
        "resident": {
            "id": str(resident.id),
            "given_name": resident.given_name,
            "family_name": resident.family_name,
            "date_of_birth": _date(resident.date_of_birth),
            "address_line_1": resident.address_line_1,
            "address_line_2": resident.address_line_2,
            "town": resident.town,
            "postcode": resident.postcode,
            "district": resident.district,
            "phone": resident.phone,
            "nhs_number": resident.nhs_number,
        },
        "answers": dict(visit.answers),
        "consents": dict(visit.consents),
        "orders": [_order_body(order) for order in _orders_of(visit)],
    }


def _orders_of(visit: Visit) -> list[EquipmentOrder]:
    return list(
        db.session.scalars(
            select(EquipmentOrder)
            .where(EquipmentOrder.visit_id == visit.id)
            .order_by(EquipmentOrder.created_at, EquipmentOrder.id)
        )
    )


def _order_body(order: EquipmentOrder) -> dict[str, Any]:
    return {
        "id": str(order.id),
        "catalogue_id": order.catalogue_id,
        "catalogue_version": order.catalogue_version,
        "rules_version": order.rules_version,
        "item_code": order.item_code,
        "quantity": order.quantity,
        "location": order.location,
        "side": order.side,
        "measurements": dict(order.measurements),
        "reason": order.reason,
        "acknowledged": list(order.acknowledged),
        "ta_level": order.ta_level,
        "route": order.route,
    }


def queue_visit(visit: Visit) -> OutboxEntry:
    """Add the visit's new revision to the outbox. Call inside the completing transaction."""
    visit.revision = visit.central_revision + 1
    body = visit_body(visit)
    entry = OutboxEntry(
        visit_id=visit.id,
        revision=visit.revision,
        base_revision=visit.central_revision,
        sha256=sha256_of(body),
        body=body,
    )
    db.session.add(entry)
    return entry


def device_state() -> DeviceState | None:
    return db.session.get(DeviceState, 1)


# What the HSC sees ----------------------------------------------------------------------


@dataclass(frozen=True)
class SyncSummary:
    enrolled: bool
    revoked: bool = False
    last_success_at: datetime | None = None
    last_attempt_at: datetime | None = None
    last_error: str = ""
    waiting: int = 0
    needs_attention: int = 0

    @property
    def online(self) -> bool:
        return self.enrolled and not self.last_error and self.last_success_at is not None


def summary() -> SyncSummary:
    state = device_state()
    counts = dict(
        db.session.execute(
            select(OutboxEntry.state, func.count()).group_by(OutboxEntry.state)
        ).all()
    )
    waiting = sum(counts.get(s, 0) for s in UNSENT)
    attention = sum(counts.get(s, 0) for s in NEEDS_ATTENTION)
    if state is None:
        return SyncSummary(enrolled=False, waiting=waiting, needs_attention=attention)
    return SyncSummary(
        enrolled=True,
        revoked=state.revoked,
        last_success_at=state.last_success_at,
        last_attempt_at=state.last_attempt_at,
        last_error=state.last_error,
        waiting=waiting,
        needs_attention=attention,
    )


def latest_entries(visit_ids: list) -> dict:
    """The newest outbox entry of each visit: where the visit is on its way to the office."""
    if not visit_ids:
        return {}
    newest = (
        select(OutboxEntry.visit_id, func.max(OutboxEntry.seq).label("seq"))
        .where(OutboxEntry.visit_id.in_(visit_ids))
        .group_by(OutboxEntry.visit_id)
        .subquery()
    )
    rows = db.session.scalars(select(OutboxEntry).join(newest, OutboxEntry.seq == newest.c.seq))
    return {entry.visit_id: entry for entry in rows}


# One sync ---------------------------------------------------------------------------------


@dataclass
class SyncReport:
    ran: bool = False
    pushed: dict[str, int] = field(default_factory=dict)
    pulled: int = 0
    error: str = ""
    retry_after: float | None = None


def _holder_alive(holder: str) -> bool:
    host, _, pid = holder.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return bool(holder)
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _take_lease(now: datetime) -> bool:
    me = f"{socket.gethostname()}:{os.getpid()}"
    with write_transaction():
        state = device_state()
        if state is None or state.revoked:
            return False
        held = state.sync_lease_until is not None and state.sync_lease_until >= now
        if held and _holder_alive(state.sync_lease_holder):
            return False
        state.sync_lease_until, state.sync_lease_holder = now + LEASE, me
        state.last_attempt_at = now
    return True


def _finish(report: SyncReport, now: datetime, offset: float | None) -> None:
    with write_transaction():
        state = device_state()
        state.sync_lease_until, state.sync_lease_holder = None, ""
        if report.error:
            state.failures += 1
            state.last_error = report.error
        else:
            state.failures = 0
            state.last_error = ""
            state.last_success_at = now
            if offset is not None:
                state.clock_offset_seconds = offset


def heartbeat(now: datetime, sending: list[int] | None = None) -> dict[str, Any]:
    """What central shows of this device. Entries in the push being sent are not counted:
    the heartbeat arrives with them."""
    unsent = [OUTBOX.c.state.in_(UNSENT)]
    if sending:
        unsent.append(OUTBOX.c.seq.not_in(sending))
    length, oldest = db.session.execute(
        select(func.count(), func.min(OUTBOX.c.created_at)).where(*unsent)
    ).one()
    forms = [f"{d.id}@{d.version}" for d in current_app.extensions["forms"]]
    return {
        "outbox_length": length or 0,
        "oldest_unsynced_age_seconds": None
        if oldest is None
        else int((now - oldest).total_seconds()),
        "quarantine_count": db.session.scalar(
            select(func.count()).where(OUTBOX.c.state.in_(NEEDS_ATTENTION))
        ),
        "app_version": APP_VERSION,
        "form_versions": sorted(forms),
        "device_clock": now.replace(tzinfo=UTC).isoformat(),
    }


def sync_once(make_client: Callable[[DeviceState], SyncClient] | None = None) -> SyncReport:
    """Push the outbox, pull changes, push anything new. Safe to call at any time."""
    now = utcnow()
    state = device_state()
    report = SyncReport()
    if state is None or state.revoked or not _take_lease(now):
        return report
    report.ran = True
    state = device_state()
    client = (make_client or _client)(state)
    offset = None
    try:
        offset = push_all(state, client, report)
        report.pulled = pull_all(client)
        if _unsent_count():
            push_all(state, client, report)
    except TryLater as error:
        report.error, report.retry_after = error.reason, error.retry_after
    except Refused as error:
        report.error = f"{error.code or error.status}: {error.message}"
        if error.code in ("DEVICE_REVOKED", "UNAUTHENTICATED"):
            with write_transaction():
                device_state().revoked = True
    finally:
        _finish(report, utcnow(), offset)
    return report


def _client(state: DeviceState) -> SyncClient:
    return SyncClient(state.central_url, state.token)


def _unsent_count() -> int:
    return db.session.scalar(select(func.count()).where(OutboxEntry.state.in_(UNSENT))) or 0


# A push reads its entries as columns, not ORM objects, with each body as the JSON text it
# is stored as: sent as it is, never parsed and encoded again.
_SENDING = (
    OUTBOX.c.seq,
    OUTBOX.c.mutation_id,
    OUTBOX.c.visit_id,
    OUTBOX.c.revision,
    OUTBOX.c.base_revision,
    OUTBOX.c.sha256,
    OUTBOX.c.created_at,
    cast(OUTBOX.c.body, Text).label("body"),
)


def _next_batch(limit: int, after: int = 0) -> list[Row]:
    """The next entries to send after seq ``after``, oldest first, capped by count and by
    bytes."""
    entries = db.session.execute(
        select(*_SENDING)
        .where(OUTBOX.c.state.in_(UNSENT), OUTBOX.c.seq > after)
        .order_by(OUTBOX.c.seq)
        .limit(limit)
    ).all()
    return entries[: _fitting(entries)]


def _fitting(entries: list[Row]) -> int:
    """How many of the entries fit in BATCH_BYTES of canonical JSON; at least one.

    The stored text (``app.db.json_text``, or ``json.dumps`` before it) is never shorter than
    the canonical JSON of the same value (the same compact text with the keys in another
    order, or with spaces and escaped non-ASCII), so when the stored texts fit, the
    canonical ones do and no body needs parsing to know it.
    """
    if sum(len(entry.body.encode()) for entry in entries) <= BATCH_BYTES:
        return len(entries)
    size = 0
    for count, entry in enumerate(entries):
        size += len(canonical_json(json.loads(entry.body)))
        if count and size > BATCH_BYTES:
            return count
    return len(entries)


_MUTATION = (
    '{"seq":%d,"mutation_id":"%s","type":"visit.complete","visit_id":"%s","revision":%d,'
    '"base_revision":%d,"sha256":%s,"device_time":"%s","body":%s}'
)


def _mutation(entry: Row) -> str:
    """One mutation as JSON text, with the stored body text spliced in as it is."""
    return _MUTATION % (
        entry.seq,
        entry.mutation_id,
        entry.visit_id,
        entry.revision,
        entry.base_revision,
        json.dumps(entry.sha256),
        entry.created_at.replace(tzinfo=UTC).isoformat(),
        entry.body,
    )


@dataclass
class _Request:
    """A push request made ready: the entries it carries and its body, encoded."""

    seqs: list[int]
    body: Encoded

    @property
    def last(self) -> int:
        return self.seqs[-1] if self.seqs else 0


def _request(state: DeviceState, limit: int, in_flight: _Request | None = None) -> _Request:
    """The next push request: the envelope encoded, the mutations spliced in, gzipped. With
    a request in flight, its entries are neither taken again nor counted in the heartbeat."""
    batch = _next_batch(limit, after=in_flight.last if in_flight else 0)
    seqs = [entry.seq for entry in batch]
    sending = (in_flight.seqs if in_flight else []) + seqs
    envelope = json.dumps(
        {
            "protocol": PROTOCOL,
            "device_id": str(state.device_id),
            "heartbeat": heartbeat(utcnow(), sending),
        },
        separators=(",", ":"),
    )
    mutations = ",".join([_mutation(entry) for entry in batch])
    return _Request(seqs, encode(f'{envelope[:-1]},"mutations":[{mutations}]}}'.encode()))


def push_all(state: DeviceState, client: SyncClient, report: SyncReport) -> float | None:
    """Send every entry without a result, in seq order, one request at a time. Returns the
    clock offset seen.

    The device does its own work while central does its: with a request in flight it
    records the results of the one before (marking this one ``sent`` in the same local
    transaction) and makes the next one ready, which goes as soon as the answer comes.
    Requests still reach central one after another, in seq order. Should the device stop
    anywhere, entries without a recorded result are sent again and central answers them
    with the results it stored.
    """
    limit, offset = BATCH_RECORDS, None
    answered: tuple[list[int], dict] | None = None  # results not yet recorded
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="sync-push") as http:
        request = _request(state, limit)
        while True:
            in_flight = http.submit(client.push, request.body)
            try:
                _record(answered, request.seqs, report)
                answered = None
                following = _request(state, limit, request) if request.seqs else None
            except BaseException:
                wait([in_flight])  # its entries have no result recorded: they go again
                raise
            try:
                response = in_flight.result()
            except TooLarge:
                if limit == 1:
                    raise TryLater("a visit is too large for the office server") from None
                limit = max(1, limit // 2)
                request = _request(state, limit)
                continue
            faults.at("device_after_push")  # central has acted; the results are not yet recorded
            offset = _server_offset(response)
            answered = (request.seqs, response)
            if response.get("halted_at") is not None:
                _record(answered, [], report)
                raise TryLater("the office server stopped part way: will try again")
            if following is None or not following.seqs:
                _record(answered, [], report)
                answered = None
                if not request.seqs or not _unsent_count():
                    return offset
                following = _request(state, limit)
            request = following


def _server_offset(response: dict) -> float | None:
    try:
        server_time = datetime.fromisoformat(response["server_time"])
    except (KeyError, TypeError, ValueError):
        return None
    return (server_time.astimezone(UTC).replace(tzinfo=None) - utcnow()).total_seconds()


def _record(answered: tuple[list[int], dict] | None, sending: list[int], report) -> None:
    """In one local transaction: a push's results (``answered``: its entries and central's
    answer), and the entries of the request now in flight marked ``sent``."""
    if answered is None and not sending:
        return
    now = utcnow()
    with write_transaction():
        if sending:
            db.session.execute(
                update(OUTBOX)
                .where(OUTBOX.c.seq.in_(sending))
                .values(state="sent", sent_at=now, attempts=OUTBOX.c.attempts + 1)
            )
        if answered is not None:
            _apply_results(*answered, report, now)


def _apply_results(seqs: list[int], response: dict, report: SyncReport, now: datetime) -> None:
    """Record a push's results: one multi-row update for the entries (one per set of
    columns), one for the visits."""
    results = {r.get("mutation_id"): r for r in response.get("results", [])}
    times: dict[str | None, datetime | None] = {}  # a push's receipts share one received_at
    entries = db.session.execute(
        select(
            OUTBOX.c.seq,
            OUTBOX.c.mutation_id,
            VISITS.c.id,
            VISITS.c.central_revision,
            VISITS.c.office_status,
            VISITS.c.received_at,
        )
        .join_from(OUTBOX, VISITS, OUTBOX.c.visit_id == VISITS.c.id)
        .where(OUTBOX.c.seq.in_(seqs))
        .order_by(OUTBOX.c.seq)
    ).all()
    visits = {
        row.id: {
            "b_id": row.id,
            "central_revision": row.central_revision,
            "office_status": row.office_status,
            "received_at": row.received_at,
        }
        for row in entries
    }
    updates = []
    for seq, mutation_id, visit_id, *_ in entries:
        result = results.get(str(mutation_id))
        if result is None:  # the server halted before it: send again next time
            updates.append({"b_seq": seq, "state": "queued"})
            continue
        status = result.get("status", "")
        report.pushed[status] = report.pushed.get(status, 0) + 1
        visit = visits[visit_id]
        if status in ("created", "revised", "unchanged"):
            receipt = result.get("receipt", {})
            updates.append(
                {
                    "b_seq": seq,
                    "state": "acknowledged",
                    "receipt": receipt,
                    "acknowledged_at": now,
                }
            )
            visit["central_revision"] = max(visit["central_revision"], int(receipt["revision"]))
            received_at = receipt.get("received_at")
            if received_at not in times:
                times[received_at] = _parse_time(received_at)
            visit["received_at"] = times[received_at]
            if visit["office_status"] in ("", "needs_correcting", "conflict"):
                visit["office_status"] = "received"
        else:
            problem = {k: result.get(k) for k in ("code", "message", "errors", "server_revision")}
            conflict = status == "conflict"
            updates.append(
                {
                    "b_seq": seq,
                    "state": "conflict" if conflict else "quarantined",
                    "problem": problem,
                }
            )
            visit["office_status"] = "conflict" if conflict else "needs_correcting"
    shapes: dict[tuple[str, ...], list[dict]] = {}
    for row in updates:  # one statement per set of columns
        shapes.setdefault(tuple(row), []).append(row)
    for rows in shapes.values():
        db.session.execute(update(OUTBOX).where(OUTBOX.c.seq == bindparam("b_seq")), rows)
    if visits:
        db.session.execute(
            update(VISITS).where(VISITS.c.id == bindparam("b_id")), list(visits.values())
        )


def _parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(value).astimezone(UTC).replace(tzinfo=None)


def pull_all(client: SyncClient) -> int:
    applied = 0
    while True:
        cursor = device_state().pull_cursor
        try:
            page = client.pull(cursor)
        except Refused as error:
            if error.code != "CURSOR_AHEAD":
                raise
            with write_transaction():  # the server was restored: read everything again
                device_state().pull_cursor = 0
            continue
        applied += apply_pull(page)
        if not page.get("has_more"):
            return applied


OFFICE_STATUSES = {
    "visit.received": "received",
    "visit.approved": "approved",
    "visit.returned": "returned",
}


def apply_pull(page: dict) -> int:
    """Apply one page and store its cursor in one transaction; applying twice is harmless."""
    with write_transaction():
        state = device_state()
        for change in page.get("changes", []):
            _apply_change(change)
        reference = page.get("reference", {})
        profile = reference.get("profile")
        if profile:
            _apply_profile(state, profile)
        if "forms" in reference:
            state.central_forms = reference["forms"]
        state.pull_cursor = max(state.pull_cursor, int(page.get("next_cursor", state.pull_cursor)))
        faults.at("device_pull_before_commit")
    return len(page.get("changes", []))


def _apply_change(change: dict) -> None:
    kind = change.get("kind", "")
    if kind == "referral.status":
        apply_referral_status(change)
        return
    if kind == "order.status":
        apply_order_status(change)
        return
    status = OFFICE_STATUSES.get(kind)
    if status is None:
        log.warning("pull: unknown change kind %r ignored", kind)
        return
    payload = change.get("payload", {})
    try:
        visit = db.session.get(Visit, uuid.UUID(str(change.get("id"))))
    except ValueError:
        visit = None
    if visit is None:
        return
    if status == "received" and visit.office_status == "conflict":
        return  # central's own copy being received is no answer to this device's conflict
    revision = int(payload.get("revision", 0))
    if revision < visit.central_revision or (
        status == "received"
        and visit.office_status in ("approved", "returned")
        and revision == visit.central_revision
    ):
        return  # older news than the device already has
    visit.central_revision = max(visit.central_revision, revision)
    visit.office_status = status
    visit.office_comment = payload.get("comment", "") if status == "returned" else ""
    if payload.get("received_at"):
        visit.received_at = _parse_time(payload["received_at"])
    if status == "returned":
        visit.status = "draft"  # editable again; completing it sends revision n + 1


def _apply_profile(state: DeviceState, profile: dict) -> None:
    local = db.session.get(HscProfile, state.profile_id)
    if local is None or int(profile.get("version", 0)) <= local.profile_version:
        return
    local.name = profile.get("name", local.name)
    local.ta_level = profile.get("ta_level", local.ta_level)
    local.profile_version = int(profile["version"])


# Enrolment and the background worker -----------------------------------------------------


class AlreadyEnrolled(Exception):
    pass


def enrol(central_url: str, code: str, passphrase_hash: str, device_name: str = "") -> HscProfile:
    """Exchange a one-time code for a device id and token; set up the owner's profile."""
    if device_state() is not None:
        raise AlreadyEnrolled("this device is already enrolled")
    client = SyncClient(central_url)
    answer = client.enrol(code.strip().upper(), device_name, APP_VERSION, PROTOCOL)
    profile_data = answer["profile"]
    with write_transaction():
        profile = db.session.scalar(
            select(HscProfile).where(HscProfile.email == profile_data["email"].lower())
        )
        if profile is None:
            profile = HscProfile(email=profile_data["email"].lower())
            db.session.add(profile)
        profile.name = profile_data["name"]
        profile.ta_level = profile_data["ta_level"]
        profile.central_user_id = uuid.UUID(profile_data["user_id"])
        profile.profile_version = int(profile_data["version"])
        profile.passphrase_hash = passphrase_hash
        profile.active = True
        db.session.flush()
        db.session.add(
            DeviceState(
                id=1,
                central_url=central_url.rstrip("/"),
                device_id=uuid.UUID(answer["device_id"]),
                token=answer["token"],
                profile_id=profile.id,
            )
        )
    return profile
