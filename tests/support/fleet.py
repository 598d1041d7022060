"""A fleet for the failure tests: one central and any number of enrolled devices, each with
its own user and fault proxy, fast to set up (nodes start from the session's migrated
template databases; accounts and enrolment codes are made in-process on central's database;
only the enrolment runs the device's CLI). ``Device.assert_converged`` checks the invariants
for one device's scope.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask

from app import create_app
from app.central import accounts
from app.central.account_rules import AccountDetails
from app.extensions import db
from tests.integration.conftest import PASSPHRASE, rows
from tests.support.complete_visit import complete_visit
from tests.support.nodes import ROOT, CentralNode, FieldNode, Node
from tests.support.proxy import FaultProxy

PASSWORD = "a long password 1"


# Nodes, fast to set up ---------------------------------------------------------------------


@contextmanager
def in_app(node: Node) -> Iterator[Flask]:
    """The node's app in this process, on the node's database (which the node may be using)."""
    app = create_app(node.role, "test", SQLALCHEMY_DATABASE_URI=f"sqlite:///{node.db_path}")
    with app.app_context():
        try:
            yield app
        finally:
            db.session.remove()
            db.engine.dispose()


def hex_id(value: str | uuid.UUID) -> str:
    """How SQLAlchemy's ``Uuid`` column stores a UUID in SQLite."""
    return uuid.UUID(str(value)).hex


