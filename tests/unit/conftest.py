"""Unit-test fixtures shared by the device's pull tests."""

from __future__ import annotations

import pytest

from app import queries
from tests.support.factories import enrol_offline, make_visit


@pytest.fixture
def visit(app, profile):
    """A completed visit on a field node enrolled to a central that is never reached."""
    with app.app_context():
        visit = make_visit(profile)
        visit = queries.save_consents(profile.id, visit.id, 0, {}, complete=True)
        enrol_offline(profile.id)
        return visit
