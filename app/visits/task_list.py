"""The task list of a visit in progress, or the record of a completed one."""

import uuid

from flask import flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from app import queries
from app.visits import bp
from app.visits.forms import REFERRAL_SOURCES, SETTINGS, label_for
from app.visits.helpers import (
    all_sections_complete,
    load_visit,
    problem_lines,
    tasks,
    view_for,
    visit_progress,
)
from sync import device
from sync.order_status import deliveries_of


@bp.get("/visits/<uuid:visit_id>")
@login_required
def task_list(visit_id: uuid.UUID):
    visit = load_visit(visit_id)
    view = view_for(visit)
    entry = device.latest_entries([visit.id]).get(visit.id)
    progress = visit_progress(visit, entry, device.device_state() is not None)
    if visit.is_locked:
        problems = problem_lines(view.definition, entry.problem) if entry else []
        return render_template(
            "visits/completed.html",
            progress=progress,
            entry=entry,
            problems=problems,
            visit=visit,
            view=view,
            outcomes=view.outcomes,
            orders=deliveries_of(visit.id),
            setting=label_for(SETTINGS, visit.setting),
            source=label_for(REFERRAL_SOURCES, visit.referral_source),
        )
    return render_template(
        "visits/task-list.html",
        progress=progress,
        visit=visit,
        view=view,
        tasks=tasks(visit, view),
        ready=all_sections_complete(visit, view),
        setting=label_for(SETTINGS, visit.setting),
    )


@bp.post("/visits/<uuid:visit_id>/correct")
@login_required
def correct(visit_id: uuid.UUID):
    visit = load_visit(visit_id)
    try:
        queries.reopen_for_correction(current_user.id, visit.id)
    except queries.VisitLocked:
        flash("This visit cannot be changed: the office has it", "info")
    else:
        flash("The visit is open again. Correct it, then complete it to send it again", "success")
    return redirect(url_for("visits.task_list", visit_id=visit.id))
