"""Two real processes: central and an enrolled field node, each with its own SQLite file,
talking HTTP on loopback through a fault-injecting proxy.

The field node's web server is not needed here: visits are completed through the app's own
queries on the field database (the same code the web journey calls), and each sync runs as
``python -m app field sync`` in a process of its own, which a test may have killed.
"""

from __future__ import annotations

import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import pytest

from app import create_app
from app.extensions import db
from tests.support.nodes import CentralNode, FieldNode
from tests.support.proxy import FaultProxy

EMAIL, PASSPHRASE = "sam.hsc@example.org", "tablet passphrase 1"


def rows(path: Path, sql: str, *args) -> list[tuple]:
    with closing(sqlite3.connect(path)) as connection:
        return connection.execute(sql, args).fetchall()


@dataclass
class Pair:
    central: CentralNode
    proxy: FaultProxy
    field: FieldNode
    tmp: Path

    def field_app(self):
        return create_app(
            "field", "test", SQLALCHEMY_DATABASE_URI=f"sqlite:///{self.field.db_path}"
        )

    def complete_visits(self, count: int = 1, **answers) -> list[str]:
        """Complete visits on the device, each with its outbox entry, as the journey does."""
        from tests.support.complete_visit import complete_visit

        app = self.field_app()
        with app.app_context():
            ids = [complete_visit(EMAIL, **answers) for _ in range(count)]
            db.engine.dispose()
        return ids

    def sync(self, **env: str) -> subprocess.CompletedProcess:
        return self.field.run("sync", env=env)

    def outbox(self) -> dict[str, str]:
        """Each visit's newest outbox state on the device."""
        found = rows(self.field.db_path, "SELECT visit_id, state FROM outbox ORDER BY seq")
        return dict(found)

    def central_visits(self) -> list[tuple]:
        return rows(self.central.db_path, "SELECT id, revision, sha256 FROM central_visit")

    def assert_converged(self) -> None:
        """Every visit the HSC completed is on central exactly once, and both agree on it."""
        completed = rows(
            self.field.db_path,
            "SELECT id, central_revision, office_status, received_at FROM visit "
            "WHERE status = 'completed'",
        )
        central = {
            r[0]: r
            for r in rows(
                self.central.db_path, "SELECT id, revision, status, received_at FROM central_visit"
            )
        }
        ids = [r[0] for r in self.central_visits()]
        assert len(ids) == len(set(ids)), "a visit is on central twice"
        revisions = rows(
            self.central.db_path,
            "SELECT visit_id, revision, count(*) FROM visit_revision "
            "GROUP BY visit_id, revision HAVING count(*) > 1",
        )
        assert revisions == [], "a revision is stored twice"
        assert set(central) == {r[0] for r in completed}, "central and the device differ"
        for visit_id, revision, office_status, received_at in completed:
            assert central[visit_id][1] == revision, f"{visit_id}: revision differs"
            assert office_status == "received", f"{visit_id}: device says {office_status!r}"
            assert received_at == central[visit_id][3], f"{visit_id}: receipt time differs"
        assert set(self.outbox().values()) <= {"acknowledged"}, self.outbox()


def make_pair(tmp_path: Path, *, separate_worker: bool = False, **central_env: str) -> Pair:
    central = CentralNode(tmp_path / "central", separate_worker=separate_worker, **central_env)
    code = central.create_hsc("Sam Patel", EMAIL)
    central.start()
    proxy = FaultProxy(central.port)
    try:
        field = FieldNode(tmp_path / "field")
        field.enrol(proxy.url, code, PASSPHRASE)
    except BaseException:
        proxy.close()
        central.stop()
        raise
    return Pair(central, proxy, field, tmp_path)


@pytest.fixture
def pair(tmp_path):
    pair = make_pair(tmp_path)
    yield pair
    pair.proxy.close()
    pair.central.stop()


@pytest.fixture
def fleet(tmp_path, migrated_databases) -> Iterator:
    """One central and enrolled devices on demand (``tests.support.fleet``)."""
    from tests.support.fleet import Fleet  # it builds on this module's helpers

    fleet = Fleet(tmp_path, migrated_databases)
    yield fleet
    fleet.close()
