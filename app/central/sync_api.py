"""The sync API devices talk to: JSON only, bearer tokens, no cookies, no CSRF (on purpose).

Every answer, error or not, is JSON with a stable code from ``sync.errors``; bad input is a
4xx that changes nothing, never a 500.
"""

from __future__ import annotations

import uuid
import zlib
from typing import Any

from flask import Blueprint, current_app, g, jsonify, request
from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from app.central import accounts, ingest
from app.db import json_text, write_transaction
from app.extensions import csrf, db
from app.models import Device
from app.models.field import utcnow
from sync import fastload, faults, server
from sync.canonical import read_json
from sync.errors import SyncError
from sync.fastload import compile_loader
from sync.schemas import (
    PROTOCOL,
    EnrolRequestSchema,
    PushRequestSchema,
    validation_detail,
)

bp = Blueprint("sync_api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)
MAX_DECOMPRESSED = 16 * 1024 * 1024


@bp.errorhandler(SyncError)
def _sync_error(error: SyncError):
    response = jsonify(error.body())
    response.status_code = error.error.status
    if error.retry_after is not None:
        response.headers["Retry-After"] = str(error.retry_after)
    return response


@bp.errorhandler(HTTPException)
def _http_error(error: HTTPException):
    code = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED", 413: "PAYLOAD_TOO_LARGE"}.get(
        error.code or 400, "MALFORMED_BODY"
    )
    return _sync_error(SyncError(code))


@bp.errorhandler(OperationalError)
def _busy(error: OperationalError):
    current_app.logger.warning("sync API: database busy (%s)", type(error.orig).__name__)
    return _sync_error(SyncError("SERVER_BUSY", retry_after=1))


@bp.errorhandler(Exception)
def _unexpected(error: Exception):
    current_app.logger.exception("sync API: unexpected error")
    return _sync_error(SyncError("SERVER_ERROR", retry_after=5))


def _json_body() -> Any:
    encoding = request.headers.get("Content-Encoding", "identity").lower()
    if encoding not in ("identity", "gzip"):
        raise SyncError("UNSUPPORTED_ENCODING")
    try:
        data = request.get_data(cache=False)
    except RequestEntityTooLarge:
        raise SyncError("PAYLOAD_TOO_LARGE") from None
    if encoding == "gzip":
        # MAX_CONTENT_LENGTH caps the compressed size; cap what it inflates to as well.
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            data = inflater.decompress(data, MAX_DECOMPRESSED + 1)
        except zlib.error:
            raise SyncError("MALFORMED_BODY") from None
        if len(data) > MAX_DECOMPRESSED or inflater.unconsumed_tail:
            raise SyncError("PAYLOAD_TOO_LARGE")
        if not inflater.eof:
            raise SyncError("MALFORMED_BODY")
    try:
        return read_json(data)
    except ValueError:  # UnicodeDecodeError included
        raise SyncError("MALFORMED_BODY") from None


PUSH_REQUEST = PushRequestSchema()
LOAD_PUSH_REQUEST = compile_loader(PUSH_REQUEST)


def _load(schema, body: Any, loader=None) -> dict:
    if not isinstance(body, dict):
        raise SyncError("MALFORMED_BODY")
    if body.get("protocol") != PROTOCOL:
        raise SyncError("UNSUPPORTED_PROTOCOL", detail={"supported": [PROTOCOL]})
    try:
        return fastload.load(schema, loader, body) if loader else schema.load(body)
    except ValidationError as error:
        raise SyncError("VALIDATION_FAILED", detail=validation_detail(error)) from None


def _device() -> Device:
    """The device whose bearer token this is; refused if unknown or revoked."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise SyncError("UNAUTHENTICATED")
    device = accounts.get_device_by_token(token.strip())
    if device is None:
        raise SyncError("UNAUTHENTICATED")
    if device.revoked_at is not None:
        raise SyncError("DEVICE_REVOKED")
    if not device.user.active:
        raise SyncError("NOT_PERMITTED")
    g.device_id = device.id
    return device


@bp.post("/devices/enrol")
def enrol():
    payload = _load(EnrolRequestSchema(), _json_body())
    now = utcnow()
    device_id = uuid.uuid4()
    try:
        with write_transaction():
            user = accounts.redeem_enrolment_code(payload["code"], device_id, now)
            device, token = accounts.new_device(
                user, payload["device_name"], now, device_id=device_id
            )
    except accounts.EnrolmentRefused as refused:
        raise SyncError(refused.code) from None
    return jsonify(
        device_id=str(device.id),
        token=token,
        profile=server.profile_of(user),
        server_time=server.iso(now),
    ), 201


@bp.post("/sync/push")
def push():
    body = _json_body()
    device_id = _device().id  # kept: the commit expires the device object
    payload = _load(PUSH_REQUEST, body, LOAD_PUSH_REQUEST)
    if payload["device_id"] != device_id:
        raise SyncError("NOT_PERMITTED", detail={"device_id": ["Not this token's device."]})
    with write_transaction():
        # One push per device at a time: on PostgreSQL the row lock makes a second push
        # wait; on SQLite the write lock taken at BEGIN IMMEDIATE already does.
        device = db.session.scalars(
            select(Device).where(Device.id == device_id).with_for_update()
        ).one()
        outcome = server.apply_push(device, payload)
        faults.at("before_commit")
    faults.at("after_commit")
    ingest.after_push(current_app._get_current_object())
    counts: dict[str, int] = {}
    for result in outcome.results:
        counts[result["status"]] = counts.get(result["status"], 0) + 1
    current_app.logger.info(
        "push device=%s mutations=%d results=%s halted_at=%s",
        device_id,
        len(payload["mutations"]),
        counts,
        outcome.halted_at,
    )
    answer = {
        "results": outcome.results,
        "halted_at": outcome.halted_at,
        "server_time": server.iso(utcnow()),
    }
    response = current_app.response_class(json_text(answer), mimetype="application/json")
    # Freeing the parsed push (hundreds of thousands of small objects) takes milliseconds the
    # device need not wait for: they are kept until the answer has been sent.
    kept = [body, payload, outcome]
    response.call_on_close(kept.clear)
    return response


@bp.get("/sync/pull")
def pull():
    device = _device()
    raw = request.args.get("cursor", "0")
    if not raw.isdigit():
        raise SyncError("BAD_CURSOR")
    cursor = int(raw)
    if cursor > server.current_server_seq():
        raise SyncError("CURSOR_AHEAD", detail={"server_seq": server.current_server_seq()})
    return jsonify(server.pull_page(device.user, cursor))
