"""Question pages: one page of a section at a time, saved on every Continue."""

import uuid

from flask import abort, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from app import queries
from app.fields import error_list
from app.visits import bp
from app.visits.answer_forms import answers_from, page_form_class, render_params
from app.visits.helpers import (
    CANNOT_START,
    load_visit,
    next_page,
    page_url,
    previous_page,
    section_or_404,
    section_status,
    view_for,
)

STALE_MESSAGE = (
    "This section was changed in another tab or window after you opened this page. "
    "Your answers below have not been saved yet: check them, then select Continue to save them."
)


@bp.get("/visits/<uuid:visit_id>/sections/<section>")
@login_required
def section_start(visit_id: uuid.UUID, section: str):
    visit = load_visit(visit_id)
    view = view_for(visit)
    current = section_or_404(view, section)
    first = next_page(view, current, None)
    if first is None or visit.is_locked:
        return redirect(url_for("visits.check_answers", visit_id=visit.id, section=section))
    return redirect(page_url(visit, current, first))


@bp.route("/visits/<uuid:visit_id>/sections/<section>/<page>", methods=["GET", "POST"])
@login_required
def page(visit_id: uuid.UUID, section: str, page: str):
    visit = load_visit(visit_id)
    view = view_for(visit)
    current = section_or_404(view, section)
    shown = next((p for p in current.pages if p.id == page), None)
    if shown is None:
        abort(404)
    back_to_check = request.args.get("return") == "check-answers"
    check_url = url_for("visits.check_answers", visit_id=visit.id, section=current.id)
    if visit.is_locked or section_status(visit, view, current) == CANNOT_START:
        return redirect(url_for("visits.task_list", visit_id=visit.id))
    if not view.page_shown(shown):
        # The answers that showed this page have changed: carry on with the section.
        following = next_page(view, current, shown)
        if following is None or back_to_check:
            return redirect(check_url)
        return redirect(page_url(visit, current, following))

    questions = view.shown_questions(shown)
    form_class = page_form_class(view.definition.key, shown)
    stored = {q.id: visit.answers.get(q.id) for q in questions}
    form = form_class(data=stored) if request.method == "GET" else form_class()
    # Questions not shown on this page (not assessed at a clinic) are not validated.
    for question in shown.questions:
        if question not in questions:
            del form[question.id]
    if request.method == "GET":
        form.rev.data = str(queries.section_rev(visit, current.id))

    errors = []
    if form.validate_on_submit():
        answers, cleared = answers_from(form, questions)
        merged = {**visit.answers, **answers}
        for question_id in cleared:
            merged.pop(question_id, None)
        after = view.with_answers(merged)
        following = next_page(after, current, shown)
        if back_to_check or following is None:
            destination = check_url
        else:
            destination = page_url(visit, current, following)
        try:
            queries.save_answers(
                current_user.id,
                visit.id,
                current.id,
                int(form.rev.data or -1),
                answers,
                cleared,
                destination,
            )
        except queries.StaleEdit:
            form.rev.data = str(queries.section_rev(visit, current.id))
            errors = [{"text": STALE_MESSAGE, "href": f"#{questions[0].id}"}]
        except queries.VisitLocked:
            return redirect(url_for("visits.task_list", visit_id=visit.id))
        else:
            return redirect(destination)

    previous = previous_page(view, current, shown)
    if back_to_check:
        back = check_url
    elif previous is not None:
        back = page_url(visit, current, previous)
    else:
        back = url_for("visits.task_list", visit_id=visit.id)
    single = len(questions) == 1
    return render_template(
        "visits/page.html",
        visit=visit,
        section=current,
        page=shown,
        form=form,
        questions=questions,
        params={q.id: render_params(q, is_heading=single) for q in questions},
        heading=(questions[0].label + (" (optional)" if questions[0].optional else ""))
        if single
        else shown.title,
        single=single,
        errors=errors or error_list(form),
        back=back,
        not_assessed=[q for q in shown.questions if q not in questions],
        view=view,
    )
