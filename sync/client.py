"""The device's HTTP client for the sync API (requests).

It sends and receives; it decides nothing about the outbox. Every call has explicit
(connect, read) timeouts — requests has none by default — and failures are sorted into the
few kinds the sync loop acts on: try again later (network, 5xx, 409, 429, 503, honouring
Retry-After), send fewer records (413), send uncompressed (415), stop and tell someone (401,
403, other 4xx).
"""

from __future__ import annotations

import gzip
import json
import os
from dataclasses import dataclass
from typing import Any

import orjson
import requests

TIMEOUT = (5.0, float(os.environ.get("HMOT_SYNC_READ_TIMEOUT", "30")))
COMPRESS_OVER = 1024
# Level 1: a visit's JSON comes out about 5% larger than at level 6, for under half the CPU.
COMPRESS_LEVEL = 1


class TryLater(Exception):
    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class TooLarge(Exception):
    """The batch was too large for the server: send fewer records at a time."""


class Refused(Exception):
    """A permanent answer (revoked, unauthenticated, bad request): stop and surface it."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After", "")
    return float(value) if value.replace(".", "", 1).isdigit() else None


def _error(response: requests.Response) -> tuple[str, str]:
    try:
        body = response.json()
        return str(body.get("error", "")), str(body.get("message", ""))
    except ValueError:
        return "", response.reason or ""


@dataclass(frozen=True)
class Encoded:
    """A request body made ready to send: its UTF-8 JSON, and that gzipped when large enough
    to be worth it (the device does this while the request before is still with central)."""

    text: bytes
    gzipped: bytes | None


def encode(body: Any) -> Encoded:
    """``body`` as a value to send as JSON, or bytes that already are UTF-8 JSON."""
    text = body if isinstance(body, bytes) else json.dumps(body, separators=(",", ":")).encode()
    gzipped = (
        gzip.compress(text, compresslevel=COMPRESS_LEVEL) if len(text) > COMPRESS_OVER else None
    )
    return Encoded(text, gzipped)


@dataclass
class SyncClient:
    central_url: str
    token: str = ""
    session: requests.Session | None = None
    timeout: tuple[float, float] = TIMEOUT

    def __post_init__(self) -> None:
        self.central_url = self.central_url.rstrip("/")
        self.session = self.session or requests.Session()

    def _headers(self) -> dict[str, str]:
        headers = {"Accept": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return headers

    def _send(
        self, method: str, path: str, *, body: Any = None, params=None, compress: bool = True
    ) -> Any:
        """``body`` is a value to send as JSON, bytes that already are UTF-8 JSON, or an
        ``Encoded`` body."""
        headers = self._headers()
        data = None
        if body is not None:
            encoded = body if isinstance(body, Encoded) else encode(body)
            data = encoded.text
            headers["Content-Type"] = "application/json"
            if compress and encoded.gzipped is not None:
                data = encoded.gzipped
                headers["Content-Encoding"] = "gzip"
        try:
            response = self.session.request(
                method,
                self.central_url + path,
                data=data,
                params=params,
                headers=headers,
                timeout=self.timeout,
            )
        except (requests.ConnectionError, requests.Timeout) as error:
            raise TryLater(f"office server not reachable ({type(error).__name__})") from None
        status = response.status_code
        if status in (200, 201):
            try:
                return orjson.loads(response.content)
            except ValueError:
                raise TryLater("office server sent an unreadable answer") from None
        code, message = _error(response)
        if status == 413:
            raise TooLarge(message)
        if status == 415 and compress:
            return self._send(method, path, body=body, params=params, compress=False)
        if status in (409, 429, 500, 502, 503, 504) and code != "CURSOR_AHEAD":
            raise TryLater(f"{status} {code or response.reason}", _retry_after(response))
        raise Refused(status, code, message)

    def enrol(self, code: str, device_name: str, app_version: str, protocol: int) -> dict:
        body = {
            "protocol": protocol,
            "code": code,
            "device_name": device_name,
            "app_version": app_version,
        }
        return self._send("POST", "/api/v1/devices/enrol", body=body)

    def push(self, body: dict | bytes | Encoded) -> dict:
        """``body`` as a dict, as the UTF-8 JSON text of one (the device splices its stored
        visit bodies into the request rather than parse and encode them again), or encoded."""
        return self._send("POST", "/api/v1/sync/push", body=body)

    def pull(self, cursor: int) -> dict:
        return self._send("GET", "/api/v1/sync/pull", params={"cursor": cursor})
