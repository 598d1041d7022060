"""The task list of a visit in progress, or the record of a completed one."""

import uuid

from flask import render_template
from flask_login import login_required

from app.visits import bp
from app.visits.forms import REFERRAL_SOURCES, SETTINGS, label_for
from app.visits.helpers import all_sections_complete, load_visit, tasks, view_for


@bp.get("/visits/<uuid:visit_id>")
@login_required
def task_list(visit_id: uuid.UUID):
    visit = load_visit(visit_id)
    view = view_for(visit)
    if visit.is_locked:
        return render_template(
            "visits/completed.html",
            visit=visit,
            view=view,
            outcomes=view.outcomes,
            setting=label_for(SETTINGS, visit.setting),
            source=label_for(REFERRAL_SOURCES, visit.referral_source),
        )
    return render_template(
        "visits/task-list.html",
        visit=visit,
        view=view,
        tasks=tasks(visit, view),
        ready=all_sections_complete(visit, view),
        setting=label_for(SETTINGS, visit.setting),
    )