@dataclass
class Device:
    """An enrolled field node (its own user), talking to central through its own proxy."""

    central: CentralNode
    proxy: FaultProxy
    field: FieldNode
    email: str
    completed: list[str] = dataclasses.field(default_factory=list)  # by this test run

    def complete_each(self, answer_sets: list[dict[str, Any]]) -> list[str]:
        """Complete one visit per answer set, each with its outbox entry, as the journey does."""
        with in_app(self.field):
            ids = [complete_visit(self.email, **answers) for answers in answer_sets]
        self.completed.extend(ids)
        return ids

    def complete_visits(self, count: int = 1, **answers: Any) -> list[str]:
        return self.complete_each([answers] * count)

    def sync(self, **env: str) -> subprocess.CompletedProcess:
        return self.field.run("sync", env=env)

    def start_sync(self, **env: str) -> subprocess.Popen:
        """A sync process left running, so several devices can sync at once."""
        return subprocess.Popen(
            [sys.executable, "-m", "app", "field", "sync"],
            cwd=ROOT,
            env={**self.field.env, **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def state(self) -> dict[str, Any]:
        [found] = rows(
            self.field.db_path,
            "SELECT device_id, token, pull_cursor, last_error, failures FROM device_state",
        )
        names = ("device_id", "token", "pull_cursor", "last_error", "failures")
        return dict(zip(names, found, strict=True))

    def outbox(self) -> list[tuple]:
        """(visit_id, revision, state, mutation_id, sha256) of every entry, in seq order."""
        return rows(
            self.field.db_path,
            "SELECT visit_id, revision, state, mutation_id, sha256 FROM outbox ORDER BY seq",
        )

    def outbox_states(self) -> dict[str, str]:
        """Each visit's newest outbox state, keyed by the visit's id as the app prints it."""
        return {str(uuid.UUID(r[0])): r[2] for r in self.outbox()}

    def central_visits(self) -> dict[str, tuple]:
        """This device's visits on central: id → (revision, sha256, status, received_at)."""
        found = rows(
            self.central.db_path,
            "SELECT id, revision, sha256, status, received_at FROM central_visit "
            "WHERE device_id = ?",
            hex_id(self.state()["device_id"]),
        )
        return {str(uuid.UUID(r[0])): r[1:] for r in found}

    def assert_converged(self) -> None:
        """I1, I2, I4 for this device: each completed visit is on central exactly once, every
        stored revision is explained by exactly one applied mutation, and the device's view
        of each visit equals central's, with nothing left to send."""
        completed = rows(
            self.field.db_path,
            "SELECT id, central_revision, office_status, received_at FROM visit "
            "WHERE status = 'completed'",
        )
        assert {str(uuid.UUID(r[0])) for r in completed} >= set(self.completed), "a visit is lost"
        central = self.central_visits()
        assert set(central) == {str(uuid.UUID(r[0])) for r in completed}, (
            "central and the device differ"
        )
        for visit_id, revision, office_status, received_at in completed:
            server_revision, _, _, server_received_at = central[str(uuid.UUID(visit_id))]
            assert server_revision == revision, f"{visit_id}: revision differs"
            assert office_status == "received", f"{visit_id}: device says {office_status!r}"
            assert received_at == server_received_at, f"{visit_id}: receipt time differs"
        assert_central_consistent(self.central)
        states = {r[2] for r in self.outbox()}
        assert states <= {"acknowledged"}, self.outbox()
        # Each acknowledged entry's receipt is a revision central really holds.
        receipts = rows(self.field.db_path, "SELECT visit_id, receipt FROM outbox")
        stored = set(
            rows(self.central.db_path, "SELECT visit_id, revision, sha256 FROM visit_revision")
        )
        for visit_id, receipt in receipts:
            receipt = json.loads(receipt)
            assert (visit_id, receipt["revision"], receipt["sha256"]) in stored, receipt


def assert_central_consistent(central: CentralNode) -> None:
    """No visit or revision twice; every revision comes from exactly one applied mutation."""
    duplicates = rows(
        central.db_path,
        "SELECT visit_id, revision, count(*) FROM visit_revision "
        "GROUP BY visit_id, revision HAVING count(*) > 1",
    )
    assert duplicates == [], "a revision is stored twice"
    unexplained = rows(
        central.db_path,
        "SELECT r.visit_id, r.revision FROM visit_revision r "
        "LEFT JOIN sync_mutation m ON m.mutation_id = r.mutation_id "
        "WHERE m.mutation_id IS NULL",
    )
    assert unexplained == [], "a revision no applied mutation explains"
    reused = rows(
        central.db_path,
        "SELECT mutation_id FROM visit_revision GROUP BY mutation_id HAVING count(*) > 1",
    )
    assert reused == [], "one mutation stored two revisions"
    latest = rows(
        central.db_path,
        "SELECT v.id FROM central_visit v LEFT JOIN visit_revision r "
        "ON r.visit_id = v.id AND r.revision = v.revision AND r.sha256 = v.sha256 "
        "WHERE r.id IS NULL",
    )
    assert latest == [], "a visit whose current revision is not stored"


class Fleet:
    """One central process and any number of enrolled devices, each with its own proxy."""

    def __init__(self, tmp: Path, templates: dict[str, Path]) -> None:
        self.tmp = tmp
        self.templates = templates
        self.central: CentralNode | None = None
        self.devices: list[Device] = []

    def start_central(self, **env: str) -> CentralNode:
        central = CentralNode(self.tmp / "central", **env)
        shutil.copy(self.templates["central"], central.db_path)
        self.central = central.start()
        return central

    def enrolment_code(self, name: str, email: str) -> str:
        """An HSC account on central and a one-time code to enrol a device for it."""
        details = AccountDetails(name=name, email=email, role="hsc", districts=("blaby",))
        with in_app(self.central):
            user = accounts.create_user(None, details.normalised(), PASSWORD)
            _, code = accounts.create_enrolment_code(None, user.id)
        return code

    def add_device(self, name: str, email: str) -> Device:
        return self.add_devices((name, email))[0]

    def add_devices(self, *people: tuple[str, str]) -> list[Device]:
        """A device enrolled for each (name, email), the enrolments running side by side."""
        devices, enrolments = [], []
        for name, email in people:
            code = self.enrolment_code(name, email)
            proxy = FaultProxy(self.central.port)
            device = Device(self.central, proxy, FieldNode(self.tmp / f"field-{email}"), email)
            self.devices.append(device)
            devices.append(device)
            shutil.copy(self.templates["field"], device.field.db_path)
            command = ["enrol", "--central", proxy.url, "--code", code]
            enrolments.append(
                subprocess.Popen(
                    [sys.executable, "-m", "app", "field", *command],
                    cwd=ROOT,
                    env={**device.field.env, "HMOT_PASSPHRASE": PASSPHRASE},
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    text=True,
                )
            )
        outputs = [enrolment.communicate(timeout=60)[0] for enrolment in enrolments]
        for enrolment, output in zip(enrolments, outputs, strict=True):
            assert enrolment.returncode == 0, output
        return devices

    def close(self) -> None:
        for device in self.devices:
            device.proxy.close()
        if self.central is not None:
            self.central.stop()
