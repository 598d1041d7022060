from flask import redirect, render_template, url_for
from flask_login import current_user, login_required

from app import queries
from app.visits import bp
from app.visits.helpers import visit_progress
from sync import device


@bp.get("/")
@login_required
def home():
    return redirect(url_for("visits.my_visits"))


@bp.get("/visits")
@login_required
def my_visits():
    lists = queries.list_visits(current_user.id)
    visits = [*lists.drafts, *lists.completed]
    entries = device.latest_entries([visit.id for visit in visits])
    enrolled = device.device_state() is not None
    progress = {v.id: visit_progress(v, entries.get(v.id), enrolled) for v in visits}
    return render_template("visits/my-visits.html", lists=lists, progress=progress)
