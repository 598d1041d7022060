"""A trusted assessor's level is central's to give: it reaches the tablet by pull, and a
change takes effect at the tablet's next sync (two real processes)."""

from __future__ import annotations

from datetime import date

from app.central import accounts
from app.central.account_rules import AccountDetails
from tests.integration.conftest import rows
from tests.support.fleet import in_app

EMAIL = "tara.ta@example.org"


def set_level(central, level: str) -> None:
    with in_app(central):
        user = accounts.get_user_by_email(EMAIL)
        details = AccountDetails(
            name=user.name,
            email=user.email,
            role="hsc",
            districts=tuple(user.district_names),
            ta_level=level,
            ta_signed_off_on=date(2026, 11, 2) if level != "none" else None,
            ta_supervisor="Olive Grant" if level != "none" else "",
        )
        accounts.update_user(None, user.id, details.normalised())


def device_level(device) -> str:
    [(level,)] = rows(device.field.db_path, "SELECT ta_level FROM hsc_profile")
    return level


def test_a_level_given_on_central_takes_effect_at_the_next_sync(fleet):
    central = fleet.start_central()
    tara = fleet.add_device("Tara Okafor", EMAIL)
    assert tara.sync().returncode == 0
    assert device_level(tara) == "none"

    set_level(central, "L3")
    assert device_level(tara) == "none"  # nothing changes on the tablet until it syncs
    assert tara.sync().returncode == 0
    assert device_level(tara) == "L3"

    set_level(central, "none")  # signed off no longer: ordering stops at the next sync
    assert tara.sync().returncode == 0
    assert device_level(tara) == "none"
