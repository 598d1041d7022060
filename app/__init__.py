"""Housing MOT: one Flask codebase, started as a field node or as the central server."""

from __future__ import annotations

from flask import Flask

from app.config import ROOT, config_for

ROLES = ("field", "central")


def create_app(role: str = "field", config_name: str | None = None, **overrides) -> Flask:
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    config = config_for(config_name)
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        static_url_path="/static",
    )
    app.config.from_object(config)
    app.config.update(config.init(role))
    app.config.update(overrides)
    init_extensions(app)
    load_forms(app)
    register_blueprints(app)
    register_error_handlers(app)
    register_commands(app)
    return app


def init_extensions(app: Flask) -> None:
    from app import db as _sqlite_settings  # noqa: F401 - registers the SQLite listeners
    from app.auth import init_login
    from app.extensions import compress, csrf, db, migrate
    from app.security import init_security_headers
    from app.templating import init_templating

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "app" / "migrations"))
    csrf.init_app(app)
    compress.init_app(app)
    init_login(app)
    init_templating(app)
    init_security_headers(app)


def load_forms(app: Flask) -> None:
    """Load and check every form definition now, so a broken one stops start-up, not a visit."""
    from app.equipment import CatalogueRegistry
    from app.formengine import FormRegistry

    app.extensions["forms"] = FormRegistry.from_directory(app.config["FORM_DEFINITIONS_DIR"])
    app.extensions["catalogues"] = CatalogueRegistry.from_directory(
        app.config["FORM_DEFINITIONS_DIR"], app.extensions["forms"]
    )


def register_blueprints(app: Flask) -> None:
    from app.auth.views import bp as auth_bp
    from app.central.sync_api import bp as sync_api_bp
    from app.device import bp as device_bp
    from app.pwa import bp as pwa_bp
    from app.status import bp as status_bp
    from app.visits import bp as visits_bp

    app.register_blueprint(status_bp)  # /_status for monitors: no session, no personal data
    if app.config["ROLE"] == "field":
        app.register_blueprint(auth_bp)  # passphrase sign-in to the local HSC profile
        app.register_blueprint(visits_bp)  # the Housing MOT journey
        app.register_blueprint(pwa_bp)  # manifest and service worker, served from /
        app.register_blueprint(device_bp)  # enrolment, sync state on every page, Sync now
    if app.config["ROLE"] == "central":
        from app.central import admin, auth, devices, home, provider_views, review_views

        app.register_blueprint(auth.bp)  # password sign-in for office staff, rate limited
        app.register_blueprint(home.bp)  # the front page: each role goes to where its work is
        app.register_blueprint(admin.bp)  # accounts, passwords and enrolment codes (admins)
        app.register_blueprint(devices.bp)  # enrolled devices, their sync health; revoking
        app.register_blueprint(review_views.bp)  # team leaders: approve or return visits
        app.register_blueprint(provider_views.bp)  # providers: their service's referrals
        app.register_blueprint(sync_api_bp)  # JSON for devices: bearer tokens, no cookies


def register_error_handlers(app: Flask) -> None:
    from app.errors import register

    register(app)


def register_commands(app: Flask) -> None:
    from app.cli import register

    register(app)
