"""Starting a visit: who the resident is and the circumstances of the visit."""

import uuid
from datetime import date

from flask import current_app, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from app import queries
from app.fields import error_list
from app.visits import bp
from app.visits.forms import RESIDENT_FIELDS, VISIT_FIELDS, VisitDetailsForm
from app.visits.helpers import load_visit

STALE_MESSAGE = (
    "These details were changed in another tab or window after you opened this page. "
    "Your changes below have not been saved yet: check them, then select Continue to save them."
)


@bp.route("/visits/start", methods=["GET", "POST"])
@login_required
def start_visit():
    form = VisitDetailsForm()
    if not form.is_submitted():
        form.visit_date.data = date.today()
        form.rev.data = "0"
    if form.validate_on_submit():
        definition = current_app.extensions["forms"].latest("housing-mot")
        visit = queries.start_visit(
            current_user, form.resident_values(), form.visit_values(), definition.key
        )
        return redirect(url_for("visits.task_list", visit_id=visit.id))
    return render_template(
        "visits/details.html", form=form, errors=error_list(form), heading="Start a visit"
    )


@bp.route("/visits/<uuid:visit_id>/details", methods=["GET", "POST"])
@login_required
def edit_details(visit_id: uuid.UUID):
    visit = load_visit(visit_id)
    if visit.is_locked:
        return redirect(url_for("visits.task_list", visit_id=visit.id))
    form = VisitDetailsForm()
    if not form.is_submitted():
        for name in RESIDENT_FIELDS:
            form[name].process_data(getattr(visit.resident, name))
        for name in VISIT_FIELDS:
            form[name].process_data(getattr(visit, name))
        form.rev.data = str(visit.details_rev)
    errors = []
    if form.validate_on_submit():
        try:
            queries.update_visit_details(
                current_user.id,
                visit.id,
                int(form.rev.data or -1),
                form.resident_values(),
                form.visit_values(),
            )
        except queries.StaleEdit:
            form.rev.data = str(visit.details_rev)
            errors = [{"text": STALE_MESSAGE, "href": "#given_name"}]
        else:
            flash("Resident and visit details saved", "success")
            return redirect(url_for("visits.task_list", visit_id=visit.id))
    return render_template(
        "visits/details.html",
        form=form,
        errors=errors or error_list(form),
        heading="Resident and visit details",
        visit=visit,
    )
