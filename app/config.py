"""Configuration classes, chosen by name (``HMOT_ENV``) and read from the environment."""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

from app.db import json_text

ROOT = Path(__file__).resolve().parent.parent


def _instance_dir() -> Path:
    return Path(os.environ.get("HMOT_INSTANCE_DIR", ROOT / "instance"))


def _field_secret_key(instance: Path) -> str:
    """A per-device key kept beside the database, so sessions survive a restart of the node."""
    instance.mkdir(parents=True, exist_ok=True)
    path = instance / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


class Config:
    ENV_NAME = "base"
    FALLBACK_SECRET_KEY = ""
    ROLE = "field"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    PERMANENT_SESSION_LIFETIME = timedelta(hours=8)  # one working day on the device
    # Central is reached over the network by office staff: sign out after 30 idle minutes.
    # Each request renews the (permanent) session, so this is an idle timeout, not a cap.
    CENTRAL_IDLE_TIMEOUT = timedelta(minutes=30)
    SESSION_REFRESH_EACH_REQUEST = True
    ENROLMENT_CODE_MINUTES = int(os.environ.get("HMOT_ENROLMENT_CODE_MINUTES", "15"))
    SQLALCHEMY_ENGINE_OPTIONS = {"connect_args": {"timeout": 10}, "json_serializer": json_text}
    WTF_CSRF_TIME_LIMIT = None  # a form may sit open for a whole visit
    COMPRESS_MIMETYPES = [
        "text/html",
        "text/css",
        "text/javascript",
        "application/javascript",
        "application/json",
        "application/manifest+json",
        "image/svg+xml",
    ]
    COMPRESS_ALGORITHM = ["gzip"]
    COMPRESS_MIN_SIZE = 256
    FORM_DEFINITIONS_DIR = str(ROOT / "forms")
    COUNCIL_NAME = os.environ.get("HMOT_COUNCIL_NAME", "Leicestershire Housing Support")
    SYNC_INTERVAL_SECONDS = float(os.environ.get("HMOT_SYNC_INTERVAL", "30"))
    # Central: work out pushed revisions' referrals in the push request, after its commit,
    # instead of in the ingest worker (app.central.ingest). For single-process test apps.
    INGEST_INLINE = False
    SYNC_BACKOFF_CAP_SECONDS = float(os.environ.get("HMOT_SYNC_BACKOFF_CAP", "300"))
    # Compressed request size; sync bodies are capped again once inflated.
    MAX_CONTENT_LENGTH = int(os.environ.get("HMOT_MAX_CONTENT_LENGTH", 8 * 1024 * 1024))
    # A test that reaches for central without starting one fails loudly.
    CENTRAL_URL = os.environ.get("HMOT_CENTRAL_URL", "")

    @classmethod
    def init(cls, role: str) -> dict:
        instance = _instance_dir()
        db_url = os.environ.get("DATABASE_URL")
        if not db_url:
            instance.mkdir(parents=True, exist_ok=True)
            db_url = f"sqlite:///{instance / (role + '.db')}"
        key = os.environ.get("SECRET_KEY") or (
            _field_secret_key(instance) if role == "field" else cls.FALLBACK_SECRET_KEY
        )
        values = {"ROLE": role, "SQLALCHEMY_DATABASE_URI": db_url, "SECRET_KEY": key}
        if role == "central":
            values["PERMANENT_SESSION_LIFETIME"] = cls.CENTRAL_IDLE_TIMEOUT
        return values


class DevelopmentConfig(Config):
    ENV_NAME = "development"
    FALLBACK_SECRET_KEY = "development-only-key"  # noqa: S105 - never used in production


class TestConfig(Config):
    ENV_NAME = "test"
    TESTING = True
    FALLBACK_SECRET_KEY = "test-only-key"  # noqa: S105 - never used in production
    CENTRAL_URL = "http://you-forgot-to-start-a-central-server.invalid"


class ProductionConfig(Config):
    ENV_NAME = "production"

    @classmethod
    def init(cls, role: str) -> dict:
        values = super().init(role)
        if role == "central":
            if len(values["SECRET_KEY"]) < 32:
                raise RuntimeError(
                    "Set SECRET_KEY (at least 32 characters) before starting central."
                )
            # The field node is served over http://127.0.0.1; central only ever over HTTPS.
            values["SESSION_COOKIE_SECURE"] = True
        return values


CONFIGS = {
    "development": DevelopmentConfig,
    "test": TestConfig,
    "production": ProductionConfig,
}


def config_for(name: str | None) -> type[Config]:
    name = name or os.environ.get("HMOT_ENV", "production")
    try:
        return CONFIGS[name]
    except KeyError:
        raise RuntimeError(f"Unknown HMOT_ENV {name!r}; use one of {', '.join(CONFIGS)}") from None
