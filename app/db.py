"""SQLite connection settings and the one place that commits.

The field database holds visits that exist nowhere else until they are synced, so it runs
WAL with ``synchronous=FULL`` (a commit survives power loss) and foreign keys on. Python's
sqlite3 module would otherwise open its own deferred transactions; we switch that off and
issue ``BEGIN`` ourselves, ``BEGIN IMMEDIATE`` for writes, so a transaction that reads and
then writes takes the write lock up front and never fails with SQLITE_BUSY half way.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import Table, event, insert
from sqlalchemy.engine import Dialect, Engine

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


@dataclass(frozen=True)
class _CompiledInsert:
    sql: str
    names: tuple[str, ...]  # the columns in the order the statement takes them
    processors: tuple[Callable[[Any], Any] | None, ...]
    positional: bool


@lru_cache(maxsize=64)
def _compiled_insert(
    table: Table, columns: tuple[str, ...], as_is: frozenset[str], dialect: Dialect
) -> _CompiledInsert:
    compiled = insert(table).inline().compile(dialect=dialect, column_keys=list(columns))
    names = tuple(compiled.positiontup or compiled.binds)
    if missing := set(names) - set(columns):
        raise ValueError(f"insert_many({table.name}): rows must give {sorted(missing)}")
    processors = tuple(
        None if name in as_is else table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
        for name in names
    )
    return _CompiledInsert(compiled.string, names, processors, bool(compiled.positional))


def insert_many(table: Table, rows: list[dict[str, Any]], as_is: Iterable[str] = ()) -> None:
    """INSERT ``rows`` (each with the same keys) through one DBAPI ``executemany``, in the
    session's transaction.

    What ``session.execute(insert(table), rows)`` does, for a hot path: the statement is
    compiled by SQLAlchemy for the engine's dialect once, and each value goes through its
    column type's own bind processor; only the per-row bookkeeping is left out. A value that
    is the same object as the row before's (a batch's one timestamp) is processed once.
    Columns in ``as_is`` are already in their database form (JSON text, say). Columns with
    Python-side defaults must be given.
    """
    if not rows:
        return
    connection = db.session.connection()
    compiled = _compiled_insert(table, tuple(rows[0]), frozenset(as_is), connection.dialect)
    names, processors = compiled.names, compiled.processors
    seen: list[Any] = [_NOTHING] * len(names)
    done: list[Any] = [None] * len(names)
    params: list = []
    for row in rows:
        values = []
        for i, name in enumerate(names):
            value, process = row[name], processors[i]
            if process is not None and value is not None:
                if value is not seen[i]:
                    seen[i], done[i] = value, process(value)
                value = done[i]
            values.append(value)
        params.append(
            tuple(values) if compiled.positional else dict(zip(names, values, strict=True))
        )
    connection.exec_driver_sql(compiled.sql, params)


_NOTHING = object()
