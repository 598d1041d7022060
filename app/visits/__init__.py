"""The Housing MOT journey on the field node, one module per step."""

from flask import Blueprint

bp = Blueprint("visits", __name__)

from app.visits import (  # noqa: E402  - the modules register their routes on bp
    check_answers,
    equipment,
    my_visits,
    residents,
    section,
    start,
    summary,
    task_list,
)

__all__ = [
    "bp",
    "check_answers",
    "equipment",
    "my_visits",
    "residents",
    "section",
    "start",
    "summary",
    "task_list",
]
