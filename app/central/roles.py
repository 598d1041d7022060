"""Who may see what on central: the roles, their labels, and the ``role_required`` check."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TypeVar

from flask import abort
from flask_login import current_user

from app.extensions import login_manager
from app.models.central import PROVIDER_SERVICES, ROLES, TA_LEVELS
from app.visits.forms import DISTRICTS

HSC, TEAM_LEADER, PROVIDER, ADMIN = ROLES

ROLE_LABELS = {
    HSC: "Housing Support Coordinator (HSC)",
    TEAM_LEADER: "Team leader",
    PROVIDER: "Service provider",
    ADMIN: "Administrator",
}
# The role as part of a URL (kebab-case) and back.
ROLE_SLUGS = {role: role.replace("_", "-") for role in ROLES}
ROLES_BY_SLUG = {slug: role for role, slug in ROLE_SLUGS.items()}
SERVICE_LABELS = dict(
    zip(
        PROVIDER_SERVICES,
        ("Handyperson", "Minor adaptations", "Assistive technology and telecare"),
        strict=True,
    )
)
TA_LABELS = dict(
    zip(
        TA_LEVELS,
        ("Not a trusted assessor", "Level 3 (minor equipment)", "Level 4 (major equipment)"),
        strict=True,
    )
)
DISTRICT_LABELS = dict(DISTRICTS)

View = TypeVar("View", bound=Callable)


def role_required(*roles: str) -> Callable[[View], View]:
    """Signed-out visitors go to sign-in; a signed-in user without one of ``roles`` gets 403."""
    unknown = set(roles) - set(ROLES)
    if not roles or unknown:
        raise ValueError(f"role_required needs roles from {ROLES}, not {sorted(unknown)}")

    def decorate(view: View) -> View:
        @wraps(view)
        def checked(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        checked.allowed_roles = frozenset(roles)  # read by tests/test_architecture.py
        return checked  # type: ignore[return-value]

    return decorate
