"""Task statuses: a section with nothing to ask on this visit holds nothing back."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from app.formengine.definition import FormDefinition, load_definition
from app.formengine.evaluation import VisitView
from app.visits.helpers import (
    CANNOT_START,
    COMPLETED,
    NOT_STARTED,
    all_sections_complete,
    section_status,
)

DEFINITION_YAML = """\
id: task-test
version: 1
title: Task test
declined_if: "P6 == 'no'"
sections:
  - id: consent
    title: Consent
    task: Check consent
    gate: true
    pages:
      - id: consent
        title: Consent
        questions:
          - {id: P6, type: yes_no, label: Does the resident agree}
  - id: after
    title: After the works
    task: Ask about the works
    pages:
      - id: after-the-works
        title: After the works
        show_if: "visit_kind == 'follow_up'"
        questions:
          - {id: WM_ACHIEVED, type: yes_no, label: Has the service achieved everything}
outputs: []
rules: []
"""


@pytest.fixture(scope="module")
def definition(tmp_path_factory: pytest.TempPathFactory) -> FormDefinition:
    path = tmp_path_factory.mktemp("forms") / "form.v1.yaml"
    path.write_text(DEFINITION_YAML, encoding="utf-8")
    return load_definition(path)


def statuses(definition: FormDefinition, kind: str, progress: dict) -> list[str]:
    view = VisitView(definition, {"P6": "yes"}, setting="home", visit_kind=kind)
    visit = SimpleNamespace(progress=progress)
    return [section_status(visit, view, s) for s in definition.sections] + [
        all_sections_complete(visit, view)
    ]


def test_a_section_hidden_on_this_visit_counts_as_completed(definition):
    done = {"consent": {"rev": 1, "completed": True}}
    assert statuses(definition, "first", done) == [COMPLETED, COMPLETED, True]


def test_the_same_section_is_asked_on_a_follow_up(definition):
    done = {"consent": {"rev": 1, "completed": True}}
    assert statuses(definition, "follow_up", done) == [COMPLETED, NOT_STARTED, False]


def test_a_hidden_section_still_waits_for_the_gate(definition):
    assert statuses(definition, "first", {}) == [NOT_STARTED, CANNOT_START, False]
