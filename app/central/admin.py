"""Admins manage accounts: create one, change its details, reset its password, deactivate or
reactivate it, and make a one-time enrolment code for an HSC's device.

A temporary password or an enrolment code appears once, in the answer to the POST that
made it: never in a redirect, the session or a log, and never stored in plain text.
"""

from __future__ import annotations

import uuid

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_login import current_user

from app.central import accounts
from app.central.forms import ACCOUNT_FORMS, ConfirmForm, RoleForm
from app.central.roles import (
    ADMIN,
    DISTRICT_LABELS,
    HSC,
    ROLE_LABELS,
    ROLE_SLUGS,
    ROLES_BY_SLUG,
    SERVICE_LABELS,
    TA_LABELS,
    role_required,
)
from app.fields import error_list
from app.models import User

bp = Blueprint("admin", __name__)


@bp.context_processor
def labels() -> dict:
    return {
        "role_labels": ROLE_LABELS,
        "service_labels": SERVICE_LABELS,
        "ta_labels": TA_LABELS,
        "describe_districts": describe_districts,
    }


def describe_districts(user: User) -> str:
    return ", ".join(DISTRICT_LABELS.get(name, name) for name in user.district_names)


def _user_or_404(user_id: uuid.UUID) -> User:
    user = accounts.get_user(user_id)
    if user is None:
        abort(404)
    return user


@bp.get("/users")
@role_required(ADMIN)
def list_users():
    return render_template("central/users.html", users=accounts.list_users())


@bp.route("/users/new", methods=["GET", "POST"])
@role_required(ADMIN)
def choose_role():
    form = RoleForm()
    if form.validate_on_submit():
        return redirect(url_for("admin.new_user", role=ROLE_SLUGS[form.role.data]))
    return render_template(
        "central/choose-role.html", form=form, errors=error_list(form), back=url_for(".list_users")
    )


@bp.route("/users/new/<role>", methods=["GET", "POST"])
@role_required(ADMIN)
def new_user(role: str):
    role = ROLES_BY_SLUG.get(role) or abort(404)
    form = ACCOUNT_FORMS[role]()
    form.submit.label.text = "Create account"
    if form.validate_on_submit():
        password = accounts.new_temporary_password()
        user = accounts.create_user(current_user.id, form.details(), password)
        return render_template(
            "central/one-time-secret.html",
            heading="Account created",
            user=user,
            secret=password,
            label="Temporary password",
        )
    return render_template(
        "central/account-form.html",
        form=form,
        errors=error_list(form),
        heading=f"New account: {ROLE_LABELS[role]}",
        back=url_for(".choose_role"),
    )


@bp.get("/users/<uuid:user_id>")
@role_required(ADMIN)
def view_user(user_id: uuid.UUID):
    user = _user_or_404(user_id)
    return render_template("central/user.html", user=user, back=url_for(".list_users"))


@bp.route("/users/<uuid:user_id>/edit", methods=["GET", "POST"])
@role_required(ADMIN)
def edit_user(user_id: uuid.UUID):
    user = _user_or_404(user_id)
    form = ACCOUNT_FORMS[user.role](user=user)
    if form.validate_on_submit():
        accounts.update_user(current_user.id, user.id, form.details())
        flash("Account details saved", "success")
        return redirect(url_for(".view_user", user_id=user.id))
    return render_template(
        "central/account-form.html",
        form=form,
        errors=error_list(form),
        heading=f"Change details: {user.name}",
        back=url_for(".view_user", user_id=user.id),
    )


def _confirm(user: User, heading: str, text: str, button: str, form: ConfirmForm):
    form.submit.label.text = button
    return render_template(
        "central/confirm.html",
        form=form,
        heading=heading,
        text=text,
        back=url_for(".view_user", user_id=user.id),
    )


@bp.route("/users/<uuid:user_id>/reset-password", methods=["GET", "POST"])
@role_required(ADMIN)
def reset_password(user_id: uuid.UUID):
    user = _user_or_404(user_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        password = accounts.reset_user_password(current_user.id, user.id)
        return render_template(
            "central/one-time-secret.html",
            heading="Password reset",
            user=user,
            secret=password,
            label="New temporary password",
        )
    return _confirm(
        user,
        f"Reset the password for {user.name}?",
        "Their current password will stop working at once, and they will be signed out.",
        "Reset password",
        form,
    )


@bp.route("/users/<uuid:user_id>/deactivate", methods=["GET", "POST"])
@role_required(ADMIN)
def deactivate_user(user_id: uuid.UUID):
    user = _user_or_404(user_id)
    if user.id == current_user.id:
        flash("You cannot deactivate your own account. Ask another administrator.")
        return redirect(url_for(".view_user", user_id=user.id))
    form = ConfirmForm()
    if form.validate_on_submit():
        accounts.deactivate_user(current_user.id, user.id)
        flash(f"{user.name}’s account is deactivated", "success")
        return redirect(url_for(".view_user", user_id=user.id))
    return _confirm(
        user,
        f"Deactivate {user.name}’s account?",
        "They will be signed out and cannot sign in until the account is reactivated. "
        "Their devices are not revoked: visits on them can still reach the office.",
        "Deactivate account",
        form,
    )


@bp.route("/users/<uuid:user_id>/reactivate", methods=["GET", "POST"])
@role_required(ADMIN)
def reactivate_user(user_id: uuid.UUID):
    user = _user_or_404(user_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        accounts.reactivate_user(current_user.id, user.id)
        flash(f"{user.name}’s account is active again", "success")
        return redirect(url_for(".view_user", user_id=user.id))
    return _confirm(
        user,
        f"Reactivate {user.name}’s account?",
        "They will be able to sign in again with their current password.",
        "Reactivate account",
        form,
    )


@bp.route("/users/<uuid:user_id>/enrolment-code", methods=["GET", "POST"])
@role_required(ADMIN)
def create_enrolment_code(user_id: uuid.UUID):
    user = _user_or_404(user_id)
    if user.role != HSC or not user.active:
        abort(404)
    minutes = current_app.config["ENROLMENT_CODE_MINUTES"]
    form = ConfirmForm()
    if form.validate_on_submit():
        record, code = accounts.create_enrolment_code(current_user.id, user.id)
        return render_template(
            "central/one-time-secret.html",
            heading="Enrolment code created",
            user=user,
            secret=code,
            label="Enrolment code",
            expires_at=record.expires_at,
        )
    return _confirm(
        user,
        f"Create an enrolment code for {user.name}?",
        f"The code enrols one device for {user.name}. It works once, for {minutes} minutes. "
        "Any code made for them earlier and not used yet stops working.",
        "Create enrolment code",
        form,
    )
