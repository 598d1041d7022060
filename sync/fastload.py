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
    name = type(schema).__name__
    if any(getattr(schema, "_hooks", {}).values()):  # pre/post-load, @validates…
        raise TypeError(f"{name}: hooks are not supported by compile_loader")
    if schema.unknown != "raise":
        raise TypeError(f"{name}: only schemas that refuse unknown fields")
    source = _Source()
    lines = [
        "def load(raw):",
        f"    if type(raw) is not dict or not {source.constant(frozenset(schema.fields))}"
        ".issuperset(raw):",
        "        raise NotPlain",
        "    out = {}",
    ]
    for key, field in schema.fields.items():
        if field.data_key not in (None, key) or field.attribute not in (None, key):
            raise TypeError(f"{name}.{key}: data keys are not supported")
        lines += source.field(key, field)
    return source.function([*lines, "    return out"], f"loader of {name}")


def _field_loader(field: fields.Field) -> Loader:
    """A loader of one value of ``field`` (an item of a list or dict), validators included."""
    source = _Source()
    none = "return None" if field.allow_none else "raise NotPlain"  # marshmallow's rule
    lines = ["def load(value):", "    if value is None:", f"        {none}"]
    lines += ["    " + line for line in source.conversion(field) + source.checks(field)]
    return source.function([*lines, "    return value"], f"loader of {type(field).__name__}")


class _Source:
    """Generated loader code, and the values it refers to by name."""

    def __init__(self) -> None:
        self.names: dict[str, Any] = {"NotPlain": NotPlain, "MISSING": missing}

    def constant(self, value: Any) -> str:
        """A name the generated code uses for ``value``."""
        name = f"C{len(self.names)}"
        self.names[name] = value
        return name

    def field(self, name: str, field: fields.Field) -> list[str]:
        """Lines that load the record's field ``name`` into ``out``."""
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
        lines += ["        " + line for line in self.conversion(field) + self.checks(field)]
        lines.append(f"        out[{key}] = value")
        return lines

    def conversion(self, field: fields.Field) -> list[str]:
        """Lines that check a value's type and turn it into what marshmallow loads."""
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
        if kind in (fields.Nested, fields.List, fields.Dict):
            return [f"value = {self.constant(_container_loader(field))}(value)"]
        raise TypeError(f"{field!r}: field type not supported by compile_loader")

    def checks(self, field: fields.Field) -> list[str]:
        """Lines that refuse a loaded value one of the field's validators would."""
        lines = []
        for validator in field.validators:
            lines += [f"if not ({self.condition(validator)}):", "    raise NotPlain"]
        return lines

    def condition(self, validator: Callable) -> str:
        """A validator as an expression: the common ones as comparisons, any other called."""
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
        return f"{self.constant(_passes(validator))}(value)"

    def function(self, lines: list[str], label: str) -> Loader:
        namespace = dict(self.names)
        exec(compile("\n".join(lines), f"<{label}>", "exec"), namespace)  # noqa: S102 - built here
        return namespace["load"]


def _parse_function(field: fields.Field) -> Callable[[str], Any]:
    if type(field) not in (fields.Date, fields.DateTime):  # not Naive/AwareDateTime
        raise TypeError(f"{field!r}: field type not supported by compile_loader")
    parse = field.DESERIALIZATION_FUNCS.get(field.format or field.DEFAULT_FORMAT)
    if parse is None:
        raise TypeError(f"{field!r}: only the ISO format is supported")
    return parse


def _container_loader(field: fields.Field) -> Loader:
    """A loader of a nested record, a list or a dict (its items loaded by their own)."""
    if type(field) is fields.Nested:
        if field.many or field.only or field.exclude:
            raise TypeError(f"{field!r}: only plain nested schemas are supported")
        return compile_loader(field.schema)
    if type(field) is fields.List:
        inner = _field_loader(field.inner)

        def load_list(value: Any) -> list:
            if type(value) is not list:
                raise NotPlain
            return [inner(item) for item in value]

        return load_list
    keys = _field_loader(field.key_field) if field.key_field else None
    values = _field_loader(field.value_field) if field.value_field else None

    def load_dict(value: Any) -> dict:
        if type(value) is not dict:
            raise NotPlain
        if keys is None and values is None:
            return dict(value)
        return {(keys(k) if keys else k): (values(v) if values else v) for k, v in value.items()}

    return load_dict


def _passes(validator: Callable) -> Callable[[Any], bool]:
    """Whether a value passes ``validator`` (as marshmallow 4: only a ValidationError
    refuses)."""

    def passes(value: Any) -> bool:
        try:
            validator(value)
        except ValidationError:
            return False
        return True

    return passes
