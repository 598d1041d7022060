"""Real field-node processes for integration and browser tests.

A node is ``python -m app field serve`` in a subprocess, with its own instance folder and
SQLite file, on a free loopback port. ``kill()`` sends SIGKILL, as a crash or a flat
battery would; ``start()`` again brings the same node back on the same database.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Node:
    """A node process of either role, with its own folder, database and port."""

    role = "field"
    serve_args: tuple[str, ...] = ()

    def __init__(self, directory: Path, **env: str) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None
        self._log = None
        self.log_path = directory / f"{self.role}.log"
        self.db_path = directory / f"{self.role}.db"
        self.env = {
            **os.environ,
            "HMOT_ENV": "test",
            "HMOT_INSTANCE_DIR": str(directory / "instance"),
            "DATABASE_URL": f"sqlite:///{self.db_path}",
            "HMOT_SYNC_INTERVAL": "1",
            **env,
        }

    def run(self, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
        """A CLI command of this node's role in its own process; the outcome is the caller's."""
        return subprocess.run(
            [sys.executable, "-m", "app", self.role, *args],
            cwd=ROOT,
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=120,
        )

    def command(self, *args: str, env: dict | None = None) -> str:
        result = subprocess.run(
            [sys.executable, "-m", "app", self.role, *args],
            cwd=ROOT,
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    def start(self) -> Node:
        if self.process is not None:  # restarting after a crash or a kill: reap the old one
            self.kill()
        self._log = self.log_path.open("a")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "app",
                self.role,
                "serve",
                "--port",
                str(self.port),
                *list(self.serve_args),
            ],
            cwd=ROOT,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.role} node exited: {self.log_path.read_text()}")
            try:
                if requests.get(f"{self.url}/_status", timeout=1).ok:
                    return self
            except requests.ConnectionError:
                time.sleep(0.1)
        raise RuntimeError(f"{self.role} node did not start in 30 s")

    def kill(self) -> None:
        """SIGKILL: no clean shutdown, no chance to flush anything."""
        if self.process and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        self._close_log()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()
        self._close_log()

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None


class FieldNode(Node):
    role = "field"

    def create_hsc(self, name: str, email: str, passphrase: str) -> None:
        self.command("db", "upgrade")
        self.command(
            "create-hsc", "--name", name, "--email", email, env={"HMOT_PASSPHRASE": passphrase}
        )

    def enrol(self, central_url: str, code: str, passphrase: str) -> None:
        self.command("db", "upgrade")
        self.command(
            "enrol", "--central", central_url, "--code", code, env={"HMOT_PASSPHRASE": passphrase}
        )


class CentralNode(Node):
    """Central, working out referrals in a thread of its web process, or, with
    ``separate_worker``, in a ``central work`` process beside it (as the Procfile runs it)."""

    role = "central"

    def __init__(self, directory: Path, *, separate_worker: bool = False, **env: str) -> None:
        super().__init__(directory, **env)
        self.separate_worker = separate_worker
        self.serve_args = ("--no-ingest-worker",) if separate_worker else ()
        self.worker: subprocess.Popen | None = None

    def start(self, *, worker: bool = True) -> CentralNode:
        """Start central; with a separate worker, start that too unless ``worker`` is off."""
        super().start()
        if self.separate_worker and worker:
            self.start_worker()
        return self

    def start_worker(self) -> subprocess.Popen:
        self.worker = subprocess.Popen(
            [sys.executable, "-m", "app", self.role, "work", "--interval", "0.2"],
            cwd=ROOT,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        return self.worker

    def kill_worker(self) -> None:
        if self.worker and self.worker.poll() is None:
            os.kill(self.worker.pid, signal.SIGKILL)
            self.worker.wait(timeout=10)

    def kill(self) -> None:
        self.kill_worker()
        super().kill()

    def stop(self) -> None:
        if self.worker and self.worker.poll() is None:
            self.worker.terminate()
            try:
                self.worker.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill_worker()
        super().stop()

    def create_hsc(self, name: str, email: str, district: str = "blaby") -> str:
        """An HSC account, and a one-time enrolment code for it."""
        self.command("db", "upgrade")
        self.command(
            "create-user",
            "--name",
            name,
            "--email",
            email,
            "--role",
            "hsc",
            "--district",
            district,
            env={"HMOT_PASSWORD": "a long password 1"},
        )
        output = self.command("create-enrolment-code", "--email", email)
        return re.search(r"[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}", output).group(0)


def start_with_field(central: CentralNode, directory: Path, code: str, passphrase: str):
    """Start ``central``, then a field node enrolled to it with ``code`` that syncs every
    second (backoff capped at 2 s), as the browser tests want it. Returns the field node."""
    central.start()
    field = FieldNode(directory, HMOT_SYNC_INTERVAL="1", HMOT_SYNC_BACKOFF_CAP="2")
    field.enrol(central.url, code, passphrase)
    return field.start()
