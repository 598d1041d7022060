"""Check answers for one section, and "Have you completed this section?"."""

import uuid

from flask import redirect, render_template, request, url_for
from flask_login import current_user, login_required

from app import queries
from app.visits import bp
from app.visits.helpers import (
    CANNOT_START,
    COMPLETED,
    load_visit,
    page_url,
    section_or_404,
    section_status,
    view_for,
)

STALE_MESSAGE = (
    "This section was changed in another tab or window after you opened this page. "
    "Check the answers below, then choose again."
)


@bp.route("/visits/<uuid:visit_id>/sections/<section>/check-answers", methods=["GET", "POST"])
@login_required
def check_answers(visit_id: uuid.UUID, section: str):
    visit = load_visit(visit_id)
    view = view_for(visit)
    current = section_or_404(view, section)
    status = section_status(visit, view, current)
    if status == CANNOT_START:
        return redirect(url_for("visits.task_list", visit_id=visit.id))
    rev = queries.section_rev(visit, current.id)
    missing = view.missing(current)
    errors = []
    choice = request.form.get("completed", "")
    if request.method == "POST" and not visit.is_locked:
        posted_rev = request.form.get("rev", "")
        if choice not in ("yes", "no"):
            errors = [
                {"text": "Select whether you have completed this section", "href": "#completed"}
            ]
        elif choice == "yes" and missing:
            errors = [
                {
                    "text": "You cannot mark this section as completed until every question has "
                    "an answer. Questions without an answer are marked ‘Not answered’",
                    "href": "#completed",
                }
            ]
        elif posted_rev != str(rev):
            errors = [{"text": STALE_MESSAGE, "href": "#completed"}]
        else:
            queries.mark_section(current_user.id, visit.id, current.id, rev, choice == "yes")
            return redirect(url_for("visits.task_list", visit_id=visit.id))

    rows = []
    for page in current.pages:
        for question in page.questions:
            state = view.state(question)
            if state == "hidden":
                continue
            change = None
            if state == "shown" and not visit.is_locked:
                change = page_url(visit, current, page, back_to_check=True)
            rows.append({"question": question, "answer": view.display(question), "href": change})
    if not choice and status == COMPLETED:
        choice = "yes"
    return render_template(
        "visits/check-answers.html",
        visit=visit,
        section=current,
        rows=rows,
        missing=missing,
        errors=errors,
        rev=rev,
        choice=choice,
    )
