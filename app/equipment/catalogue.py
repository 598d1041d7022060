"""The trusted-assessor equipment catalogue: items as data, loaded and checked at start-up.

A catalogue is a YAML file beside the checklist it serves (``forms/<form>/catalogue.v*.yaml``)
and is versioned like it. Loading checks everything that would otherwise surface in the
middle of an order: unknown or missing keys, duplicate codes, an unknown category or
service, a level that is not a trusted-assessor level, a measurement that cannot be
answered, an item with no cost, and a ``suggested_if`` naming a question the form does not
have or an option it does not offer. Every error names the file and the item.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from app.formengine.definition import (
    CONTEXT_NAMES,
    SETTINGS,
    VISIT_KINDS,
    FormDefinition,
    FormRegistry,
)
from app.formengine.expressions import Expression, ExpressionError, compile_expression

LEVELS = ("L3", "L4")
KINDS = ("number", "choice")
# The domain reference's bands: under £100, £100 to £1,000, over £1,000.
COST_BANDS = {"£": (0, 9_999), "££": (10_000, 100_000), "£££": (100_001, None)}
_CODE = re.compile(r"^[A-Z]{2,3}(-[A-Z0-9]+)+$")
_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_WORD = re.compile(r"[a-z0-9£]+")

TOP_KEYS = {"id", "version", "rules_version", "form", "ceiling_pence"}
TOP_KEYS |= {"services", "categories", "items"}
ITEM_REQUIRED = {"code", "name", "category", "need", "fitting", "minor_adaptation"}
ITEM_REQUIRED |= {"min_level", "service", "keywords", "measurements"}
ITEM_OPTIONAL = {"unit_cost_pence", "cost_band", "suggested_if", "key_safe"}
MEASUREMENT_KEYS = {"id", "label", "kind", "unit", "minimum", "maximum", "options", "hint"}


class CatalogueError(ValueError):
    def __init__(self, path: Path | str, where: str, message: str) -> None:
        super().__init__(f"{path}: {where}: {message}")
        self.path = str(path)
        self.where = where


@dataclass(frozen=True)
class Measurement:
    id: str
    label: str
    kind: str
    unit: str = ""
    minimum: int | None = None
    maximum: int | None = None
    options: tuple[tuple[str, str], ...] = ()
    hint: str = ""


@dataclass(frozen=True)
class Service:
    id: str
    name: str
    provider_service: str


@dataclass(frozen=True)
class Item:
    code: str
    name: str
    category: str
    need: str
    unit_cost_pence: int | None
    cost_band: str
    fitting: bool
    minor_adaptation: bool
    min_level: str
    service: str
    keywords: tuple[str, ...]
    measurements: tuple[Measurement, ...]
    suggested_if: Expression | None = None
    key_safe: bool = False

    def measurement(self, measurement_id: str) -> Measurement | None:
        return next((m for m in self.measurements if m.id == measurement_id), None)


@dataclass(frozen=True)
class Catalogue:
    id: str
    version: int
    rules_version: str
    form_id: str
    ceiling_pence: int
    services: dict[str, Service]
    categories: dict[str, str]
    items: dict[str, Item]
    path: str

    @property
    def key(self) -> tuple[str, int]:
        return (self.id, self.version)

    def item(self, code: str) -> Item | None:
        return self.items.get(code)

    def provider_service(self, item: Item) -> str:
        return self.services[item.service].provider_service

    def _ordered(self, items: list[Item]) -> list[Item]:
        rank = {category: index for index, category in enumerate(self.categories)}
        return sorted(items, key=lambda item: (rank[item.category], item.name.lower()))

    def search(self, text: str) -> list[Item]:
        """Items matching every word typed: each starts a word of the item's name, code,
        keywords, category or need, whatever the case. Nothing typed gives them all."""
        # "rails" finds "rail": a plural typed is also looked for as its singular.
        wanted = [
            (w, w[:-1]) if len(w) > 3 and w.endswith("s") else (w,)
            for w in _WORD.findall(text.lower())
        ]
        found = []
        for item in self.items.values():
            words = _words(item, self.categories[item.category])
            if all(any(word.startswith(form) for word in words for form in w) for w in wanted):
                found.append(item)
        return self._ordered(found)

    def suggested(self, values: Mapping[str, Any]) -> list[Item]:
        """Items whose ``suggested_if`` holds for a visit's evaluated values
        (``VisitView.values``: hidden and unassessed questions count as unanswered)."""
        return self._ordered(
            [
                item
                for item in self.items.values()
                if item.suggested_if is not None and item.suggested_if(values) is True
            ]
        )


def _words(item: Item, category_name: str) -> set[str]:
    text = " ".join((item.name, item.code, *item.keywords, category_name, item.need))
    return {*_WORD.findall(text.lower()), item.code.lower()}


class _Loader:
    def __init__(self, path: Path, form: FormDefinition) -> None:
        self.path = path
        self.form = form

    def fail(self, where: str, message: str) -> CatalogueError:
        return CatalogueError(self.path, where, message)

    def text(self, data: dict, key: str, where: str, *, required: bool = True) -> str:
        value = data.get(key)
        if value is None and not required:
            return ""
        if not isinstance(value, str) or not value.strip():
            problem = "missing" if key not in data else "must be a non-empty string"
            raise self.fail(where, f"'{key}' {problem}")
        return value.strip()

    def integer(self, data: dict, key: str, where: str) -> int:
        value = data.get(key)
        if key not in data:
            raise self.fail(where, f"'{key}' missing")
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise self.fail(where, f"'{key}' must be a whole number, 0 or more")
        return value

    def flag(self, data: dict, key: str, where: str, default: bool | None = None) -> bool:
        value = data.get(key, default)
        if not isinstance(value, bool):
            raise self.fail(where, f"'{key}' must be true or false")
        return value

    def keys(
        self,
        data: Any,
        where: str,
        required: set[str],
        optional: set[str],
        *,
        anchors: bool = False,
    ) -> dict:
        if not isinstance(data, dict):
            raise self.fail(where, "expected a mapping")
        missing = required - set(data)
        if missing:
            raise self.fail(where, f"missing keys: {', '.join(sorted(missing))}")
        # At the top, x- keys hold YAML anchors shared by several items.
        unknown = {
            k for k in set(data) - required - optional if not (anchors and str(k).startswith("x-"))
        }
        if unknown:
            raise self.fail(where, f"unknown keys: {', '.join(sorted(map(str, unknown)))}")
        return data

    def load(self) -> Catalogue:
        try:
            data = yaml.safe_load(self.path.read_text(encoding="utf-8"))
        except yaml.YAMLError as error:
            raise self.fail("file", f"not valid YAML: {error}") from None
        data = self.keys(data, "catalogue", TOP_KEYS, set(), anchors=True)
        form_id = self.text(data, "form", "catalogue")
        if form_id != self.form.id:
            raise self.fail("catalogue", f"is for form '{form_id}', not '{self.form.id}'")
        version = data["version"]
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            raise self.fail("catalogue", "'version' must be a whole number, 1 or more")
        services = self.services(data["services"])
        categories = data["categories"]
        if (
            not isinstance(categories, dict)
            or not categories
            or not all(isinstance(name, str) and name.strip() for name in categories.values())
        ):
            raise self.fail("catalogue", "'categories' maps each category id to its name")
        if not isinstance(data["items"], list) or not data["items"]:
            raise self.fail("catalogue", "'items' must be a list of items")
        items: dict[str, Item] = {}
        for index, raw in enumerate(data["items"], start=1):
            item = self.item(raw, index, services, categories)
            if item.code in items:
                raise self.fail(f"item {item.code}", "duplicate item code")
            items[item.code] = item
        return Catalogue(
            id=self.text(data, "id", "catalogue"),
            version=version,
            rules_version=self.text(data, "rules_version", "catalogue"),
            form_id=form_id,
            ceiling_pence=self.integer(data, "ceiling_pence", "catalogue"),
            services=services,
            categories={str(k): v.strip() for k, v in categories.items()},
            items=items,
            path=str(self.path),
        )

    def services(self, raw: Any) -> dict[str, Service]:
        if not isinstance(raw, dict) or not raw:
            raise self.fail("catalogue", "'services' maps each service id to its details")
        services = {}
        for sid, details in raw.items():
            where = f"service {sid}"
            details = self.keys(details, where, {"name", "provider_service"}, set())
            provider = self.text(details, "provider_service", where)
            output = self.form.outputs.get(provider)
            if output is None or not output.provider_service:
                raise self.fail(
                    where, f"provider_service '{provider}' is not a provider service of the form"
                )
            services[str(sid)] = Service(str(sid), self.text(details, "name", where), provider)
        return services

    def item(self, raw: Any, index: int, services: dict[str, Service], categories: dict) -> Item:
        code = raw.get("code") if isinstance(raw, dict) else None
        where = f"item {code}" if isinstance(code, str) and code else f"item {index}"
        raw = self.keys(raw, where, ITEM_REQUIRED, ITEM_OPTIONAL)
        code = self.text(raw, "code", where)
        if not _CODE.match(code) or len(code) > 40:
            raise self.fail(where, "codes are capitals, digits and hyphens, like MA-GRAB-RAIL")
        category = self.text(raw, "category", where)
        if category not in categories:
            raise self.fail(where, f"unknown category '{category}'")
        service = self.text(raw, "service", where)
        if service not in services:
            raise self.fail(where, f"unknown service '{service}'")
        min_level = raw["min_level"]
        if min_level not in LEVELS:
            raise self.fail(where, "min_level must be L3 or L4")
        keywords = raw["keywords"]
        if not isinstance(keywords, list) or not all(
            isinstance(k, str) and k.strip() for k in keywords
        ):
            raise self.fail(where, "'keywords' must be a list of words")
        fitting = self.flag(raw, "fitting", where)
        minor = self.flag(raw, "minor_adaptation", where)
        unit_cost, band = self.cost(raw, where)
        if minor and (not fitting or unit_cost is None or band == "£££"):
            raise self.fail(
                where,
                "a minor adaptation is fitted and has a unit_cost_pence within the ceiling band",
            )
        suggested_if = None
        if "suggested_if" in raw:
            suggested_if = self.suggested_if(raw["suggested_if"], where)
        return Item(
            code=code,
            name=self.text(raw, "name", where),
            category=category,
            need=self.text(raw, "need", where),
            unit_cost_pence=unit_cost,
            cost_band=band,
            fitting=fitting,
            minor_adaptation=minor,
            min_level=min_level,
            service=service,
            keywords=tuple(k.strip() for k in keywords),
            measurements=self.measurements(raw["measurements"], where),
            suggested_if=suggested_if,
            key_safe=self.flag(raw, "key_safe", where, default=False),
        )

    def cost(self, raw: dict, where: str) -> tuple[int | None, str]:
        if "unit_cost_pence" not in raw and "cost_band" not in raw:
            raise self.fail(where, "give a unit_cost_pence or a cost_band (or both)")
        unit_cost = (
            self.integer(raw, "unit_cost_pence", where) if "unit_cost_pence" in raw else None
        )
        band = raw.get("cost_band")
        if band is None:
            band = next(
                b for b, (_, high) in COST_BANDS.items() if high is None or unit_cost <= high
            )
        if band not in COST_BANDS:
            raise self.fail(where, f"cost_band must be one of {', '.join(COST_BANDS)}")
        low, high = COST_BANDS[band]
        if unit_cost is not None and not (low <= unit_cost and (high is None or unit_cost <= high)):
            raise self.fail(where, f"unit_cost_pence {unit_cost} is not in cost band {band}")
        return unit_cost, band

    def measurements(self, raw: Any, where: str) -> tuple[Measurement, ...]:
        if not isinstance(raw, list):
            raise self.fail(where, "'measurements' must be a list (empty if none)")
        measurements: list[Measurement] = []
        for entry in raw:
            mid = entry.get("id") if isinstance(entry, dict) else None
            here = f"{where}: measurement {mid}" if isinstance(mid, str) else where
            entry = self.keys(entry, here, {"id", "label", "kind"}, MEASUREMENT_KEYS)
            mid = self.text(entry, "id", here)
            if not _ID.match(mid):
                raise self.fail(here, "measurement ids are lower case: letters, digits, _")
            if any(m.id == mid for m in measurements):
                raise self.fail(here, "duplicate measurement id")
            kind = entry["kind"]
            if kind not in KINDS:
                raise self.fail(here, f"kind must be one of {', '.join(KINDS)}")
            measurements.append(self.measurement(entry, mid, kind, here))
        return tuple(measurements)

    def measurement(self, entry: dict, mid: str, kind: str, here: str) -> Measurement:
        options: tuple[tuple[str, str], ...] = ()
        minimum = maximum = None
        if kind == "choice":
            if "minimum" in entry or "maximum" in entry:
                raise self.fail(here, "a choice has options, not a minimum or maximum")
            raw_options = entry.get("options")
            if not isinstance(raw_options, list) or len(raw_options) < 2:
                raise self.fail(here, "a choice needs at least two options")
            for option in raw_options:
                if not isinstance(option, dict) or set(option) != {"value", "label"}:
                    raise self.fail(here, "each option has a value and a label")
                options += ((str(option["value"]), self.text(option, "label", here)),)
            if len({value for value, _ in options}) != len(options):
                raise self.fail(here, "option values must be unique")
        else:
            if mid == "side" or "options" in entry:
                raise self.fail(here, "a number takes no options (a side is a choice)")
            minimum = self.integer(entry, "minimum", here)
            maximum = self.integer(entry, "maximum", here)
            if minimum > maximum:
                raise self.fail(here, f"minimum {minimum} is more than maximum {maximum}")
            self.text(entry, "unit", here)
        return Measurement(
            id=mid,
            label=self.text(entry, "label", here),
            kind=kind,
            unit=self.text(entry, "unit", here, required=False),
            minimum=minimum,
            maximum=maximum,
            options=options,
            hint=self.text(entry, "hint", here, required=False),
        )

    def suggested_if(self, source: Any, where: str) -> Expression:
        try:
            expression = compile_expression(source)
        except ExpressionError as error:
            raise self.fail(where, f"suggested_if: {error}") from None
        questions = self.form.questions
        for name in sorted(expression.names):
            if name not in CONTEXT_NAMES and name not in questions:
                raise self.fail(where, f"suggested_if refers to unknown question '{name}'")
        allowed_context = {"setting": SETTINGS, "visit_kind": VISIT_KINDS}
        for literal in expression.literals:
            question = questions.get(literal.question)
            if question is not None and question.options:
                allowed = tuple(option.value for option in question.options)
            else:
                allowed = allowed_context.get(literal.question)
            if allowed is not None and literal.value not in allowed:
                raise self.fail(
                    where,
                    f"suggested_if compares '{literal.question}' with '{literal.value}', "
                    "which is not one of its options",
                )
        return expression


def load_catalogue(path: Path | str, form: FormDefinition) -> Catalogue:
    """Load and check a catalogue against the form whose answers its ``suggested_if`` read."""
    return _Loader(Path(path), form).load()


class CatalogueRegistry:
    """Every catalogue found under the forms directory, by id and version."""

    def __init__(self, catalogues: list[Catalogue]) -> None:
        self._by_key: dict[tuple[str, int], Catalogue] = {}
        for catalogue in catalogues:
            if catalogue.key in self._by_key:
                other = self._by_key[catalogue.key].path
                raise CatalogueError(
                    catalogue.path, "catalogue", f"id and version already used by {other}"
                )
            self._by_key[catalogue.key] = catalogue

    @classmethod
    def from_directory(cls, directory: Path | str, forms: FormRegistry) -> CatalogueRegistry:
        """Each catalogue is checked against the latest version of its form, the one new
        visits are answered with (an older visit's missing answers simply suggest nothing)."""
        catalogues = []
        for path in sorted(Path(directory).glob("*/catalogue.v*.yaml")):
            form_id = _form_id(path)
            try:
                form = forms.latest(form_id)
            except LookupError:
                raise CatalogueError(path, "catalogue", f"unknown form '{form_id}'") from None
            catalogues.append(load_catalogue(path, form))
        return cls(catalogues)

    def get(self, catalogue_id: str, version: int) -> Catalogue | None:
        return self._by_key.get((catalogue_id, version))

    def latest(self, catalogue_id: str) -> Catalogue:
        versions = [c for (cid, _), c in self._by_key.items() if cid == catalogue_id]
        if not versions:
            raise LookupError(f"no catalogue {catalogue_id!r}")
        return max(versions, key=lambda c: c.version)

    def __iter__(self) -> Iterator[Catalogue]:
        return iter(self._by_key.values())


def _form_id(path: Path) -> str:
    """The form a catalogue names, read before it is checked against that form."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise CatalogueError(path, "file", f"not valid YAML: {error}") from None
    if not isinstance(data, dict) or not isinstance(data.get("form"), str):
        raise CatalogueError(path, "catalogue", "'form' missing: name the form it serves")
    return data["form"]
