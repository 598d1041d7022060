"""Team-leader review: the queue of their districts' visits, one visit in full, and the
decisions. Another district's visit is answered 404, as if it did not exist."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.central import order_display, order_review, reviews
from app.central.devices import describe_clock_offset, describe_duration, describe_time
from app.central.referrals import FLAG_LABELS, view_of
from app.central.review_forms import ApproveForm, ApproveOrderForm, ReturnForm
from app.central.roles import DISTRICT_LABELS, TA_LABELS, TEAM_LEADER, role_required
from app.fields import error_list
from app.formengine.evaluation import NOT_ASSESSED, SHOWN
from app.models import CentralVisit
from app.models.field import utcnow
from app.visits.forms import REFERRAL_SOURCES, SETTINGS, label_for

bp = Blueprint("review", __name__, url_prefix="/review")

KIND_LABELS = {"first": "First visit", "follow_up": "Final visit (follow-up)"}
STATUS_LABELS = {
    "processing": "Referrals being worked out",
    "received": "Awaiting review",
    "approved": "Approved",
    "returned": "Returned",
}
REFERRAL_STATUS_LABELS = {
    "proposed": "Proposed",
    "issued": "Issued",
    "accepted": "Accepted",
    "completed": "Completed",
    "declined": "Declined",
    "cancelled": "Cancelled",
    "information": "Information only",
}
RATING_QUESTIONS = (
    ("WM_RATING_BEFORE", "Before the MOT"),
    ("WM_RATING_AFTER", "After the works"),
    ("WM_ACHIEVED", "Has the service achieved everything you wanted?"),
)


@bp.context_processor
def labels() -> dict:
    return {
        "flag_labels": FLAG_LABELS,
        "district_labels": DISTRICT_LABELS,
        "setting_label": lambda value: label_for(SETTINGS, value),
        "source_label": lambda value: label_for(REFERRAL_SOURCES, value),
        "kind_labels": KIND_LABELS,
        "status_labels": STATUS_LABELS,
        "referral_status_labels": REFERRAL_STATUS_LABELS,
        "describe_time": describe_time,
        "describe_clock_offset": describe_clock_offset,
        "describe_age": describe_age,
        "order_tags": order_display.STATUS_TAGS,
        "route_labels": order_display.ROUTE_LABELS,
        "ta_labels": TA_LABELS,
        "money": order_display.money,
    }


def describe_age(since: datetime | None, now: datetime | None = None) -> str:
    if since is None:
        return "Not known"
    return describe_duration(((now or utcnow()) - since).total_seconds())


@bp.get("")
@role_required(TEAM_LEADER)
def queue():
    page = request.args.get("page", "1")
    page_number = int(page) if page.isdigit() else 1
    districts = ", ".join(DISTRICT_LABELS.get(d, d) for d in current_user.district_names)
    return render_template(
        "review/queue.html",
        queue=reviews.review_queue(current_user, page_number),
        districts=districts,
    )


def _visit_or_404(visit_id: uuid.UUID) -> CentralVisit:
    visit = reviews.get_visit_for(current_user, visit_id)
    if visit is None:
        abort(404)
    return visit


@dataclass(frozen=True)
class RevisionEntry:
    revision: object
    differences: list[reviews.Difference]


def _page(visit: CentralVisit, approve: ApproveForm, return_form: ReturnForm, errors=None):
    definition = reviews.definition_of(visit)
    revisions = reviews.revisions_of(visit)
    body = revisions[-1].body
    view = view_of(definition, body)
    history = [
        RevisionEntry(
            revision,
            reviews.differences(definition, revisions[n - 1].body, revision.body) if n else [],
        )
        for n, revision in enumerate(revisions)
    ]
    referrals = reviews.referrals_of(visit)
    approve.sha256.data = return_form.sha256.data = visit.sha256
    orders = order_display.describe_all(order_review.orders_of(visit))
    answers = body["answers"]
    ratings = [
        (label, view.display(definition.questions[question_id]))
        for question_id, label in RATING_QUESTIONS
        if question_id in definition.questions
        and (question_id in answers or question_id == "WM_RATING_BEFORE")
    ]
    return render_template(
        "review/visit.html",
        visit=visit,
        body=body,
        definition=definition,
        view=view,
        shown_ids={
            q.id for q in definition.questions.values() if view.state(q) in (SHOWN, NOT_ASSESSED)
        },
        referrals=[r for r in referrals if r.kind == "referral"],
        signposts=[r for r in referrals if r.kind == "signpost"],
        open_elsewhere=reviews.open_elsewhere(visit),
        ratings=ratings,
        history=list(reversed(history)),
        decisions=reviews.reviews_of(visit),
        approve_form=approve,
        return_form=return_form,
        orders=orders,
        orders_total=order_display.total_pence(orders),
        people=order_review.people([line.order for line in orders]),
        errors=errors,
    )


@bp.get("/visits/<uuid:visit_id>")
@role_required(TEAM_LEADER)
def visit(visit_id: uuid.UUID):
    found = _visit_or_404(visit_id)
    reviews.record_view(current_user, found)
    found = _visit_or_404(visit_id)
    return _page(found, ApproveForm(), ReturnForm())


def _refused(visit_id: uuid.UUID, message: str, approve: ApproveForm, return_form: ReturnForm):
    found = _visit_or_404(visit_id)
    errors = [{"text": message, "href": "#decision"}]
    return _page(found, approve, return_form, errors), 409


@bp.post("/visits/<uuid:visit_id>/approve")
@role_required(TEAM_LEADER)
def approve(visit_id: uuid.UUID):
    found = _visit_or_404(visit_id)
    form = ApproveForm()
    if not form.validate_on_submit():
        return _page(found, form, ReturnForm(formdata=None), error_list(form)), 400
    try:
        issued = reviews.approve_visit(current_user, visit_id, form.sha256.data)
    except LookupError:
        abort(404)
    except reviews.ReviewRefused as refused:
        return _refused(visit_id, str(refused), form, ReturnForm(formdata=None))
    count = sum(1 for referral in issued if referral.provider_service)
    flash(
        f"Visit approved. {count} referral{'' if count == 1 else 's'} issued to providers.",
        "success",
    )
    return redirect(url_for(".queue"))


@bp.post("/visits/<uuid:visit_id>/return")
@role_required(TEAM_LEADER)
def return_visit(visit_id: uuid.UUID):
    found = _visit_or_404(visit_id)
    form = ReturnForm()
    if not form.validate_on_submit():
        return _page(found, ApproveForm(formdata=None), form, error_list(form)), 400
    try:
        reviews.return_visit(current_user, visit_id, form.sha256.data, form.comment.data)
    except LookupError:
        abort(404)
    except reviews.ReviewRefused as refused:
        return _refused(visit_id, str(refused), ApproveForm(formdata=None), form)
    flash("Visit returned to the HSC with your comment.", "success")
    return redirect(url_for(".queue"))


@bp.post("/visits/<uuid:visit_id>/orders/<uuid:order_id>/approve")
@role_required(TEAM_LEADER)
def approve_order(visit_id: uuid.UUID, order_id: uuid.UUID):
    found = _visit_or_404(visit_id)
    form = ApproveOrderForm()
    if not form.validate_on_submit():
        message = (form.sha256.errors or ["The page was out of date: open the visit again."])[0]
        errors = [{"text": message, "href": "#orders"}]
        return _page(found, ApproveForm(formdata=None), ReturnForm(formdata=None), errors), 400
    try:
        order = order_review.approve_order(current_user, visit_id, order_id, form.sha256.data)
    except LookupError:
        abort(404)
    except (reviews.ReviewRefused, order_review.OrderRefused) as refused:
        return _refused(
            visit_id, str(refused), ApproveForm(formdata=None), ReturnForm(formdata=None)
        )
    flash(f"{order.item_name} approved. It is issued when you approve the visit.", "success")
    return redirect(url_for(".visit", visit_id=visit_id, _anchor="orders"))
