"""Referrals and consent: the proposed referrals and signposts, consent to share, completion."""

import uuid

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from app import queries, residents
from app.visits import bp
from app.visits.helpers import all_sections_complete, load_visit, view_for

STALE_MESSAGE = (
    "Consent was recorded in another tab or window after you opened this page. "
    "Check the choices below, then save again."
)


@bp.route("/visits/<uuid:visit_id>/summary", methods=["GET", "POST"])
@login_required
def summary(visit_id: uuid.UUID):
    visit = load_visit(visit_id)
    if visit.is_locked:
        return redirect(url_for("visits.task_list", visit_id=visit.id))
    view = view_for(visit)
    outcomes = view.outcomes
    rev = queries.section_rev(visit, queries.SUMMARY_KEY)
    ready = all_sections_complete(visit, view)
    errors: list[dict[str, str]] = []
    field_errors: dict[str, str] = {}
    chosen = {f.output.id: visit.consents.get(f.output.id, "") for f in outcomes.referrals}
    # Open already for this resident: the office makes no second referral, so consent is
    # not asked again (and none is recorded for this visit that was not asked).
    already = already_referred(visit, outcomes)
    for service in already:
        chosen.pop(service, None)
    if request.method == "POST":
        complete = request.form.get("action") == "complete"
        for finding in outcomes.referrals:
            if finding.output.id in already:
                continue
            value = request.form.get(f"consent-{finding.output.id}", "")
            chosen[finding.output.id] = value if value in ("yes", "no") else ""
            if complete and not chosen[finding.output.id]:
                message = (
                    f"Select whether the resident agrees to share their details with "
                    f"{finding.output.name}"
                )
                field_errors[finding.output.id] = message
                errors.append({"text": message, "href": f"#consent-{finding.output.id}"})
        if complete and not ready:
            errors.insert(
                0,
                {
                    "text": "Complete every section of the MOT before completing the visit",
                    "href": url_for("visits.task_list", visit_id=visit.id),
                },
            )
        if request.form.get("rev") != str(rev):
            errors = [{"text": STALE_MESSAGE, "href": "#main-content"}]
        else:
            given = {key: value for key, value in chosen.items() if value}
            # Consent already given is kept even when completion has to wait.
            if given or not errors:
                queries.save_consents(
                    current_user.id, visit.id, rev, given, complete=complete and not errors
                )
                rev += 1
            if not errors:
                if complete:
                    flash(
                        "Visit completed. It is locked and ready to send to the office.", "success"
                    )
                    return redirect(url_for("visits.task_list", visit_id=visit.id))
                flash("Consent choices saved", "success")
                return redirect(url_for("visits.summary", visit_id=visit.id))
    return render_template(
        "visits/summary.html",
        visit=visit,
        view=view,
        outcomes=outcomes,
        chosen=chosen,
        field_errors=field_errors,
        errors=errors,
        rev=rev,
        ready=ready,
        already=already,
    )


def already_referred(visit, outcomes) -> dict:
    """On a follow-up, the proposed referrals this resident already has open, by service."""
    if visit.kind != "follow_up" or not outcomes.referrals:
        return {}
    open_now = residents.open_referrals(visit.resident_id)
    return {
        finding.output.id: open_now[finding.output.id]
        for finding in outcomes.referrals
        if finding.output.id in open_now
        and open_now[finding.output.id].consent == "yes"
        and open_now[finding.output.id].visit_id != visit.id
    }
