"""The equipment step of a visit: a trusted assessor searches the catalogue and orders items.

Search and browse run on this node, so they work with no network at all. Only a trusted
assessor (L3 or L4, as central last said) gets here: for anyone else every route answers 403
and changes nothing, and the task list offers to request an assessment instead. The ordering
rules are the validation: what they call a problem is shown GOV.UK style, with what was typed
kept; where they route an order (approval, held) is shown before and after it is added.
"""

from __future__ import annotations

import uuid

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from app import orders
from app.equipment import Catalogue, Item
from app.equipment.rules import OrderLine, format_pence, level_name
from app.visits import bp
from app.visits.equipment_rows import (
    ROOMS,
    item_cost,
    measurement_fields,
    mot_needs,
    order_rows,
    total_of,
)
from app.visits.helpers import equipment_step, load_visit, view_for

MAX_SEARCH = 100
OTHER_ROOM = "other"
LOCKED_MESSAGE = "This visit is completed: its equipment orders cannot be changed"


@bp.context_processor
def _equipment_context() -> dict:
    # The task list asks for the equipment step by itself, for the visit it shows.
    return {"equipment_step": equipment_step}


def _open_visit(visit_id: uuid.UUID):
    """The HSC's draft visit, if they may order on it; otherwise the answer to give.

    Anyone but a trusted assessor gets 403 before the visit is even looked up.
    """
    if not orders.is_trusted_assessor(current_user):
        abort(403)
    visit = load_visit(visit_id)
    if visit.is_locked:
        flash(LOCKED_MESSAGE, "info")
        return visit, redirect(url_for("visits.task_list", visit_id=visit.id))
    if equipment_step(visit, view_for(visit)).href is None:
        # Not before the resident has agreed to the assessment.
        return visit, redirect(url_for("visits.task_list", visit_id=visit.id))
    return visit, None


@bp.get("/visits/<uuid:visit_id>/equipment")
@login_required
def equipment(visit_id: uuid.UUID):
    visit, refused = _open_visit(visit_id)
    if refused:
        return refused
    view = view_for(visit)
    catalogue = orders.catalogue_for(visit)
    query = request.args.get("q", "").strip()[:MAX_SEARCH]
    category = request.args.get("category", "")
    if category not in catalogue.categories:
        category = ""
    if query:
        results = catalogue.search(query)
    elif category:
        results = [item for item in catalogue.search("") if item.category == category]
    else:
        results = []
    suggested = [(item, mot_needs(view, item)) for item in catalogue.suggested(view.values)]
    rows = order_rows(orders.list_orders(visit))
    return render_template(
        "visits/equipment.html",
        visit=visit,
        catalogue=catalogue,
        query=query,
        category=category,
        results=results,
        searched=bool(query or category),
        suggested=suggested,
        rows=rows,
        total=format_pence(total_of(rows)),
        level=level_name(current_user.ta_level),
        item_cost=item_cost,
    )


def _line_from_form(item: Item) -> tuple[OrderLine, dict[str, str]]:
    """The order line as typed, and what the page needs to show it again."""
    form = request.form
    typed = {key: form.get(key, "").strip() for key in form if key != "csrf_token"}
    room = typed.get("location", "")
    location = typed.get("location-other", "") if room == OTHER_ROOM else room
    quantity_text = typed.get("quantity", "")
    quantity: int | str = (
        int(quantity_text) if quantity_text.isascii() and quantity_text.isdigit() else quantity_text
    )
    measurements = {
        m.id: typed.get(f"measurement-{m.id}", "") for m in item.measurements if m.id != "side"
    }
    line = OrderLine(
        item_code=item.code,
        quantity=quantity,  # text that is not a number: the rules say what is wrong
        location=location,
        side=typed.get("side", ""),
        measurements={k: v for k, v in measurements.items() if v != ""},
        reason=typed.get("reason", ""),
        acknowledged=tuple(form.getlist("acknowledged")),
    )
    return line, typed


def _typed_from_order(order) -> dict[str, str]:
    rooms = [label for label, _ in ROOMS]
    typed = {
        "quantity": str(order.quantity),
        "side": order.side,
        "reason": order.reason,
        "location": order.location if order.location in rooms or not order.location else "other",
        "location-other": "" if order.location in rooms else order.location,
    }
    typed |= {f"measurement-{key}": str(value) for key, value in order.measurements.items()}
    return typed


