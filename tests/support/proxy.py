"""A small HTTP fault-injecting proxy for the sync failure tests.

It sits between a field node and central on loopback and, request by request, does what
its plan says: pass the request on, lose it, lose the response after central has acted,
deliver it twice, delay it, or reset the connection. Requests beyond the plan pass.
"""

from __future__ import annotations

import socket
import threading
import time
from collections import deque

from tests.support.nodes import free_port

ACTIONS = ("pass", "drop_request", "drop_response", "duplicate", "delay", "reset")


def _read_message(sock: socket.socket) -> bytes | None:
    """One HTTP/1.1 message (headers and a Content-Length body); None when the peer closed."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return data or None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body


class FaultProxy:
    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.plan: deque[str] = deque()
        self.delay_seconds = 3.0
        self.seen: list[tuple[str, str]] = []  # (request line, action)
        self.lock = threading.Lock()
        self.server = socket.create_server(("127.0.0.1", self.port))
        self.running = True
        threading.Thread(target=self._accept, daemon=True).start()

    def then(self, *actions: str) -> FaultProxy:
        assert all(a in ACTIONS for a in actions), actions
        with self.lock:
            self.plan.extend(actions)
        return self

    def close(self) -> None:
        self.running = False
        self.server.close()

    def _accept(self) -> None:
        while self.running:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _next_action(self) -> str:
        with self.lock:
            return self.plan.popleft() if self.plan else "pass"

    def _upstream(self, request: bytes) -> bytes | None:
        with socket.create_connection(("127.0.0.1", self.upstream_port), timeout=60) as up:
            up.sendall(request)
            return _read_message(up)

    def _serve(self, client: socket.socket) -> None:
        with client:
            while True:
                try:
                    request = _read_message(client)
                except OSError:
                    return
                if not request:
                    return
                action = self._next_action()
                with self.lock:
                    self.seen.append((request.split(b"\r\n", 1)[0].decode(), action))
                if action in ("drop_request", "reset"):
                    if action == "reset":
                        client.setsockopt(
                            socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\0\0\0\0\0\0\0"
                        )
                    return
                if action == "delay":
                    time.sleep(self.delay_seconds)
                try:
                    response = self._upstream(request)
                    if action == "duplicate":
                        response = self._upstream(request)
                except OSError:
                    return
                if action == "drop_response" or response is None:
                    return  # central acted; the device never hears of it
                try:
                    client.sendall(response)
                except OSError:
                    return

    def requests_seen(self, path: str) -> list[str]:
        with self.lock:
            return [action for line, action in self.seen if path in line]
