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

    The function is generated as Python source, one straight run of checks per field, so a
    record costs a handful of comparisons per field rather than a call per field and check.
    Only what the sync schemas use is supported (strict schemas, no hooks, no data keys);
    anything else fails here, at import, rather than loading differently from marshmallow.
    """
    if any(getattr(schema, "_hooks", {}).values()):  # pre/post-load, @validates…
        raise TypeError(f"{type(schema).__name__}: hooks are not supported by compile_loader")
    if schema.unknown != "raise":
        raise TypeError(f"{type(schema).__name__}: only schemas that refuse unknown fields")
    source = _Source(type(schema).__name__)
    for name, field in schema.fields.items():
        if field.data_key not in (None, name) or field.attribute not in (None, name):
            raise TypeError(f"{type(schema).__name__}.{name}: data keys are not supported")
        source.field(name, field)
    return source.function(frozenset(schema.fields))


class _Source:
    """The source of one record loader, and the values its code refers to by name."""

    def __init__(self, schema_name: str) -> None:
        self.schema_name = schema_name
        self.names: dict[str, Any] = {"NotPlain": NotPlain, "MISSING": missing}
        self.lines = [
            "def load_record(raw):",
            "    if type(raw) is not dict or not FIELDS.issuperset(raw):",
            "        raise NotPlain",
            "    out = {}",
        ]

    def constant(self, value: Any) -> str:
        """A name the generated code uses for ``value``."""
        name = f"C{len(self.names)}"
        self.names[name] = value
        return name

    def field(self, name: str, field: fields.Field) -> None:
        key = repr(name)
        lines = [f"    value = raw.get({key}, MISSING)", "    if value is MISSING:"]
        default = field.load_default
        if field.required:
            lines.append("        raise NotPlain")
        elif default is missing:
            lines.append("        pass")
        elif callable(default):
            lines.append(f"        out[{key}] = {self.constant(default)}()")
        else:
            lines.append(f"        out[{key}] = {self.constant(default)}")
        lines.append("    elif value is None:")
        lines.append(f"        out[{key}] = None" if field.allow_none else "        raise NotPlain")
        lines.append("    else:")
        lines += ["        " + line for line in self.conversion(field)]
        lines += ["        " + line for line in self.checks(field)]
        lines.append(f"        out[{key}] = value")
        self.lines += lines

    def conversion(self, field: fields.Field) -> list[str]:
        """Lines that check ``value``'s type and turn it into what marshmallow loads."""
        if field.dump_only or field.load_only:
            raise TypeError(f"{field!r}: dump_only and load_only are not supported")
        kind = type(field)
        if kind is fields.String:
            return ["if type(value) is not str:", "    raise NotPlain"]
        if kind is fields.Integer and field.strict:
            return ["if type(value) is not int:", "    raise NotPlain"]
        if kind is fields.Raw:
            return []
        if kind in (fields.UUID, fields.Date, fields.DateTime):
            parse = uuid.UUID if kind is fields.UUID else _parse_function(field)
            return [
                "if type(value) is not str:",
                "    raise NotPlain",
                "try:",
                f"    value = {self.constant(parse)}(value)",
                "except ValueError:",
                "    raise NotPlain from None",
            ]
        if kind in (fields.Nested, fields.List, fields.Dict):  # a loader of its own
            return [f"value = {self.constant(_unchecked_loader(field))}(value)"]
        raise TypeError(f"{field!r}: field type not supported by compile_loader")

    def checks(self, field: fields.Field) -> list[str]:
        """Lines that refuse a loaded ``value`` one of the field's validators would."""
        lines = []
        for validator in field.validators:
            lines += [f"if not ({self.condition(validator)}):", "    raise NotPlain"]
        return lines

    def condition(self, validator: Callable) -> str:
        kind = type(validator)
        if kind is validate.OneOf:
            return f"value in {self.constant(tuple(validator.choices))}"
        if kind is validate.Length and validator.equal is None:
            low = validator.min if validator.min is not None else 0
            if validator.max is None:
                return f"{low!r} <= len(value)"
            return f"{low!r} <= len(value) <= {validator.max!r}"
        if kind is validate.Regexp:
            return f"{self.constant(validator.regex.match)}(value) is not None"
        if kind is validate.Range:
            parts = []
            if validator.min is not None:
                below = "<=" if validator.min_inclusive else "<"
                parts.append(f"{self.constant(validator.min)} {below} value")
            if validator.max is not None:
                above = "<=" if validator.max_inclusive else "<"
                parts.append(f"value {above} {self.constant(validator.max)}")
            return " and ".join(parts) or "True"
        return f"{self.constant(_test(validator))}(value)"

    def function(self, field_names: frozenset[str]) -> Loader:
        self.names["FIELDS"] = field_names
        self.lines.append("    return out")
        namespace = dict(self.names)
        code = compile("\n".join(self.lines), f"<loader of {self.schema_name}>", "exec")
        exec(code, namespace)  # noqa: S102 - source built here from the schema's own fields
        return namespace["load_record"]


def _field_loader(field: fields.Field) -> Loader:
    """A loader of one value of ``field`` (an item of a list or dict), validators included."""
    return _checked(_unchecked_loader(field), _checks(field))


def _parse_function(field: fields.Field) -> Callable[[str], Any]:
    if type(field) not in (fields.Date, fields.DateTime):  # not Naive/AwareDateTime
        raise TypeError(f"{field!r}: field type not supported by compile_loader")
    parse = field.DESERIALIZATION_FUNCS.get(field.format or field.DEFAULT_FORMAT)
    if parse is None:
        raise TypeError(f"{field!r}: only the ISO format is supported")
    return parse


def _unchecked_loader(field: fields.Field) -> Loader:
    if field.dump_only or field.load_only:
        raise TypeError(f"{field!r}: dump_only and load_only are not supported")
    if type(field) is fields.Nested:
        nested = field.schema
        if field.many or field.only or field.exclude:
            raise TypeError(f"{field!r}: only plain nested schemas are supported")
        return compile_loader(nested)
    if type(field) is fields.List:
        inner = _field_loader(field.inner)

        def load_list(value: Any) -> list:
            if type(value) is not list:
                raise NotPlain
            return [inner(item) for item in value]

        return load_list
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

        return load_dict
    if type(field) is fields.UUID:

        def load_uuid(value: Any) -> uuid.UUID:
            if type(value) is not str:
                raise NotPlain
            try:
                return uuid.UUID(value)
            except ValueError:
                raise NotPlain from None

        return load_uuid
    if type(field) is fields.String:

        def load_string(value: Any) -> str:
            if type(value) is not str:
                raise NotPlain
            return value

        return load_string
    if type(field) is fields.Integer and field.strict:

        def load_integer(value: Any) -> int:
            if type(value) is not int:
                raise NotPlain
            return value

        return load_integer
    if type(field) in (fields.Date, fields.DateTime):
        parse = _parse_function(field)

        def load_moment(value: Any) -> Any:
            if type(value) is not str:
                raise NotPlain
            try:
                return parse(value)
            except ValueError:
                raise NotPlain from None

        return load_moment
    if type(field) is fields.Raw:
        allow_none = field.allow_none

        def load_raw(value: Any) -> Any:
            if value is None and not allow_none:  # inside a Dict or List: no null either
                raise NotPlain
            return value

        return load_raw
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
