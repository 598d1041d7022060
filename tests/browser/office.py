"""The office side of browser tests: staff sign in to central in desktop tabs, and a tablet
page waits for what the office did to arrive by pull."""

from __future__ import annotations

import time

from playwright.sync_api import Page

from tests.support.nodes import CentralNode

PASSWORD = "office password 1"
DESKTOP = {"width": 1280, "height": 900}


def office_sign_in(tab: Page, central: CentralNode, email: str, axe) -> None:
    tab.goto(f"{central.url}/sign-in")
    axe.check(tab)
    tab.get_by_label("Email address").fill(email)
    tab.get_by_label("Password", exact=True).fill(PASSWORD)
    tab.get_by_role("button", name="Sign in").click()
    tab.wait_for_load_state()
    axe.check(tab)


def reload_until(page: Page, locator, timeout: float = 30) -> None:
    """Reload until ``locator`` shows: the device picks the change up on its next pull."""
    deadline = time.monotonic() + timeout
    while True:
        if locator.count() and locator.first.is_visible():
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{locator} did not appear on {page.url}")
        time.sleep(0.5)
        page.reload()
