"""Jinja set-up: GOV.UK Frontend macros, hashed asset URLs and shared template globals."""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

from flask import Flask, url_for
from jinja2 import ChoiceLoader, PackageLoader, PrefixLoader

from app.config import ROOT


@cache
def _digest(path: Path, _mtime: float) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def asset_url(filename: str) -> str:
    """A static URL with a content hash, so assets can be cached as immutable."""
    path = ROOT / "static" / filename
    return url_for("static", filename=filename, v=_digest(path, path.stat().st_mtime))


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
        council_name=app.config["COUNCIL_NAME"],
        role=app.config["ROLE"],
    )
