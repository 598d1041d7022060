from flask import redirect, render_template, url_for
from flask_login import current_user, login_required

from app import queries
from app.visits import bp


@bp.get("/")
@login_required
def home():
    return redirect(url_for("visits.my_visits"))


@bp.get("/visits")
@login_required
def my_visits():
    lists = queries.list_visits(current_user.id)
    return render_template("visits/my-visits.html", lists=lists)
