"""Signing in: on the field node a local HSC profile unlocked with a passphrase; on central a
user account with a password."""

from __future__ import annotations

import uuid
from urllib.parse import urlsplit

from flask import Flask
from werkzeug.security import check_password_hash, generate_password_hash

from app.extensions import db, login_manager
from app.models import HscProfile, User

MIN_PASSPHRASE_LENGTH = 10


def local_path(target: str | None, default: str) -> str:
    """``target`` if it is a path on this site, else ``default``: never an open redirect."""
    # Browsers read a backslash as a slash, so "/\\evil.example" would leave the site too.
    if (
        target
        and target.startswith("/")
        and "\\" not in target
        and "//" not in target
        and not urlsplit(target).netloc
    ):
        return target
    return default


def hash_passphrase(passphrase: str) -> str:
    return generate_password_hash(passphrase, method="scrypt")


def passphrase_matches(profile: HscProfile, passphrase: str) -> bool:
    return check_password_hash(profile.passphrase_hash, passphrase)


def init_login(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.sign_in"
    login_manager.login_message = "Sign in to continue"
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"

    # The field node signs in local HSC profiles; central signs in user accounts.
    model = HscProfile if app.config["ROLE"] == "field" else User

    @login_manager.user_loader
    def load_user(user_id: str) -> HscProfile | User | None:
        try:
            return db.session.get(model, uuid.UUID(user_id))
        except ValueError:
            return None
