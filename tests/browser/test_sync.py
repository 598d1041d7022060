"""The HSC always knows where a visit is: on its way to the office, and there."""

from __future__ import annotations

from datetime import date

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import HSC as LOCAL_HSC
from tests.browser.journey import CASE_STORIES, answer_current_page, continue_, sign_in, start_visit
from tests.support.nodes import CentralNode, start_with_field

HSC = {"email": "sam.hsc@example.org", "passphrase": "tablet passphrase 1"}


@pytest.fixture
def nodes(tmp_path):
    central = CentralNode(tmp_path / "central")
    code = central.create_hsc("Sam Patel", HSC["email"])
    field = start_with_field(central, tmp_path / "field", code, HSC["passphrase"])
    yield central, field
    field.stop()
    central.stop()


def complete_a_declined_visit(page, axe) -> None:
    """The shortest complete visit: the resident declines the assessment."""
    story = CASE_STORIES["case-story-1"]
    start_visit(
        page,
        axe,
        story["resident"],
        story["visit"],
        first_contact=date.today().isoformat(),
        visit_date=date.today().isoformat(),
    )
    page.get_by_role("link", name="Check consent and personal circumstances").click()
    answer_current_page(page, {"P6": "no"})
    continue_(page, axe)
    page.get_by_label("Yes, I’ve completed this section").check()
    continue_(page, axe)
    page.get_by_role("button", name="Check referrals and complete").click()
    axe.check(page)
    continue_(page, axe, "Complete visit")


def test_a_visit_completed_while_central_is_down_reaches_the_office_by_itself(page, nodes, axe):
    central, field = nodes
    central.stop()
    sign_in(page, field, HSC, axe)
    complete_a_declined_visit(page, axe)
    status = page.locator("#visit-progress-status")
    expect(status).to_have_text("Waiting to send")
    expect(page.locator("#sync-waiting")).to_have_text("1")
    axe.check(page)

    central.start()  # nothing is touched on the tablet from here on
    expect(status).to_have_text("Received by the office", timeout=30_000)
    expect(page.locator("#sync-waiting")).to_have_text("0")
    expect(page.locator("#sync-connection")).to_have_text("Online")
    axe.check(page)
    page.get_by_role("link", name="My visits").first.click()
    row = page.locator("tr").filter(
        has_text=CASE_STORIES["case-story-1"]["resident"]["family_name"]
    )
    expect(row).to_contain_text("Received by the office")
    axe.check(page)


def test_an_unenrolled_field_node_says_it_is_not_syncing(page, node, axe):
    sign_in(page, node, LOCAL_HSC, axe)
    expect(page.locator("#sync-status")).to_contain_text("Not syncing")
    expect(page.get_by_role("link", name="Enrol this device")).to_be_visible()
