"""SQLite connection settings and the one place that commits.

The field database holds visits that exist nowhere else until they are synced, so it runs
WAL with ``synchronous=FULL`` (a commit survives power loss) and foreign keys on. Python's
sqlite3 module would otherwise open its own deferred transactions; we switch that off and
issue ``BEGIN`` ourselves, ``BEGIN IMMEDIATE`` for writes, so a transaction that reads and
then writes takes the write lock up front and never fails with SQLITE_BUSY half way.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event
from sqlalchemy.engine import Engine

from app.extensions import db

WRITE_OPTION = "hmot_write"


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record) -> None:
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


@event.listens_for(Engine, "begin")
def _sqlite_begin(connection) -> None:
    if connection.dialect.name != "sqlite":
        return
    immediate = connection.get_execution_options().get(WRITE_OPTION, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


@contextmanager
def write_transaction() -> Iterator[None]:
    """Run the block as one write transaction, committed before the caller goes on.

    Any read transaction the request already opened (loading the signed-in user, say) is
    closed first, so the write lock is taken at BEGIN rather than on the first write.
    """
    session = db.session
    session.rollback()
    session.connection(execution_options={WRITE_OPTION: True})
    try:
        yield
        session.commit()
    except BaseException:
        session.rollback()
        raise
