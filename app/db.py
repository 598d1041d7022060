"""SQLite connection settings and the one place that commits.

The field database holds visits that exist nowhere else until they are synced, so it runs
WAL with ``synchronous=FULL`` (a commit survives power loss) and foreign keys on. Python's
sqlite3 module would otherwise open its own deferred transactions; we switch that off and
issue ``BEGIN`` ourselves, ``BEGIN IMMEDIATE`` for writes, so a transaction that reads and
then writes takes the write lock up front and never fails with SQLITE_BUSY half way.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import orjson
from sqlalchemy import Table, event, exc, insert
from sqlalchemy.engine import Dialect, Engine

from app.extensions import db

WRITE_OPTION = "hmot_write"
# FULL: a commit survives power loss. A process whose writes can all be made again from what
# is already committed (central's ingest worker: a lost commit leaves its jobs queued) may
# run NORMAL: in WAL mode its commits are then synced by the next FULL commit or checkpoint.
SYNCHRONOUS = "FULL"
BUSY_TIMEOUT_MS = 10_000
# How often a writer waiting for the write lock looks again.
LOCK_POLL_SECONDS = 0.001


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record) -> None:
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA synchronous={SYNCHRONOUS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.close()


def json_text(value: Any) -> str:
    """JSON text, as JSON columns store it (``SQLALCHEMY_ENGINE_OPTIONS``) and the push
    answers: orjson, compact UTF-8, keys that are not strings written as strings (as
    marshmallow's errors for list items are keyed 0, 1 …). What orjson cannot write (an
    integer beyond 64 bits, a lone surrogate) ``json.dumps`` writes, as it always has."""
    try:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
    except orjson.JSONEncodeError:
        return json.dumps(value)


@event.listens_for(Engine, "begin")
def _sqlite_begin(connection) -> None:
    if connection.dialect.name != "sqlite":
        return
    if connection.get_execution_options().get(WRITE_OPTION, False):
        _begin_immediate(connection.connection.dbapi_connection)
    else:
        connection.exec_driver_sql("BEGIN")


def _begin_immediate(dbapi_connection: sqlite3.Connection) -> None:
    """BEGIN IMMEDIATE: take the write lock, waiting up to the busy timeout for it.

    SQLite's own busy handler backs off in steps of up to 100 ms (1, 2, 5, 10, 15, 20, 25 …),
    so a writer can sleep on for tens of milliseconds after the lock is free; two writers that
    take turns (the push and central's ingest worker) lose that time on every turn. Here the
    wait is ours: look again every millisecond until the timeout. Other statements keep
    SQLite's handler.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    dbapi_connection.execute("PRAGMA busy_timeout=0")
    try:
        while True:
            try:
                dbapi_connection.execute("BEGIN IMMEDIATE")
                break
            except sqlite3.OperationalError as error:
                busy = error.sqlite_errorcode & 0xFF == sqlite3.SQLITE_BUSY  # extended codes too
                if not busy or time.monotonic() > deadline:
                    # As SQLAlchemy raises a failed statement, so callers see one kind of error.
                    raise exc.OperationalError("BEGIN IMMEDIATE", (), error) from error
            time.sleep(LOCK_POLL_SECONDS)
    except BaseException:
        with suppress(sqlite3.Error):  # a broken connection must not hide the first error
            dbapi_connection.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        raise
    dbapi_connection.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")


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
    none_too: tuple[bool, ...]  # the processor also takes None (JSON stores it as null)
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
    none_too = tuple(bool(getattr(table.c[n].type, "should_evaluate_none", False)) for n in names)
    return _CompiledInsert(compiled.string, names, processors, none_too, bool(compiled.positional))


def insert_many(table: Table, rows: list[dict[str, Any]], as_is: Iterable[str] = ()) -> None:
    """INSERT ``rows`` (each with the same keys) through one DBAPI ``executemany``, in the
    session's transaction.

    What ``session.execute(insert(table), rows)`` does, for a hot path: the statement is
    compiled by SQLAlchemy for the engine's dialect once, and each value goes through its
    column type's own bind processor; only the per-row bookkeeping is left out. Values are
    processed a column at a time, and a column whose rows all hold the same object (a batch's
    one timestamp) is processed once. Columns in ``as_is`` are already in their database
    form (JSON text, say). Columns with Python-side defaults must be given.
    """
    if not rows:
        return
    connection = db.session.connection()
    compiled = _compiled_insert(table, tuple(rows[0]), frozenset(as_is), connection.dialect)
    columns = [
        _processed([row[name] for row in rows], process, none_too)
        for name, process, none_too in zip(
            compiled.names, compiled.processors, compiled.none_too, strict=True
        )
    ]
    params: list = list(zip(*columns, strict=True))
    if not compiled.positional:
        params = [dict(zip(compiled.names, values, strict=True)) for values in params]
    connection.exec_driver_sql(compiled.sql, params)


def _processed(values: list, process: Callable[[Any], Any] | None, none_too: bool) -> list:
    """One column's values in their database form."""
    if process is None:
        return values
    first = values[0]
    if all(value is first for value in values):
        return [first if first is None and not none_too else process(first)] * len(values)
    if none_too:
        return list(map(process, values))
    return [None if value is None else process(value) for value in values]
