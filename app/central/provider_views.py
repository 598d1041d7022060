"""Provider pages: issued referrals to one service, their status, CSV export and print."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("providers", __name__, url_prefix="/referrals")
