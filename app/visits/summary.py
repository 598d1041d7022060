"""Referrals and consent: the proposed referrals and signposts, the equipment ordered,
consent to share, completion."""

import uuid
from dataclasses import dataclass

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from app import orders, queries, residents
from app.visits import bp
from app.visits.equipment_rows import OrderRow, order_row
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
    rechecked = orders.recheck(visit, current_user)
    groups = order_groups(view, rechecked)
    proposed = [f.output.id for f in outcomes.referrals]
    # Equipment goes to its provider with that service's referral: where the rules proposed
    # none, consent is asked for the orders themselves.
    asked = proposed + [g.service for g in groups if g.service not in proposed]
    names = {key: view.definition.outputs[key].name for key in asked}
    chosen = {key: visit.consents.get(key, "") for key in asked}
    # Open already for this resident: the office makes no second referral, so consent is
    # not asked again (and none is recorded for this visit that was not asked).
    already = already_referred(visit, asked)
    for service in already:
        chosen.pop(service, None)
    if request.method == "POST":
        complete = request.form.get("action") == "complete"
        for service in asked:
            if service in already:
                continue
            value = request.form.get(f"consent-{service}", "")
            chosen[service] = value if value in ("yes", "no") else ""
            if complete and not chosen[service]:
                message = (
                    f"Select whether the resident agrees to share their details with "
                    f"{names[service]}"
                )
                field_errors[service] = message
                errors.append({"text": message, "href": f"#consent-{service}"})
        if complete:
            errors += order_errors(visit, rechecked)
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
                try:
                    queries.save_consents(
                        current_user.id, visit.id, rev, given, complete=complete and not errors
                    )
                except orders.OrderProblems:
                    errors = [{"text": ORDER_CHANGED_MESSAGE, "href": "#equipment-orders"}]
                else:
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
        groups=groups,
        proposed=proposed,
        can_order=orders.is_trusted_assessor(current_user),
    )


@dataclass(frozen=True)
class OrderGroup:
    """The equipment one provider service delivers, as the orders stand with these answers."""

    service: str
    name: str
    rows: list[OrderRow]


def order_groups(view, rechecked: list[orders.Recheck]) -> list[OrderGroup]:
    groups: dict[str, list[OrderRow]] = {}
    for checked in rechecked:
        decision = checked.decision
        route = "approval" if decision.route == "refused" else decision.route
        row = order_row(checked.order, route, orders.findings_of(decision))
        groups.setdefault(row.provider_service or "", []).append(row)
    outputs = view.definition.outputs
    return [
        OrderGroup(service, outputs[service].name if service in outputs else service, rows)
        for service, rows in groups.items()
    ]


ORDER_CHANGED_MESSAGE = (
    "An equipment order needs checking again since the answers changed. "
    "Check the equipment ordered below, then complete the visit."
)


def order_errors(visit, rechecked: list[orders.Recheck]) -> list[dict[str, str]]:
    """Orders that no longer pass with the answers as they are now (a warning to
    acknowledge that was not there when they were ordered): fixed before completing."""
    errors = []
    for checked in rechecked:
        if checked.decision.route == "refused" or not checked.decision.problems:
            continue
        name = checked.item.name if checked.item else checked.order.item_code
        problem = next(iter(checked.decision.problems.values()))
        href = url_for("visits.change_equipment", visit_id=visit.id, order_id=checked.order.id)
        errors.append({"text": f"Check the order for {name}: {problem}", "href": href})
    return errors


def already_referred(visit, services) -> dict:
    """On a follow-up, the services asked about that this resident already has an open
    referral to, by service."""
    if visit.kind != "follow_up" or not services:
        return {}
    open_now = residents.open_referrals(visit.resident_id)
    return {
        service: open_now[service]
        for service in services
        if service in open_now
        and open_now[service].consent == "yes"
        and open_now[service].visit_id != visit.id
    }
