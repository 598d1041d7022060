"""Signing in to central with an email address and password.

Failed attempts are counted per email in the database (see ``accounts.authenticate_user``),
so the limit holds across server workers. Sessions are permanent with a 30-minute lifetime
renewed by every request: an idle timeout. Resetting a password or deactivating an account
ends that user's sessions at their next request.
"""

from __future__ import annotations

import hashlib

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user

from app.auth import local_path
from app.central import accounts
from app.central.forms import SignInForm
from app.central.roles import role_required
from app.fields import error_list
from app.models import User
from app.models.central import ROLES

# Named like the field node's blueprint: "auth.sign_in" is the sign-in page in either role.
bp = Blueprint("auth", __name__)

WRONG_DETAILS = "Enter a correct email address and password"
TOO_MANY_ATTEMPTS = "Too many attempts. Wait 15 minutes, then try again"
CREDENTIAL_KEY = "credential"


def credential_fingerprint(user: User) -> str:
    """Changes when the password is reset or the account deactivated, ending old sessions."""
    return hashlib.sha256(f"{user.password_hash}|{user.active}".encode()).hexdigest()[:32]


@bp.before_app_request
def end_outdated_session() -> None:
    if request.endpoint == "static" or not current_user.is_authenticated:
        return
    if session.get(CREDENTIAL_KEY) != credential_fingerprint(current_user):
        logout_user()
        session.clear()


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in():
    if current_user.is_authenticated:
        return redirect(url_for("home.home"))
    form = SignInForm()
    if form.validate_on_submit():
        try:
            user = accounts.authenticate_user(form.email.data, form.password.data)
        except accounts.TooManySignInAttempts:
            form.password.errors = [TOO_MANY_ATTEMPTS]
        else:
            if user is not None:
                session.clear()
                login_user(user, remember=False)
                session.permanent = True  # PERMANENT_SESSION_LIFETIME is the idle timeout
                session[CREDENTIAL_KEY] = credential_fingerprint(user)
                return redirect(local_path(request.args.get("next"), url_for("home.home")))
            form.password.errors = [WRONG_DETAILS]
        form.password.data = ""
    return render_template("central/sign-in.html", form=form, errors=error_list(form))


@bp.post("/sign-out")
@role_required(*ROLES)
def sign_out():
    logout_user()
    session.clear()
    flash("You have signed out", "success")
    return redirect(url_for("auth.sign_in"))
