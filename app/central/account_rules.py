"""What makes an account's details valid, in one place for the admin pages and the CLI.

Each problem is keyed by the detail it is about and worded for a person to act on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date

from app.central.roles import (
    ADMIN,
    DISTRICT_LABELS,
    HSC,
    PROVIDER,
    SERVICE_LABELS,
    TA_LABELS,
    TEAM_LEADER,
)
from app.models.central import ROLES

EMAIL_FORMAT = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
EMAIL_TAKEN = "An account with this email address already exists"
MIN_PASSWORD_LENGTH = 12


@dataclass(frozen=True)
class AccountDetails:
    """An account as an admin describes it; ``normalised()`` drops what the role does not use."""

    name: str
    email: str
    role: str
    districts: tuple[str, ...] = ()
    provider_service: str | None = None
    ta_level: str = "none"
    ta_signed_off_on: date | None = None
    ta_supervisor: str = ""

    def normalised(self) -> AccountDetails:
        details = replace(
            self,
            name=" ".join(self.name.split()),
            email=normalise_email(self.email),
            districts=tuple(sorted(set(self.districts))),
            ta_supervisor=" ".join((self.ta_supervisor or "").split()),
        )
        if details.role != PROVIDER:
            details = replace(details, provider_service=None)
        if details.role in (PROVIDER, ADMIN):
            details = replace(details, districts=())
        if details.role != HSC:
            details = replace(details, ta_level="none")
        if details.ta_level == "none":
            details = replace(details, ta_signed_off_on=None, ta_supervisor="")
        return details


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def account_problems(
    details: AccountDetails, *, email_taken: bool = False, today: date | None = None
) -> dict[str, str]:
    """Problems with ``details`` (already normalised), by detail; empty if there are none."""
    today = today or date.today()
    problems: dict[str, str] = {}
    if not details.name:
        problems["name"] = "Enter the person’s full name"
    if not details.email:
        problems["email"] = "Enter an email address"
    elif not EMAIL_FORMAT.match(details.email):
        problems["email"] = "Enter an email address in the correct format, like name@example.org"
    elif email_taken:
        problems["email"] = EMAIL_TAKEN
    if details.role not in ROLES:
        problems["role"] = "Select the person’s role"
        return problems
    unknown = [d for d in details.districts if d not in DISTRICT_LABELS]
    if unknown:
        problems["districts"] = (
            f"{', '.join(unknown)} is not a district: use {', '.join(DISTRICT_LABELS)}"
        )
    elif details.role == HSC and len(details.districts) != 1:
        problems["districts"] = "Select the district the HSC works in"
    elif details.role == TEAM_LEADER and not details.districts:
        problems["districts"] = "Select at least one district"
    if details.role == PROVIDER and details.provider_service not in SERVICE_LABELS:
        problems["provider_service"] = "Select the service this provider delivers"
    if details.ta_level not in TA_LABELS:
        problems["ta_level"] = "Select the trusted-assessor level"
    elif details.ta_level != "none":
        if details.ta_signed_off_on is None:
            problems["ta_signed_off_on"] = (
                "Enter the date the trusted-assessor level was signed off"
            )
        elif details.ta_signed_off_on > today:
            problems["ta_signed_off_on"] = "Date of sign-off must be today or in the past"
        if not details.ta_supervisor:
            problems["ta_supervisor"] = (
                "Enter the name of the supervisor who signed off the trusted-assessor level"
            )
    return problems


def password_problem(password: str) -> str | None:
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"The password must be at least {MIN_PASSWORD_LENGTH} characters"
    return None
