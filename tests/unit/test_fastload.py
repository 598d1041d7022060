"""The compiled loaders equal marshmallow's load on valid records, and never accept a record
marshmallow refuses: every field of a valid push is removed, nulled, given each wrong type,
and joined by an unknown field, and both are asked."""

from __future__ import annotations

import copy
import uuid
from datetime import UTC, datetime

import pytest
from marshmallow import Schema, ValidationError, fields, validate, validates

from sync.canonical import sha256_of
from sync.fastload import NotPlain, compile_loader, load
from sync.schemas import HeartbeatSchema, MutationSchema, PushRequestSchema, VisitBodySchema
from tests.support.casework import story_body

ODD_VALUES = [
    None,
    True,
    0,
    -1,
    1.5,
    "",
    "x",
    "x" * 6000,
    [],
    ["x"],
    {},
    {"x": 1},
    "2026-02-30",
    "20261109",
    "2026-11-09T10:00:00",
    "2026-11-09T10:00:00Z",
    "LE19 2DR",
    "le19 2dr",
    "943 476 5919",
    "9434765919",
    "9434765918",
    str(uuid.uuid4()),
    uuid.uuid4().hex,
    "{" + str(uuid.uuid4()) + "}",
    "yes",
    "maybe",
    "visit.complete",
    "a" * 64,
]


def order() -> dict:
    return {
        "id": str(uuid.uuid4()),
        "catalogue_id": "minor-equipment",
        "catalogue_version": 1,
        "rules_version": "2026-11-1",
        "item_code": "GRAB-RAIL-450",
        "quantity": 2,
        "location": "Bathroom",
        "side": "left",
        "measurements": {"height_mm": 900},
        "reason": "Falls risk getting out of the bath",
        "acknowledged": ["KEY_SAFE_DOOR_CHAIN"],
        "ta_level": "L3",
        "route": "direct",
    }


def bodies() -> list[dict]:
    with_orders = story_body("case-story-1")
    with_orders["orders"] = [order(), order()]
    follow_up = story_body("case-story-2", kind="follow_up", previous_visit_id=uuid.uuid4())
    follow_up["resident"]["nhs_number"] = "9434765919"
    return [story_body("case-story-1"), story_body("case-story-2"), with_orders, follow_up]


def mutation(body: dict) -> dict:
    return {
        "seq": 7,
        "mutation_id": str(uuid.uuid4()),
        "type": "visit.complete",
        "visit_id": body["visit"]["id"],
        "revision": 2,
        "base_revision": 1,
        "sha256": sha256_of(body),
        "device_time": datetime(2026, 11, 22, 10, tzinfo=UTC).isoformat(),
        "body": body,
    }


def push(body: dict) -> dict:
    return {
        "protocol": 1,
        "device_id": str(uuid.uuid4()),
        "heartbeat": {
            "outbox_length": 3,
            "oldest_unsynced_age_seconds": None,
            "quarantine_count": 0,
            "app_version": "0.1.0",
            "form_versions": ["housing-mot@1"],
            "device_clock": "2026-11-22T10:00:00.123456+00:00",
        },
        "mutations": [mutation(body)],
    }


CASES = [
    (VisitBodySchema, bodies),
    (MutationSchema, lambda: [mutation(b) for b in bodies()]),
    (PushRequestSchema, lambda: [push(b) for b in bodies()]),
    (HeartbeatSchema, lambda: [push(bodies()[0])["heartbeat"]]),
]


def paths(record, prefix=()):
    """Every (container, key) in a record, nested ones included."""
    if isinstance(record, dict):
        for key, value in record.items():
            yield (*prefix, key)
            yield from paths(value, (*prefix, key))
    elif isinstance(record, list):
        for i, value in enumerate(record):
            yield (*prefix, i)
            yield from paths(value, (*prefix, i))


def variants(record: dict):
    """The record with one thing changed: each path removed, or set to each odd value, or
    given an unknown sibling."""
    for path in paths(record):
        for value in [*ODD_VALUES, "__remove__"]:
            changed = copy.deepcopy(record)
            parent = changed
            for key in path[:-1]:
                parent = parent[key]
            if value == "__remove__":
                del parent[path[-1]]
            else:
                parent[path[-1]] = value
            yield changed
        changed = copy.deepcopy(record)
        parent = changed
        for key in path[:-1]:
            parent = parent[key]
        if isinstance(parent, dict):
            parent["unexpected"] = "x"
            yield changed


def outcome(function, record):
    try:
        return "loaded", function(record)
    except ValidationError as error:
        return "refused", error.messages
    except NotPlain:
        return "not plain", None


@pytest.mark.parametrize(("schema_class", "make"), CASES, ids=lambda c: getattr(c, "__name__", ""))
def test_valid_records_load_the_same_through_both(schema_class, make):
    schema = schema_class()
    fast = compile_loader(schema)
    for record in make():
        assert fast(copy.deepcopy(record)) == schema.load(copy.deepcopy(record))


@pytest.mark.parametrize(("schema_class", "make"), CASES, ids=lambda c: getattr(c, "__name__", ""))
def test_a_changed_record_is_loaded_alike_or_handed_to_marshmallow(schema_class, make):
    schema = schema_class()
    fast = compile_loader(schema)
    counts = {"loaded": 0, "not plain": 0}
    records = make()
    varied = records[2:] or records  # the visit with orders and the follow-up
    for record in (variant for valid in varied for variant in variants(valid)):
        slow = outcome(schema.load, copy.deepcopy(record))
        quick = outcome(fast, copy.deepcopy(record))
        assert quick[0] != "refused"
        if quick[0] == "loaded":
            assert slow == quick, record  # never accepts what marshmallow refuses
        counts[quick[0]] += 1
        # Through ``load`` the answer is always marshmallow's own.
        assert outcome(lambda r: load(schema, fast, r), copy.deepcopy(record)) == slow
    assert counts["loaded"] and counts["not plain"]  # both paths were exercised


def test_unsupported_schemas_fail_when_compiled_not_when_loading():
    class WithDataKey(Schema):
        class Meta:
            unknown = "raise"

        name = fields.String(data_key="Name")

    class Loose(Schema):
        class Meta:
            unknown = "exclude"

        name = fields.String()

    class WithHook(Schema):
        name = fields.String()

        @validates("name")
        def _name(self, value, **_):
            raise ValidationError("never")

    class WithEmail(Schema):
        class Meta:
            unknown = "raise"

        email = fields.Email(validate=validate.Length(max=5))

    for schema in (WithDataKey(), Loose(), WithEmail(), WithHook()):
        with pytest.raises(TypeError):
            compile_loader(schema)
