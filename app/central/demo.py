"""Demo accounts for central, one per role (an HSC and a trusted assessor, a team leader, a
provider for each service, an admin). Demo only: every one has the same published password."""

from __future__ import annotations

from datetime import date

from app.central import accounts
from app.central.account_rules import AccountDetails

DEMO_PASSWORD = "demo password 1"  # noqa: S105 - the published demo sign-in, never for real use

DEMO_ACCOUNTS = [
    AccountDetails("Sam Patel", "sam.hsc@example.org", "hsc", districts=("blaby",)),
    AccountDetails(
        "Tara Okafor",
        "tara.ta@example.org",
        "hsc",
        districts=("melton",),
        ta_level="L3",
        ta_signed_off_on=date(2025, 3, 14),
        ta_supervisor="Olive Grant (occupational therapist)",
    ),
    AccountDetails(
        "Terry Walsh", "terry.lead@example.org", "team_leader", districts=("blaby", "melton")
    ),
    AccountDetails(
        "Handyperson service",
        "handyperson@example.org",
        "provider",
        provider_service="handyperson",
    ),
    AccountDetails(
        "Minor adaptations service",
        "adaptations@example.org",
        "provider",
        provider_service="minor_adaptations",
    ),
    AccountDetails(
        "Telecare service",
        "telecare@example.org",
        "provider",
        provider_service="assistive_technology",
    ),
    AccountDetails("Alex Morgan", "admin@example.org", "admin"),
]


def seed() -> str:
    """Add any demo account that is missing; safe to run again."""
    created = 0
    for details in DEMO_ACCOUNTS:
        details = details.normalised()
        if accounts.get_user_by_email(details.email) is None:
            accounts.create_user(None, details, DEMO_PASSWORD)
            created += 1
    emails = ", ".join(d.email for d in DEMO_ACCOUNTS)
    if not created:
        return f"Demo accounts already present ({emails}); password {DEMO_PASSWORD!r}."
    return f"{created} demo accounts created ({emails}); password {DEMO_PASSWORD!r}. Demo only."
