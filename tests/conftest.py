"""Fixtures shared by the whole suite: an app on a migrated SQLite file, a page-checking
client, and factories for profiles and visits."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from flask_migrate import upgrade

from app import create_app
from tests.support.factories import make_profile
from tests.support.pages import PageClient

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def migrated_database(tmp_path_factory) -> Path:
    """A field database built by running the migrations, copied for each test."""
    path = tmp_path_factory.mktemp("template") / "field.db"
    app = create_app("field", "test", SQLALCHEMY_DATABASE_URI=f"sqlite:///{path}")
    with app.app_context():
        upgrade()
        from app.extensions import db

        db.engine.dispose()
    return path


@pytest.fixture
def app(migrated_database, tmp_path, monkeypatch):
    monkeypatch.setenv("HMOT_INSTANCE_DIR", str(tmp_path / "instance"))
    path = tmp_path / "field.db"
    shutil.copy(migrated_database, path)
    app = create_app("field", "test", SQLALCHEMY_DATABASE_URI=f"sqlite:///{path}")
    # No app context stays pushed: each request must get its own, as in production
    # (a shared one would share ``g`` between requests). Tests that use queries directly
    # open one with ``with app.app_context():``.
    yield app
    with app.app_context():
        from app.extensions import db

        db.engine.dispose()


@pytest.fixture
def profile(app):
    with app.app_context():
        return make_profile()


@pytest.fixture
def client(app) -> PageClient:
    """A client that checks every HTML page it fetches (see tests/support/pages.py)."""
    return PageClient(app.test_client())


@pytest.fixture
def signed_in(client, profile) -> PageClient:
    client.sign_in(profile.email, "correct horse battery")
    return client
