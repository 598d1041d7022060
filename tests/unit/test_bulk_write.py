"""The database helpers of the hot paths: ``insert_many`` stores what SQLAlchemy's insert
stores, a writer waits for the write lock in fine steps, JSON columns are written by
orjson, and a server process tunes its garbage collector."""

from __future__ import annotations

import gc
import json
import sqlite3
import threading
import time
import uuid
from datetime import date, datetime

import pytest
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Uuid,
    insert,
    select,
    text,
)
from sqlalchemy.exc import OperationalError

import app.db as app_db
from app.db import insert_many, json_text, write_transaction
from app.extensions import db
from app.runtime import YOUNGEST_THRESHOLD, tune_gc

METADATA = MetaData()
COLUMNS = lambda: [  # noqa: E731 - a fresh set of columns per table
    Column("id", Integer, primary_key=True),
    Column("ref", Uuid),
    Column("at", DateTime),
    Column("day", Date),
    Column("facts", JSON),
    Column("extra", JSON),
    Column("done", Boolean),
    Column("name", String(40), default="nameless"),
]
BY_SQLALCHEMY = Table("probe_sqlalchemy", METADATA, *COLUMNS())
BY_HELPER = Table("probe_helper", METADATA, *COLUMNS())
NOW = datetime(2026, 11, 22, 9, 30, 0, 123456)


def probe_rows() -> list[dict]:
    other = datetime(2026, 11, 21, 17, 0)
    ats = [NOW, NOW, other, NOW, None]  # one object repeated, then another, then it again
    return [
        {
            "id": i + 1,
            "ref": uuid.UUID(int=i * 7919),
            "at": at,
            "day": date(2026, 1, 1 + i),
            "facts": {"given_name": "Zoë", "n": i, "list": [1, None, "🙂"], 3: "three"},
            "extra": None if i % 2 else ["x"],  # a JSON column's None is JSON null, not NULL
            "done": i % 2 == 0,
            "name": f"row {i}",
        }
        for i, at in enumerate(ats)
    ]


@pytest.fixture
def probes(central_app):
    with central_app.app_context():
        METADATA.create_all(db.engine)
        yield central_app
        db.session.rollback()


def stored(table: Table) -> list[tuple]:
    names = ", ".join(column.name for column in table.columns)
    return db.session.execute(text(f"SELECT {names} FROM {table.name} ORDER BY id")).all()  # noqa: S608


def test_insert_many_stores_exactly_what_sqlalchemys_insert_stores(probes):
    with write_transaction():
        db.session.execute(insert(BY_SQLALCHEMY), probe_rows())
        insert_many(BY_HELPER, probe_rows())
    assert stored(BY_HELPER) == stored(BY_SQLALCHEMY)
    loaded = db.session.execute(select(BY_HELPER).order_by(BY_HELPER.c.id)).mappings().all()
    expected = [row | {"facts": row["facts"] | {"3": "three"}} for row in probe_rows()]
    for row in expected:
        del row["facts"][3]
    assert [dict(row) for row in loaded] == expected


def test_a_value_after_a_repeated_one_is_processed_for_itself(probes):
    with write_transaction():
        insert_many(BY_HELPER, probe_rows())
    ats = db.session.scalars(select(BY_HELPER.c.at).order_by(BY_HELPER.c.id)).all()
    assert ats == [row["at"] for row in probe_rows()]


def test_columns_given_as_they_are_stored_are_bound_unchanged(probes):
    row = probe_rows()[0] | {"facts": '{"already":"json","z":"é"}'}
    with write_transaction():
        insert_many(BY_HELPER, [row], as_is=("facts",))
    assert db.session.scalar(text("SELECT facts FROM probe_helper")) == row["facts"]
    assert db.session.scalar(select(BY_HELPER.c.facts)) == {"already": "json", "z": "é"}


def test_rows_must_give_every_column_with_a_python_side_default(probes):
    row = probe_rows()[0]
    del row["name"]
    with pytest.raises(ValueError, match=r"probe_helper.*\['name'\]"), write_transaction():
        insert_many(BY_HELPER, [row])
    assert db.session.scalar(text("SELECT count(*) FROM probe_helper")) == 0


def hold_write_lock(path: str, seconds: float, taken: threading.Event) -> None:
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("BEGIN IMMEDIATE")
    taken.set()
    time.sleep(seconds)
    connection.execute("COMMIT")
    connection.close()


def database_path() -> str:
    return db.engine.url.database


def test_a_writer_waits_for_the_write_lock_then_takes_it(probes):
    taken = threading.Event()
    holder = threading.Thread(target=hold_write_lock, args=(database_path(), 0.3, taken))
    holder.start()
    taken.wait(5)
    start = time.monotonic()
    with write_transaction():
        insert_many(BY_HELPER, probe_rows()[:1])
    waited = time.monotonic() - start
    holder.join()
    assert waited >= 0.2  # it did wait for the other writer
    assert db.session.scalar(text("SELECT count(*) FROM probe_helper")) == 1
    # SQLite's own busy handler is back for the connection's other statements.
    assert db.session.scalar(text("PRAGMA busy_timeout")) == app_db.BUSY_TIMEOUT_MS


def test_a_writer_gives_up_at_the_busy_timeout_with_sqlalchemys_error(probes, monkeypatch):
    monkeypatch.setattr(app_db, "BUSY_TIMEOUT_MS", 100)
    taken = threading.Event()
    holder = threading.Thread(target=hold_write_lock, args=(database_path(), 1.0, taken))
    holder.start()
    taken.wait(5)
    try:
        with pytest.raises(OperationalError), write_transaction():
            insert_many(BY_HELPER, probe_rows()[:1])
    finally:
        holder.join()
    assert db.session.scalar(text("SELECT count(*) FROM probe_helper")) == 0


def test_json_columns_are_written_compact_in_utf8_with_keys_as_strings():
    assert json_text({"name": "Zoë", 1: [True, None]}) == '{"name":"Zoë","1":[true,null]}'


def test_what_orjson_cannot_write_json_columns_write_as_they_always_did():
    for value in ({"n": 2**70}, {"key": "\ud800"}):
        assert json_text(value) == json.dumps(value)


def test_none_in_a_json_column_is_stored_as_json_null_as_sqlalchemy_stores_it(probes):
    with write_transaction():
        insert_many(BY_HELPER, probe_rows())
    kinds = db.session.execute(text("SELECT typeof(extra), extra FROM probe_helper ORDER BY id"))
    assert [tuple(row) for row in kinds][:2] == [("text", '["x"]'), ("text", "null")]


def test_a_server_process_freezes_what_it_started_with_and_collects_less_often():
    before = gc.get_threshold()
    try:
        tune_gc()
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == (YOUNGEST_THRESHOLD, *before[1:])
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
