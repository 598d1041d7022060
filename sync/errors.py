"""The sync API's error catalogue: stable codes, never reused, each with an HTTP status and
a message in plain English. Devices act on the code; people read the message."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ErrorCode:
    code: str
    status: int
    message: str


_CATALOGUE = [
    ErrorCode("MALFORMED_BODY", 400, "The request body is not valid JSON (or not valid gzip)."),
    ErrorCode("VALIDATION_FAILED", 400, "The request has fields that are missing or not valid."),
    ErrorCode("UNSUPPORTED_PROTOCOL", 400, "This app is too old for the office server: update it."),
    ErrorCode("BAD_CURSOR", 400, "The pull cursor must be a whole number of 0 or more."),
    ErrorCode("UNAUTHENTICATED", 401, "This device is not signed in to the office server."),
    ErrorCode("DEVICE_REVOKED", 403, "This device has been revoked. Ask an administrator."),
    ErrorCode("NOT_PERMITTED", 403, "This device may not do that."),
    ErrorCode("ENROLMENT_CODE_INVALID", 400, "The enrolment code is not recognised."),
    ErrorCode("ENROLMENT_CODE_EXPIRED", 400, "The enrolment code has expired. Ask for a new one."),
    ErrorCode("ENROLMENT_CODE_USED", 400, "The enrolment code has already been used."),
    ErrorCode(
        "NOT_AN_HSC", 400, "Only a Housing Support Coordinator's account can enrol a device."
    ),
    ErrorCode("PUSH_IN_PROGRESS", 409, "Another sync from this device is still running."),
    ErrorCode("CURSOR_AHEAD", 409, "The pull cursor is ahead of the server: start again from 0."),
    ErrorCode("PAYLOAD_TOO_LARGE", 413, "The request is too large: send fewer records at a time."),
    ErrorCode("UNSUPPORTED_ENCODING", 415, "Send the request body as plain JSON or gzip."),
    ErrorCode("SERVER_BUSY", 503, "The office server is busy. Try again shortly."),
    ErrorCode("SERVER_ERROR", 500, "The office server met an unexpected problem."),
    ErrorCode("NOT_FOUND", 404, "There is no such address in the sync API."),
    ErrorCode("METHOD_NOT_ALLOWED", 405, "That method is not allowed at this address."),
    # Per-record results of a push (not HTTP errors: the push answers 200 with these).
    ErrorCode("SYNC_CONFLICT", 409, "The office has a different version of this visit."),
    ErrorCode("RECORD_REJECTED", 422, "The office could not accept this visit as it is."),
    ErrorCode("HASH_MISMATCH", 422, "The visit changed on its way to the office."),
    ErrorCode("KEY_REUSED", 422, "This record was already sent with different content."),
    ErrorCode("VISIT_LOCKED", 422, "The office has this visit and it is not open for changes."),
    ErrorCode("UNKNOWN_FORM_VERSION", 422, "The office does not have this version of the form."),
    # Per-order results within an accepted visit: the order is refused, the visit is kept.
    ErrorCode(
        "ORDER_NOT_PERMITTED",
        403,
        "Only a trusted assessor can order equipment: the order was not accepted.",
    ),
    ErrorCode("ORDER_REJECTED", 422, "The office could not accept this equipment order."),
]
ERRORS: dict[str, ErrorCode] = {error.code: error for error in _CATALOGUE}


class SyncError(Exception):
    """An error answer from the sync API."""

    def __init__(self, code: str, *, detail: dict | None = None, retry_after: int | None = None):
        super().__init__(code)
        self.error = ERRORS[code]
        self.detail = detail or {}
        self.retry_after = retry_after

    def body(self) -> dict:
        body = {"error": self.error.code, "message": self.error.message}
        if self.detail:
            body["detail"] = self.detail
        return body
