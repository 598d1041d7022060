"""The equipment catalogue: the real one loads against the real form, covers the domain
reference's minor items, is searched and suggests items; each mistake is refused by name."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from app import create_app
from app.equipment import CatalogueError, CatalogueRegistry, load_catalogue
from app.formengine.definition import FormRegistry, load_definition
from app.formengine.evaluation import VisitView

FORMS = Path(__file__).resolve().parents[2] / "forms"
FORM_PATH = FORMS / "housing_mot" / "form.v1.yaml"
CATALOGUE_PATH = FORMS / "housing_mot" / "catalogue.v1.yaml"
FORM = load_definition(FORM_PATH)
CATALOGUE = load_catalogue(CATALOGUE_PATH, FORM)
CASE_STORIES = yaml.safe_load(
    (FORMS / "housing_mot" / "examples" / "case-stories.yaml").read_text(encoding="utf-8")
)

# Every row of domain reference section 5 that is not a major adaptation, with the
# catalogue items that stand for it.
DOMAIN_ROWS: dict[str, list[str]] = {
    "Grab rail (straight, angled, hinged/fold-up, floor-to-wall)": [
        "Grab rail (straight)",
        "Grab rail (angled)",
        "Grab rail (hinged, fold-up)",
        "Grab rail (floor-to-wall)",
    ],
    "Stair / banister rail (second rail)": ["Stair rail (second banister rail)"],
    "External rail / newel rail": ["External rail or newel rail"],
    "Half step": ["Half step (metal, adjustable feet)"],
    "Ramp (threshold or portable)": ["Threshold ramp", "Portable ramp"],
    "Bath board": ["Bath board"],
    "Bath seat / bath lift (powered)": ["Bath seat", "Bath lift (powered)"],
    "Shower stool / chair": ["Shower stool", "Shower chair (with back and arms)"],
    "Perching stool": ["Perching stool"],
    "Raised toilet seat": ["Raised toilet seat"],
    "Toilet frame / surround": ["Toilet frame (surround)"],
    "Commode": ["Commode"],
    "Non-slip bath mat / strips": ["Non-slip bath mat or strips"],
    "Chair raisers / furniture raisers": ["Chair raisers (set of four)"],
    "Bed raisers / bed lever or bed bar": ["Bed raisers (set of four)", "Bed lever (bed bar)"],
    "Helping hand / reacher; long-handled aids; sock aid": [
        "Helping hand (reacher)",
        "Long-handled aids (sponge, comb, shoe horn)",
        "Sock aid",
    ],
    "Kitchen trolley": ["Kitchen trolley"],
    "Walking aids (stick, frame, 3- or 4-wheeled walker)": [
        "Walking stick (adjustable)",
        "Walking frame",
        "Wheeled walker (3 or 4 wheels)",
    ],
    "Lever taps / tap turners": ["Lever taps (fitted)", "Tap turners"],
    "Key safe": ["Key safe (police-approved)"],
    "Door intercom / door-entry system": ["Door intercom (door-entry system)"],
    "Flashing or amplified doorbell; amplified phone": [
        "Flashing or amplified doorbell",
        "Amplified phone",
    ],
    "Lighting: extra bulbs, two-way stair switch, motion-sensor outdoor light, night lights": [
        "Brighter or extra light bulbs",
        "Two-way stair light switch",
        "Motion-sensor outdoor light",
        "Plug-in night lights",
    ],
    "Heating controls adaptation (easy thermostat)": ["Easy-to-use heating controls (thermostat)"],
    "Locks, door chain, spy hole, window locks": [
        "Door lock",
        "Door chain",
        "Spy hole (door viewer)",
        "Window lock",
    ],
    "Smoke alarm (10-year), heat alarm, CO alarm; strobe / vibrating-pad alarm": [
        "Smoke alarm (10-year battery)",
        "Heat alarm",
        "Carbon monoxide alarm",
        "Strobe and vibrating-pad smoke alarm",
    ],
    "Call blocker (landline)": ["Call blocker (landline)"],
    "Telecare lifeline unit + pendant": ["Telecare lifeline unit and pendant"],
    "Pull cord (bathroom)": ["Pull cord (bathroom)"],
    "Fall detector": ["Fall detector"],
    "Bed / chair occupancy sensor": ["Bed or chair occupancy sensor"],
    "Linked smoke detector; temperature-extremes sensor; flood detector; CO detector": [
        "Linked detector (smoke, heat, carbon monoxide, temperature or flood)"
    ],
    "Bogus-caller button": ["Bogus-caller button"],
    "Door-exit sensor / GPS locator": ["Door-exit sensor", "GPS locator"],
    "Pager / carer alert": ["Pager or carer alert"],
}
MAJOR_ADAPTATIONS = ("stairlift", "level-access", "wet room", "through-floor", "door widening")


def raw_catalogue() -> dict[str, Any]:
    """The real catalogue as plain data, with YAML anchors unshared so one change stays put."""
    data = yaml.safe_load(CATALOGUE_PATH.read_text(encoding="utf-8"))
    return json.loads(json.dumps(data))


def item(data: dict[str, Any], code: str) -> dict[str, Any]:
    return next(entry for entry in data["items"] if entry["code"] == code)


def write(tmp_path: Path, data: dict[str, Any], name: str = "catalogue.v1.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


# --- The real catalogue -------------------------------------------------------------------


def test_the_real_catalogue_loads_against_the_real_form():
    assert CATALOGUE.id == "housing-mot-equipment"
    assert CATALOGUE.version == 1
    assert CATALOGUE.rules_version == "2026-11-1"
    assert CATALOGUE.form_id == FORM.id
    assert CATALOGUE.ceiling_pence == 100_000
    assert CATALOGUE.path == str(CATALOGUE_PATH)


@pytest.mark.parametrize("row", DOMAIN_ROWS)
def test_every_minor_item_of_the_domain_reference_is_in_the_catalogue(row):
    names = {entry.name for entry in CATALOGUE.items.values()}
    missing = [name for name in DOMAIN_ROWS[row] if name not in names]
    assert not missing, f"{row}: missing {missing}"


def test_the_catalogue_has_no_major_adaptation():
    for entry in CATALOGUE.items.values():
        assert not any(word in entry.name.lower() for word in MAJOR_ADAPTATIONS), entry.name
        assert entry.cost_band != "£££", entry.code


def test_some_items_need_a_level_4_assessor_without_being_major_adaptations():
    level_4 = [entry for entry in CATALOGUE.items.values() if entry.min_level == "L4"]
    assert {entry.code for entry in level_4} >= {"EQ-BATH-LIFT", "MA-RAMP-MODULAR"}
    assert all(entry.cost_band != "£££" for entry in level_4)


def test_only_the_key_safe_is_marked_as_a_key_safe():
    assert [entry.code for entry in CATALOGUE.items.values() if entry.key_safe] == ["MA-KEY-SAFE"]


def test_community_equipment_and_minor_adaptations_go_to_one_provider_queue():
    queues = {sid: service.provider_service for sid, service in CATALOGUE.services.items()}
    assert queues == {
        "minor_adaptations": "minor_adaptations",
        "community_equipment": "minor_adaptations",
        "handyperson": "handyperson",
        "assistive_technology": "assistive_technology",
    }
    assert CATALOGUE.provider_service(CATALOGUE.item("EQ-BATH-BOARD")) == "minor_adaptations"
    assert CATALOGUE.provider_service(CATALOGUE.item("HP-DOOR-CHAIN")) == "handyperson"


def test_every_minor_adaptation_is_fitted_and_priced_within_the_ceiling():
    for entry in CATALOGUE.items.values():
        if entry.minor_adaptation:
            assert entry.fitting, entry.code
            assert entry.unit_cost_pence is not None, entry.code
            assert entry.unit_cost_pence <= CATALOGUE.ceiling_pence, entry.code


def test_the_measurements_the_providers_need_are_asked_for():
    grab = CATALOGUE.item("MA-GRAB-STRAIGHT")
    assert [option for option, _ in grab.measurement("length_mm").options] == [
        "300",
        "450",
        "600",
    ]
    assert grab.measurement("side").kind == "choice"
    assert CATALOGUE.item("MA-STAIR-RAIL").measurement("length_mm").kind == "number"
    assert CATALOGUE.item("EQ-HALF-STEP").measurement("step_height_mm").unit == "mm"
    seat = CATALOGUE.item("EQ-RAISED-TOILET-SEAT").measurement("seat_height_mm")
    assert [value for value, _ in seat.options] == ["50", "100", "150"]
    assert CATALOGUE.item("EQ-BATH-BOARD").measurement("bath_width_mm").kind == "number"


def test_the_app_loads_the_catalogues_at_start_up_on_both_roles(tmp_path, monkeypatch):
    monkeypatch.setenv("HMOT_INSTANCE_DIR", str(tmp_path))
    for role in ("field", "central"):
        app = create_app(role, "test", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/a.db")
        catalogues = app.extensions["catalogues"]
        assert catalogues.latest("housing-mot-equipment").version == 1
        assert catalogues.get("housing-mot-equipment", 1) is not None
        assert catalogues.get("housing-mot-equipment", 2) is None
        assert [c.id for c in catalogues] == ["housing-mot-equipment"]


# --- Search and suggestions -----------------------------------------------------------------


def codes(items) -> list[str]:
    return [entry.code for entry in items]


def test_searching_for_nothing_lists_every_item_by_category_then_name():
    found = CATALOGUE.search("  ")
    assert len(found) == len(CATALOGUE.items)
    order = list(CATALOGUE.categories)
    keys = [(order.index(entry.category), entry.name.lower()) for entry in found]
    assert keys == sorted(keys)


def test_search_needs_every_word_to_match_whatever_the_case():
    assert codes(CATALOGUE.search("GRAB rail")) == [
        "MA-GRAB-ANGLED",
        "MA-GRAB-FLOOR-WALL",
        "MA-GRAB-FOLDUP",
        "MA-GRAB-STRAIGHT",
    ]
    assert CATALOGUE.search("grab stairs") == []


def test_search_looks_at_codes_keywords_category_names_and_needs():
    assert codes(CATALOGUE.search("ma-key-safe")) == ["MA-KEY-SAFE"]
    assert codes(CATALOGUE.search("banister")) == ["MA-STAIR-RAIL"]
    assert "AT-PULL-CORD" in codes(CATALOGUE.search("telecare and alarms"))
    assert "EQ-PERCHING-STOOL" in codes(CATALOGUE.search("worktop"))


def test_search_finds_a_singular_from_a_plural():
    assert "MA-STAIR-RAIL" in codes(CATALOGUE.search("rails"))


def values(answers: dict[str, Any], setting: str = "home") -> dict[str, Any]:
    return VisitView(FORM, answers, setting=setting, age=78).values


def test_case_story_1_suggests_grab_rails_by_the_bath_and_a_bath_board():
    suggested = codes(CATALOGUE.suggested(values(CASE_STORIES["case-story-1"]["answers"])))
    assert {"MA-GRAB-STRAIGHT", "MA-GRAB-ANGLED", "EQ-BATH-BOARD"} <= set(suggested)
    assert not [code for code in suggested if code.startswith("AT-")]
    assert "MA-KEY-SAFE" not in suggested


def test_a_second_stair_rail_is_suggested_from_the_answers_at_a_clinic_or_at_home():
    at_clinic = values({"P6": "yes", "A1": ["stairs"], "A4": "one"}, setting="gp_clinic")
    at_home = values({"P6": "yes", "F13": "one_side"})
    assert "MA-STAIR-RAIL" in codes(CATALOGUE.suggested(at_clinic))
    assert "MA-STAIR-RAIL" in codes(CATALOGUE.suggested(at_home))
    both_rails = values({"P6": "yes", "F13": "both_sides"})
    assert "MA-STAIR-RAIL" not in codes(CATALOGUE.suggested(both_rails))


def test_nothing_is_suggested_before_anything_is_answered():
    assert CATALOGUE.suggested(values({})) == []


# --- Each mistake is refused, naming the file and the item ---------------------------------

Change = Callable[[dict[str, Any]], None]


def _set(code: str, key: str, value: Any) -> Change:
    return lambda data: item(data, code).__setitem__(key, value)


def _measurement(code: str, mid: str, **changes: Any) -> Change:
    def change(data: dict[str, Any]) -> None:
        entry = next(m for m in item(data, code)["measurements"] if m["id"] == mid)
        entry.update(changes)
        for key in [k for k, v in changes.items() if v is None]:
            del entry[key]

    return change


def _duplicate(data: dict[str, Any]) -> None:
    data["items"].append(dict(item(data, "EQ-SOCK-AID")))


MISTAKES: dict[str, tuple[Change, str]] = {
    "a level that is not L3 or L4": (
        _set("MA-GRAB-STRAIGHT", "min_level", "L5"),
        "item MA-GRAB-STRAIGHT: min_level must be L3 or L4",
    ),
    "a missing key": (
        lambda data: item(data, "EQ-BATH-BOARD").pop("need"),
        "item EQ-BATH-BOARD: missing keys: need",
    ),
    "an unknown key": (
        _set("EQ-COMMODE", "colour", "blue"),
        "item EQ-COMMODE: unknown keys: colour",
    ),
    "a duplicate code": (_duplicate, "item EQ-SOCK-AID: duplicate item code"),
    "an unknown category": (
        _set("EQ-REACHER", "category", "garden"),
        "item EQ-REACHER: unknown category 'garden'",
    ),
    "an unknown service": (
        _set("EQ-REACHER", "service", "plumbing"),
        "item EQ-REACHER: unknown service 'plumbing'",
    ),
    "a code that is not capitals and hyphens": (
        _set("EQ-REACHER", "code", "eq reacher"),
        "item eq reacher: codes are capitals",
    ),
    "a measurement of an unknown kind": (
        _measurement("EQ-HALF-STEP", "step_height_mm", kind="text"),
        "item EQ-HALF-STEP: measurement step_height_mm: kind must be one of number, choice",
    ),
    "a choice without options": (
        _measurement("EQ-RAISED-TOILET-SEAT", "seat_height_mm", options=None),
        "item EQ-RAISED-TOILET-SEAT: measurement seat_height_mm: a choice needs at least two",
    ),
    "a number whose minimum is above its maximum": (
        _measurement("EQ-HALF-STEP", "step_height_mm", minimum=300, maximum=100),
        "item EQ-HALF-STEP: measurement step_height_mm: minimum 300 is more than maximum 100",
    ),
    "a number without a unit": (
        _measurement("EQ-HALF-STEP", "step_height_mm", unit=None),
        "item EQ-HALF-STEP: measurement step_height_mm: 'unit' missing",
    ),
    "a suggested_if that does not compile": (
        _set("MA-STAIR-RAIL", "suggested_if", "A4 == 'one' and __import__('os')"),
        "item MA-STAIR-RAIL: suggested_if:",
    ),
    "a suggested_if naming a question the form does not have": (
        _set("MA-STAIR-RAIL", "suggested_if", "Z9 == 'yes'"),
        "item MA-STAIR-RAIL: suggested_if refers to unknown question 'Z9'",
    ),
    "a suggested_if comparing with an option the question does not offer": (
        _set("MA-STAIR-RAIL", "suggested_if", "A4 == 'three'"),
        "item MA-STAIR-RAIL: suggested_if compares 'A4' with 'three'",
    ),
    "no cost at all": (
        lambda data: [item(data, "EQ-SOCK-AID").pop(k) for k in ("unit_cost_pence", "cost_band")],
        "item EQ-SOCK-AID: give a unit_cost_pence or a cost_band",
    ),
    "a cost outside its band": (
        _set("EQ-SOCK-AID", "unit_cost_pence", 50_000),
        "item EQ-SOCK-AID: unit_cost_pence 50000 is not in cost band £",
    ),
    "a minor adaptation that is not fitted": (
        _set("MA-GRAB-STRAIGHT", "fitting", False),
        "item MA-GRAB-STRAIGHT: a minor adaptation is fitted",
    ),
    "a service sending orders to a queue the form does not have": (
        lambda data: data["services"]["handyperson"].__setitem__("provider_service", "plumbing"),
        "service handyperson: provider_service 'plumbing' is not a provider service",
    ),
    "an unknown top-level key": (
        lambda data: data.__setitem__("colour", "blue"),
        "catalogue: unknown keys: colour",
    ),
    "a catalogue for another form": (
        lambda data: data.__setitem__("form", "another-form"),
        "catalogue: is for form 'another-form', not 'housing-mot'",
    ),
}


@pytest.mark.parametrize("mistake", MISTAKES)
def test_a_bad_catalogue_is_refused_naming_the_file_and_the_item(mistake, tmp_path):
    change, expected = MISTAKES[mistake]
    data = raw_catalogue()
    change(data)
    path = write(tmp_path, data)
    with pytest.raises(CatalogueError) as caught:
        load_catalogue(path, FORM)
    assert str(caught.value).startswith(f"{path}: ")
    assert expected in str(caught.value)


def test_a_copy_of_the_real_catalogue_loads_unchanged(tmp_path):
    path = write(tmp_path, raw_catalogue())
    assert load_catalogue(path, FORM).items.keys() == CATALOGUE.items.keys()


def test_a_catalogue_that_is_not_yaml_is_refused_naming_the_file(tmp_path):
    path = tmp_path / "catalogue.v1.yaml"
    path.write_text("items: [unclosed", encoding="utf-8")
    with pytest.raises(CatalogueError, match=r"catalogue\.v1\.yaml: file: not valid YAML"):
        load_catalogue(path, FORM)


# --- The registry -------------------------------------------------------------------------------


def forms_directory(tmp_path: Path) -> Path:
    directory = tmp_path / "forms" / "housing_mot"
    directory.mkdir(parents=True)
    shutil.copy(FORM_PATH, directory / "form.v1.yaml")
    return directory


def test_the_registry_keeps_every_version_and_gives_the_latest(tmp_path):
    directory = forms_directory(tmp_path)
    write(directory, raw_catalogue(), "catalogue.v1.yaml")
    write(directory, {**raw_catalogue(), "version": 2}, "catalogue.v2.yaml")
    forms = FormRegistry.from_directory(tmp_path / "forms")
    registry = CatalogueRegistry.from_directory(tmp_path / "forms", forms)
    assert registry.latest("housing-mot-equipment").version == 2
    assert registry.get("housing-mot-equipment", 1).version == 1
    assert sorted(c.version for c in registry) == [1, 2]
    with pytest.raises(LookupError):
        registry.latest("no-such-catalogue")


def test_the_registry_refuses_two_files_with_one_id_and_version(tmp_path):
    directory = forms_directory(tmp_path)
    write(directory, raw_catalogue(), "catalogue.v1.yaml")
    write(directory, raw_catalogue(), "catalogue.v2.yaml")
    forms = FormRegistry.from_directory(tmp_path / "forms")
    with pytest.raises(CatalogueError, match=r"catalogue\.v2\.yaml: catalogue: id and version"):
        CatalogueRegistry.from_directory(tmp_path / "forms", forms)


def test_the_registry_refuses_a_catalogue_for_a_form_that_does_not_exist(tmp_path):
    directory = forms_directory(tmp_path)
    write(directory, {**raw_catalogue(), "form": "no-such-form"})
    forms = FormRegistry.from_directory(tmp_path / "forms")
    with pytest.raises(CatalogueError, match=r"catalogue\.v1\.yaml: catalogue: unknown form"):
        CatalogueRegistry.from_directory(tmp_path / "forms", forms)
