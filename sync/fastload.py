"""Marshmallow schemas compiled to plain functions, for the push's hot path.

A push of 500 visits loads 500 mutations and 500 bodies of some thirty fields each; going
through marshmallow's general machinery costs more than writing the rows. ``compile_loader``
reads a schema's declared fields once and builds a function that loads a *valid* record to
exactly what ``schema.load`` returns (the fields' own parse functions and validators). For
anything it is not sure of — a missing or unknown field, a wrong type, a value a validator
refuses — it raises ``NotPlain`` and the caller runs ``schema.load`` itself, which gives the
field-level error messages (or, for an input the fast path is merely unsure of, the value).
So the schemas stay the one definition of the wire format, and their messages the only ones.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any

from marshmallow import Schema, ValidationError, fields, missing, validate

Loader = Callable[[Any], Any]


class NotPlain(Exception):
    """The value needs marshmallow's own load: it is invalid, or unusual."""


def load(schema: Schema, loader: Loader, raw: Any) -> Any:
    """``schema.load(raw)``, through ``loader`` when the record is plain."""
    try:
        return loader(raw)
    except NotPlain:
        return schema.load(raw)


def compile_loader(schema: Schema) -> Loader:
    """A function equal to ``schema.load`` on valid input that raises ``NotPlain`` otherwise.

    Only what the sync schemas use is supported (strict schemas, no hooks, no data keys);
    anything else fails here, at import, rather than loading differently from marshmallow.
    """
    if any(getattr(schema, "_hooks", {}).values()):  # pre/post-load, @validates…
        raise TypeError(f"{type(schema).__name__}: hooks are not supported by compile_loader")
    if schema.unknown != "raise":
        raise TypeError(f"{type(schema).__name__}: only schemas that refuse unknown fields")
    plan = []
    for name, field in schema.fields.items():
        if field.data_key not in (None, name) or field.attribute not in (None, name):
            raise TypeError(f"{type(schema).__name__}.{name}: data keys are not supported")
        default = field.load_default
        plan.append((name, _field_loader(field), field.required, default, field.allow_none))
    names = frozenset(schema.fields)

    def load_record(raw: Any) -> dict:
        if type(raw) is not dict or not names.issuperset(raw):
            raise NotPlain
        out = {}
        for name, loader, required, default, allow_none in plan:
            value = raw.get(name, missing)
            if value is missing:
                if required:
                    raise NotPlain
                if default is not missing:
                    out[name] = default() if callable(default) else default
                continue
            if value is None:
                if not allow_none:
                    raise NotPlain
                out[name] = None
                continue
            out[name] = loader(value)
        return out

    return load_record


def _field_loader(field: fields.Field) -> Loader:
    if field.dump_only or field.load_only:
        raise TypeError(f"{field!r}: dump_only and load_only are not supported")
    check = _checks(field)
    if type(field) is fields.Nested:
        nested = field.schema
        if field.many or field.only or field.exclude:
            raise TypeError(f"{field!r}: only plain nested schemas are supported")
        return _checked(compile_loader(nested), check)
    if type(field) is fields.List:
        inner = _field_loader(field.inner)

        def load_list(value: Any) -> list:
            if type(value) is not list:
                raise NotPlain
            return [inner(item) for item in value]

        return _checked(load_list, check)
    if type(field) is fields.Dict:
        keys = _field_loader(field.key_field) if field.key_field else None
        values = _field_loader(field.value_field) if field.value_field else None

        def load_dict(value: Any) -> dict:
            if type(value) is not dict:
                raise NotPlain
            if keys is None and values is None:
                return dict(value)
            return {
                (keys(k) if keys else k): (values(v) if values else v) for k, v in value.items()
            }

        return _checked(load_dict, check)
    if type(field) is fields.UUID:

        def load_uuid(value: Any) -> uuid.UUID:
            if type(value) is not str:
                raise NotPlain
            try:
                return uuid.UUID(value)
            except ValueError:
                raise NotPlain from None

        return _checked(load_uuid, check)
    if type(field) is fields.String:

        def load_string(value: Any) -> str:
            if type(value) is not str:
                raise NotPlain
            return value

        return _checked(load_string, check)
    if type(field) is fields.Integer and field.strict:

        def load_integer(value: Any) -> int:
            if type(value) is not int:
                raise NotPlain
            return value

        return _checked(load_integer, check)
    if type(field) in (fields.Date, fields.DateTime):  # not Naive/AwareDateTime: more checks
        parse = field.DESERIALIZATION_FUNCS.get(field.format or field.DEFAULT_FORMAT)
        if parse is None:
            raise TypeError(f"{field!r}: only the ISO format is supported")

        def load_moment(value: Any) -> Any:
            if type(value) is not str:
                raise NotPlain
            try:
                return parse(value)
            except ValueError:
                raise NotPlain from None

        return _checked(load_moment, check)
    if type(field) is fields.Raw:
        allow_none = field.allow_none

        def load_raw(value: Any) -> Any:
            if value is None and not allow_none:  # inside a Dict or List: no null either
                raise NotPlain
            return value

        return _checked(load_raw, check)
    raise TypeError(f"{field!r}: field type not supported by compile_loader")


def _checked(loader: Loader, check: Callable[[Any], bool] | None) -> Loader:
    if check is None:
        return loader

    def load_checked(value: Any) -> Any:
        loaded = loader(value)
        if not check(loaded):
            raise NotPlain
        return loaded

    return load_checked


def _checks(field: fields.Field) -> Callable[[Any], bool] | None:
    """One predicate for all of a field's validators: the common ones as plain comparisons,
    any other by calling it."""
    tests = [_test(validator) for validator in field.validators]
    if not tests:
        return None
    if len(tests) == 1:
        return tests[0]
    return lambda value: all(test(value) for test in tests)


def _test(validator: Callable) -> Callable[[Any], bool]:
    if type(validator) is validate.OneOf:
        choices = tuple(validator.choices)
        return lambda value: value in choices
    if type(validator) is validate.Length and validator.equal is None:
        low = validator.min if validator.min is not None else 0
        high = validator.max if validator.max is not None else float("inf")
        return lambda value: low <= len(value) <= high
    if type(validator) is validate.Regexp:
        pattern: re.Pattern = validator.regex
        return lambda value: pattern.match(value) is not None

    def passes(value: Any) -> bool:
        try:
            validator(value)  # as marshmallow 4: only a ValidationError refuses
        except ValidationError:
            return False
        return True

    return passes