def _field_errors(problems: dict[str, str], typed: dict) -> dict[str, str]:
    errors = {}
    for key, message in problems.items():
        if key == "quantity" and not typed.get("quantity"):
            message = "Enter how many are needed"
        elif key == "location" and typed.get("location") == OTHER_ROOM:
            key = "location-other"
        errors[key.replace("measurements.", "measurement-")] = message
    return errors


def _error_list(item: Item, field_errors: dict[str, str]) -> list[dict[str, str]]:
    """The summary's links, in the order the fields are on the page."""
    order = ["location", "location-other", "side"]
    order += [f"measurement-{m.id}" for m in item.measurements if m.id != "side"]
    order += ["quantity", "reason", "acknowledged"]
    known = [key for key in order if key in field_errors]
    known += [key for key in field_errors if key not in order]
    return [{"text": field_errors[key], "href": f"#{key}"} for key in known]


def _item_page(visit, catalogue: Catalogue, item: Item, *, order=None):
    view = view_for(visit)
    needs = mot_needs(view, item)
    if request.method == "POST":
        line, typed = _line_from_form(item)
    elif order is not None:
        typed = _typed_from_order(order)
        line = orders.line_of(order)
    else:
        typed = {"quantity": "1", "reason": "; ".join(needs)}
        line = OrderLine(item.code, 1, "", "", {}, typed["reason"])
    field_errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            if order is None:
                saved = orders.add_order(current_user, visit.id, line)
                message = f"{item.name} added to the order"
            else:
                saved = orders.update_order(current_user, visit.id, order.id, line)
                message = f"{item.name} changed"
        except orders.NotTrustedAssessor:
            abort(403)
        except orders.OrderNotOpen:
            flash(LOCKED_MESSAGE, "info")
            return redirect(url_for("visits.task_list", visit_id=visit.id))
        except LookupError:
            abort(404)
        except orders.OrderProblems as refused:
            field_errors = _field_errors(refused.decision.problems, typed)
        else:
            if saved.route != "direct":
                message += ". " + (
                    "It needs approval" if saved.route == "approval" else "It is held"
                )
            flash(message, "success")
            return redirect(url_for("visits.equipment", visit_id=visit.id))
    decision = orders.check_line(current_user, visit, line, catalogue)
    return render_template(
        "visits/equipment-item.html",
        visit=visit,
        catalogue=catalogue,
        item=item,
        order=order,
        needs=needs,
        typed=typed,
        acknowledged=set(line.acknowledged),
        decision=decision,
        rooms=ROOMS,
        fields=measurement_fields(item),
        side=item.measurement("side"),
        cost=item_cost(item),
        field_errors=field_errors,
        errors=_error_list(item, field_errors),
    )


@bp.route("/visits/<uuid:visit_id>/equipment/add/<item_code>", methods=["GET", "POST"])
@login_required
def add_equipment(visit_id: uuid.UUID, item_code: str):
    visit, refused = _open_visit(visit_id)
    if refused:
        return refused
    catalogue = orders.catalogue_for(visit)
    item = catalogue.item(item_code)
    if item is None:
        abort(404)
    return _item_page(visit, catalogue, item)


@bp.route("/visits/<uuid:visit_id>/equipment/<uuid:order_id>", methods=["GET", "POST"])
@login_required
def change_equipment(visit_id: uuid.UUID, order_id: uuid.UUID):
    visit, refused = _open_visit(visit_id)
    if refused:
        return refused
    order = orders.get_order(visit, order_id)
    if order is None:
        abort(404)
    catalogue = orders.catalogue_of(order)
    item = catalogue.item(order.item_code)
    if item is None:
        abort(404)
    return _item_page(visit, catalogue, item, order=order)


@bp.post("/visits/<uuid:visit_id>/equipment/<uuid:order_id>/remove")
@login_required
def remove_equipment(visit_id: uuid.UUID, order_id: uuid.UUID):
    visit, refused = _open_visit(visit_id)
    if refused:
        return refused
    try:
        removed = orders.remove_order(current_user, visit.id, order_id)
    except orders.NotTrustedAssessor:
        abort(403)
    except orders.OrderNotOpen:
        flash(LOCKED_MESSAGE, "info")
        return redirect(url_for("visits.task_list", visit_id=visit.id))
    except LookupError:
        abort(404)
    catalogue = orders.catalogue_of(removed)
    item = catalogue.item(removed.item_code)
    flash(f"{item.name if item else removed.item_code} removed from the order", "success")
    return redirect(url_for("visits.equipment", visit_id=visit.id))
