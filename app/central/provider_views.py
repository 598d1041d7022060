"""Provider pages: issued referrals to one service, their status and the equipment they
carry, CSV export and print.

A referral that is not the provider's to see is answered 404, on every route, as if it did
not exist. Reports follow post-redirect-get; a refused one shows the page again with a GOV.UK
error summary and changes nothing.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Callable
from datetime import date, datetime

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.central import order_delivery, order_display, providers
from app.central.provider_forms import AcceptForm, CompleteForm, DeclineForm, ItemForm
from app.central.roles import DISTRICT_LABELS, PROVIDER, SERVICE_LABELS, role_required
from app.fields import error_list
from app.models import Referral

bp = Blueprint("providers", __name__, url_prefix="/referrals")

STATUS_TAGS = {
    "issued": ("New", "govuk-tag--blue"),
    "accepted": ("Accepted", "govuk-tag--light-blue"),
    "completed": ("Completed", "govuk-tag--green"),
    "declined": ("Declined", "govuk-tag--grey"),
}
PRIORITY_TAGS = {
    "urgent": ("Urgent", "govuk-tag--red"),
    "standard": ("Standard", "govuk-tag--grey"),
}


def describe_day(value: datetime | date | None) -> str:
    return value.strftime("%-d %B %Y") if value else ""


def describe_moment(value: datetime | None) -> str:
    return value.strftime("%-d %B %Y, %H:%M UTC") if value else ""


@bp.context_processor
def labels() -> dict:
    return {
        "status_tags": STATUS_TAGS,
        "priority_tags": PRIORITY_TAGS,
        "service_labels": SERVICE_LABELS,
        "district_labels": DISTRICT_LABELS,
        "describe_day": describe_day,
        "describe_moment": describe_moment,
        "reference_of": providers.reference_of,
        "item_tags": order_display.STATUS_TAGS,
    }


@bp.get("")
@role_required(PROVIDER)
def list_referrals():
    page = request.args.get("page", "1")
    return render_template(
        "referrals/queue.html",
        queue=providers.list_open_referrals(current_user, int(page) if page.isdigit() else 1),
        closed=providers.list_closed_referrals(current_user),
        service=SERVICE_LABELS.get(current_user.provider_service, ""),
    )


@bp.get("/open.csv")
@role_required(PROVIDER)
def export_open_referrals():
    buffer = io.StringIO()
    # A byte-order mark, so spreadsheet programs read names with accents correctly.
    buffer.write("\ufeff")
    csv.writer(buffer).writerows(providers.export_open_referrals(current_user))
    filename = f"{current_user.provider_service}-open-referrals-{date.today().isoformat()}.csv"
    return Response(
        buffer.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _referral_or_404(referral_id: uuid.UUID) -> Referral:
    referral = providers.get_referral_for(current_user, referral_id)
    if referral is None:
        abort(404)
    return referral


def _page(
    referral: Referral,
    accept: AcceptForm | None = None,
    complete: CompleteForm | None = None,
    decline: DeclineForm | None = None,
    errors: list[dict] | None = None,
):
    return render_template(
        "referrals/referral.html",
        referral=referral,
        resident=referral.resident,
        service=SERVICE_LABELS.get(referral.service, referral.service),
        shared=providers.list_shared_answers(referral),
        items=order_display.describe_all(order_display.items_of([referral])[referral.id]),
        referrer=providers.get_referrer(referral),
        accept_form=accept or AcceptForm(formdata=None),
        complete_form=complete or CompleteForm(formdata=None),
        decline_form=decline or DeclineForm(formdata=None),
        errors=errors,
        back=url_for(".list_referrals"),
    )


@bp.get("/<uuid:referral_id>")
@role_required(PROVIDER)
def view_referral(referral_id: uuid.UUID):
    referral = _referral_or_404(referral_id)
    providers.record_referral_view(current_user, referral)
    return _page(_referral_or_404(referral_id))


def _refused(referral_id: uuid.UUID, refused: providers.ReferralRefused, **forms):
    """The page again with the refusal: against its field (400), or the status (409)."""
    referral = _referral_or_404(referral_id)
    if refused.field:
        form = next(iter(forms.values()))  # the one form that was posted
        form[refused.field].errors = [str(refused)]
        return _page(referral, errors=error_list(form), **forms), 400
    errors = [{"text": str(refused), "href": "#referral-status"}]
    return _page(referral, errors=errors, **forms), 409


def _done(referral_id: uuid.UUID, message: str):
    flash(message, "success")
    return redirect(url_for(".view_referral", referral_id=referral_id))


def _report(referral_id: uuid.UUID, name: str, form, report: Callable, done: str):
    """One of the provider's reports on a referral: checked, made, or refused with why."""
    referral = _referral_or_404(referral_id)
    if not form.validate_on_submit():
        return _page(referral, errors=error_list(form), **{name: form}), 400
    try:
        report(form)
    except LookupError:
        abort(404)
    except providers.ReferralRefused as refused:
        return _refused(referral_id, refused, **{name: form})
    return _done(referral_id, done)


@bp.post("/<uuid:referral_id>/accept")
@role_required(PROVIDER)
def accept_referral(referral_id: uuid.UUID):
    return _report(
        referral_id,
        "accept",
        AcceptForm(),
        lambda _form: providers.accept_referral(current_user, referral_id),
        "Referral accepted",
    )


@bp.post("/<uuid:referral_id>/complete")
@role_required(PROVIDER)
def complete_referral(referral_id: uuid.UUID):
    return _report(
        referral_id,
        "complete",
        CompleteForm(),
        lambda form: providers.complete_referral(current_user, referral_id, form.completed_on.data),
        "Referral marked as completed",
    )


@bp.post("/<uuid:referral_id>/decline")
@role_required(PROVIDER)
def decline_referral(referral_id: uuid.UUID):
    return _report(
        referral_id,
        "decline",
        DeclineForm(),
        lambda form: providers.decline_referral(current_user, referral_id, form.reason.data),
        "Referral declined",
    )


def _report_item(referral_id: uuid.UUID, order_id: uuid.UUID, report, done: str):
    referral = _referral_or_404(referral_id)
    form = ItemForm()
    if not form.validate_on_submit():
        errors = [{"text": "The page was out of date: try again.", "href": "#items"}]
        return _page(referral, errors=errors), 400
    try:
        order = report(current_user, referral_id, order_id)
    except LookupError:
        abort(404)
    except order_delivery.ItemRefused as refused:
        errors = [{"text": str(refused), "href": "#items"}]
        return _page(_referral_or_404(referral_id), errors=errors), 409
    return _done(referral_id, f"{order.item_name} {done}")


@bp.post("/<uuid:referral_id>/items/<uuid:order_id>/delivered")
@role_required(PROVIDER)
def mark_item_delivered(referral_id: uuid.UUID, order_id: uuid.UUID):
    return _report_item(referral_id, order_id, order_delivery.mark_delivered, "marked as delivered")


@bp.post("/<uuid:referral_id>/items/<uuid:order_id>/fitted")
@role_required(PROVIDER)
def mark_item_fitted(referral_id: uuid.UUID, order_id: uuid.UUID):
    return _report_item(referral_id, order_id, order_delivery.mark_fitted, "marked as fitted")
