"""A health check for monitors and for tests waiting on a node to start."""

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

from app.extensions import db

bp = Blueprint("status", __name__)


@bp.get("/_status")
def status():
    db.session.execute(text("SELECT 1"))
    return jsonify(status="ok", role=current_app.config["ROLE"])
