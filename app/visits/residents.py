"""My residents: each resident with their visits and referrals, and starting the final visit."""

from __future__ import annotations

import uuid
from datetime import date

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovRadioInput, GovSubmitInput
from wtforms import RadioField, SubmitField
from wtforms.validators import ValidationError

from app import residents
from app.fields import GovDateField, Required, choices, error_list
from app.visits import bp
from app.visits.forms import SETTINGS
from app.visits.helpers import visit_progress
from sync import device

# The tag for each referral status, as the HSC reads it.
REFERRAL_TAGS = {
    "issued": ("Issued", "govuk-tag--blue"),
    "accepted": ("Accepted", "govuk-tag--turquoise"),
    "completed": ("Completed", "govuk-tag--green"),
    "declined": ("Declined", "govuk-tag--red"),
    "cancelled": ("Cancelled", "govuk-tag--grey"),
}
KINDS = {"first": "First visit", "follow_up": "Final visit"}
IN_PROGRESS_MESSAGE = "A visit with this resident is already in progress: carry on with it"


class FollowUpForm(FlaskForm):
    visit_date = GovDateField(
        "Date of this visit",
        [Required("Enter the date of this visit")],
        name_in_errors="Date of this visit",
        when="not_future",
    )
    setting = RadioField(
        "Where is the visit taking place?",
        [Required("Select where the visit is taking place")],
        choices=choices(SETTINGS),
        widget=GovRadioInput(),
    )
    submit = SubmitField("Start follow-up visit", widget=GovSubmitInput())

    def __init__(self, *args, last_visit_date: date | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.last_visit_date = last_visit_date

    def validate_visit_date(self, field) -> None:
        last = self.last_visit_date
        if field.data and last and field.data < last:
            raise ValidationError(
                f"Date of this visit must be on or after the last visit, {last:%-d %B %Y}"
            )


def _record_or_404(resident_id: uuid.UUID) -> residents.ResidentRecord:
    record = residents.get_resident(current_user.id, resident_id)
    if record is None:
        abort(404)
    return record


@bp.get("/residents")
@login_required
def list_residents():
    return render_template(
        "residents/my-residents.html",
        records=residents.list_residents(current_user.id),
        tags=REFERRAL_TAGS,
    )


def _render_resident(record: residents.ResidentRecord, form: FollowUpForm, errors=()):
    entries = device.latest_entries([visit.id for visit in record.visits])
    enrolled = device.device_state() is not None
    progress = {v.id: visit_progress(v, entries.get(v.id), enrolled) for v in record.visits}
    return render_template(
        "residents/resident.html",
        record=record,
        progress=progress,
        visit_dates={v.id: v.visit_date for v in record.visits},
        form=form,
        errors=list(errors),
        tags=REFERRAL_TAGS,
        kinds=KINDS,
        settings=dict(SETTINGS),
    )


@bp.get("/residents/<uuid:resident_id>")
@login_required
def resident(resident_id: uuid.UUID):
    record = _record_or_404(resident_id)
    form = FollowUpForm()
    form.visit_date.data = date.today()
    return _render_resident(record, form)


@bp.post("/residents/<uuid:resident_id>/follow-up")
@login_required
def start_follow_up(resident_id: uuid.UUID):
    record = _record_or_404(resident_id)
    previous = record.last_completed
    if previous is None:
        flash("Complete a visit with this resident before starting a follow-up", "info")
        return redirect(url_for("visits.resident", resident_id=resident_id))
    if record.in_progress is not None:  # a resend of the form (a double tap, a second tab)
        flash(IN_PROGRESS_MESSAGE, "info")
        return redirect(url_for("visits.task_list", visit_id=record.in_progress.id))
    form = FollowUpForm(last_visit_date=previous.visit_date)
    if not form.validate_on_submit():
        return _render_resident(record, form, error_list(form))
    try:
        visit = residents.start_follow_up(
            current_user, previous.id, form.visit_date.data, form.setting.data
        )
    except residents.FollowUpInProgress as refused:
        flash(IN_PROGRESS_MESSAGE, "info")
        return redirect(url_for("visits.task_list", visit_id=refused.visit.id))
    except residents.FollowUpRefused as refused:
        flash(str(refused), "info")
        return redirect(url_for("visits.resident", resident_id=resident_id))
    flash(
        "Follow-up visit started. The answers from the last visit are filled in: "
        "check what has changed with the resident.",
        "success",
    )
    return redirect(url_for("visits.task_list", visit_id=visit.id))
