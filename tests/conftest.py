"""Fixtures shared by the whole suite: an app on a migrated SQLite file, a page-checking
client, and factories for profiles and visits."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from flask_migrate import upgrade

from app import create_app
from app.extensions import db
from tests.support.factories import make_profile
from tests.support.pages import PageClient

ROOT = Path(__file__).resolve().parent.parent


def _migrated(role: str, directory: Path) -> Path:
    path = directory / f"{role}.db"
    app = create_app(role, "test", SQLALCHEMY_DATABASE_URI=f"sqlite:///{path}")
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return path


@pytest.fixture(scope="session")
def migrated_databases(tmp_path_factory) -> dict[str, Path]:
    """A database per role built by running its migrations, copied for each test."""
    directory = tmp_path_factory.mktemp("template")
    return {role: _migrated(role, directory) for role in ("field", "central")}


def _app(role: str, template: Path, tmp_path: Path):
    path = tmp_path / f"{role}.db"
    shutil.copy(template, path)
    # In process there is no ingest worker: a push works out its referrals before it returns.
    inline = {"INGEST_INLINE": True} if role == "central" else {}
    app = create_app(role, "test", SQLALCHEMY_DATABASE_URI=f"sqlite:///{path}", **inline)
    # No app context stays pushed: each request must get its own, as in production
    # (a shared one would share ``g`` between requests). Tests that use queries directly
    # open one with ``with app.app_context():``.
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def app(migrated_databases, tmp_path, monkeypatch):
    """A field node."""
    monkeypatch.setenv("HMOT_INSTANCE_DIR", str(tmp_path / "instance"))
    yield from _app("field", migrated_databases["field"], tmp_path)


@pytest.fixture
def central_app(migrated_databases, tmp_path, monkeypatch):
    monkeypatch.setenv("HMOT_INSTANCE_DIR", str(tmp_path / "instance"))
    yield from _app("central", migrated_databases["central"], tmp_path)


@pytest.fixture
def profile(app):
    with app.app_context():
        return make_profile()


@pytest.fixture
def client(app) -> PageClient:
    """A client that checks every HTML page it fetches (see tests/support/pages.py)."""
    return PageClient(app.test_client())


@pytest.fixture
def central_client(central_app) -> PageClient:
    """A page-checking client for the central app (signs in with a password)."""
    return PageClient(central_app.test_client(), sign_in_field="password")


@pytest.fixture
def signed_in(client, profile) -> PageClient:
    client.sign_in(profile.email, "correct horse battery")
    return client
