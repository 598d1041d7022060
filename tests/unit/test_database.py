"""The field database: built by the migrations, durable settings, models and migrations agree."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from app.db import write_transaction
from app.extensions import db
from app.models import Visit


def test_sqlite_runs_wal_with_full_synchronous_commits_and_foreign_keys(app):
    with app.app_context():
        pragma = lambda name: db.session.execute(text(f"PRAGMA {name}")).scalar()  # noqa: E731
        assert pragma("journal_mode") == "wal"
        assert pragma("synchronous") == 2  # FULL: a commit survives power loss
        assert pragma("foreign_keys") == 1


@pytest.mark.parametrize("role_app", ["app", "central_app"])
def test_each_roles_migrations_create_exactly_the_tables_its_models_describe(role_app, request):
    app = request.getfixturevalue(role_app)
    role = app.config["ROLE"]

    def mine(obj, name, type_, reflected, compare_to):
        return type_ != "table" or reflected or obj.info.get("role") == role

    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_object": mine}
        )
        differences = compare_metadata(context, db.metadata)
    assert differences == []


def test_a_visit_pointing_at_a_missing_resident_is_refused(app, profile):
    with app.app_context(), pytest.raises(IntegrityError), write_transaction():
        db.session.add(
            Visit(
                resident_id=uuid.uuid4(),
                hsc_id=profile.id,
                setting="home",
                referral_source="gp",
                first_contact_date=date.today(),
                visit_date=date.today(),
                form_id="housing-mot",
                form_version=1,
            )
        )
