"""This device and the office: enrolling it, the sync state on every page, "Sync now"."""

from __future__ import annotations

import uuid
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovPasswordInput, GovSubmitInput, GovTextInput
from wtforms import PasswordField, StringField, SubmitField
from wtforms.validators import ValidationError

from app import queries
from app.auth import MIN_PASSPHRASE_LENGTH, hash_passphrase, local_path
from app.fields import Required, error_list
from app.visits.helpers import visit_progress
from sync import device
from sync.client import Refused, TryLater
from sync.worker import wake

bp = Blueprint("device", __name__)


class EnrolForm(FlaskForm):
    central_url = StringField(
        "Office server address",
        [Required("Enter the office server address")],
        description="For example, https://housing-mot.example.gov.uk",
        widget=GovTextInput(),
    )
    code = StringField(
        "Enrolment code",
        [Required("Enter the enrolment code")],
        description="The code an administrator gave you, like ABCD-EFGH-JKLM",
        widget=GovTextInput(),
    )
    passphrase = PasswordField(
        "Choose a passphrase for this device",
        [Required("Enter a passphrase")],
        description=f"At least {MIN_PASSPHRASE_LENGTH} characters. You will use it to sign in "
        "on this device, with or without a signal.",
        widget=GovPasswordInput(),
    )
    confirm = PasswordField(
        "Enter the passphrase again",
        [Required("Enter the passphrase again")],
        widget=GovPasswordInput(),
    )
    submit = SubmitField("Enrol this device", widget=GovSubmitInput())

    def validate_central_url(self, field) -> None:
        parts = urlsplit(field.data.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValidationError("Enter the office server address, starting https://")

    def validate_passphrase(self, field) -> None:
        if len(field.data) < MIN_PASSPHRASE_LENGTH:
            raise ValidationError(f"Passphrase must be {MIN_PASSPHRASE_LENGTH} characters or more")

    def validate_confirm(self, field) -> None:
        if field.data != self.passphrase.data:
            raise ValidationError("The passphrases do not match")


@bp.app_context_processor
def sync_state():
    """The sync state shown on every page of the field node."""
    return {"sync": device.summary()}


@bp.route("/enrol", methods=["GET", "POST"])
def enrol():
    if device.device_state() is not None:
        flash("This device is already enrolled", "info")
        return redirect(url_for("visits.my_visits"))
    form = EnrolForm()
    errors = []
    if form.validate_on_submit():
        try:
            profile = device.enrol(
                form.central_url.data.strip(), form.code.data, hash_passphrase(form.passphrase.data)
            )
        except Refused as error:
            form.code.errors = [error.message or "The office server refused the enrolment code"]
        except TryLater:
            form.central_url.errors = [
                "The office server cannot be reached. Check the address and your connection"
            ]
        else:
            wake(current_app)
            flash(f"This device is enrolled. Sign in as {profile.email}.", "success")
            return redirect(url_for("auth.sign_in"))
    errors = error_list(form)
    return render_template("device/enrol.html", form=form, errors=errors)


@bp.get("/sync-status")
@login_required
def sync_status():
    """The sync state and the progress of the visits on the page, for the page to refresh."""
    state = device.summary()
    visits = []
    for raw in request.args.getlist("visit")[:100]:
        try:
            visits.append(uuid.UUID(raw))
        except ValueError:
            continue
    entries = device.latest_entries(visits)
    progress = {}
    for visit_id in visits:
        visit = queries.get_visit(current_user.id, visit_id)
        if visit is not None:
            p = visit_progress(visit, entries.get(visit.id), state.enrolled)
            progress[str(visit.id)] = {"label": p.label, "tag": p.tag, "detail": p.detail}
    return jsonify(
        enrolled=state.enrolled,
        online=state.online,
        waiting=state.waiting,
        needs_attention=state.needs_attention,
        last_success_at=state.last_success_at.strftime("%-d %B, %H:%M")
        if state.last_success_at
        else "never",
        visits=progress,
    )


@bp.post("/sync-now")
@login_required
def sync_now():
    report = device.sync_once()
    if not report.ran:
        flash("Not synced: this device is not enrolled, or a sync is already running", "info")
    elif report.error:
        flash(
            f"Could not reach the office: {report.error}. Your visits are safe on this device.",
            "info",
        )
    else:
        sent = sum(report.pushed.values())
        flash(f"Synced with the office: {sent} sent, {report.pulled} updates received", "success")
    return redirect(local_path(request.form.get("back"), url_for("visits.my_visits")))
