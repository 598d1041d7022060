"""Central's front page: each role goes to where its work is."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user

from app.central.roles import ADMIN, PROVIDER, ROLE_LABELS, TEAM_LEADER, role_required
from app.models.central import ROLES

bp = Blueprint("home", __name__)

HOME_BY_ROLE = {
    ADMIN: "admin.list_users",
    TEAM_LEADER: "review.queue",
    PROVIDER: "providers.list_referrals",
}


@bp.get("/")
@role_required(*ROLES)
def home():
    return redirect(url_for(HOME_BY_ROLE.get(current_user.role, "home.start")))


@bp.get("/start")
@role_required(*ROLES)
def start():
    return render_template("central/start.html", role_label=ROLE_LABELS[current_user.role])
