"""Jinja set-up: GOV.UK Frontend macros, hashed asset URLs and shared template globals."""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

from flask import Flask, request, url_for
from flask_login import current_user
from jinja2 import ChoiceLoader, PackageLoader, PrefixLoader

from app.config import ROOT


@cache
def _digest(path: Path, _mtime: float) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def asset_url(filename: str) -> str:
    """A static URL with a content hash, so assets can be cached as immutable."""
    path = ROOT / "static" / filename
    return url_for("static", filename=filename, v=_digest(path, path.stat().st_mtime))


# The header's links by role: (endpoint, text, roles that see it or None for everyone signed
# in). A link is marked current on any page of its blueprint.
NAVIGATION = {
    "field": [
        ("visits.my_visits", "My visits", None),
        ("visits.list_residents", "My residents", None),
    ],
    "central": [
        ("admin.list_users", "Users", {"admin"}),
        ("review.queue", "Visits to review", {"team_leader"}),
        ("devices.list_devices", "Devices", {"admin", "team_leader"}),
        ("providers.list_referrals", "Referrals", {"provider"}),
    ],
}


def navigation(role: str) -> list[dict]:
    if not (current_user and current_user.is_authenticated):
        return []
    user_role = getattr(current_user, "role", None)
    return [
        {
            "href": url_for(endpoint),
            "text": text,
            "active": request.endpoint == endpoint
            or (role == "central" and request.blueprint == endpoint.split(".")[0]),
        }
        for endpoint, text, roles in NAVIGATION[role]
        if roles is None or user_role in roles
    ]


def legend(field, size: str = "s") -> dict:
    """Macro parameters for a question asked with a fieldset: its legend, with its text.

    govuk-frontend-wtf fills the legend in only when no ``fieldset`` is passed, so passing
    one for the size alone would leave the legend empty.
    """
    return {
        "fieldset": {
            "legend": {"text": field.label.text, "classes": f"govuk-fieldset__legend--{size}"}
        }
    }


def init_templating(app: Flask) -> None:
    app.jinja_loader = ChoiceLoader(
        [
            app.jinja_loader,
            PrefixLoader(
                {
                    "govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja"),
                    "govuk_frontend_wtf": PackageLoader("govuk_frontend_wtf"),
                }
            ),
        ]
    )
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    app.jinja_env.globals.update(
        asset_url=asset_url,
        legend=legend,
        council_name=app.config["COUNCIL_NAME"],
        role=app.config["ROLE"],
        navigation=lambda: navigation(app.config["ROLE"]),
    )
