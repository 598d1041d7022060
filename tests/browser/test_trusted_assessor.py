"""A trusted assessor orders grab rails during the first case story, on a tablet: the order
goes to the office with the visit, is approved, the minor adaptations service fits the rails,
and the tablet shows them fitted. axe-core checks every page on both sides."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.journey import CASE_STORIES, continue_
from tests.browser.office import PASSWORD, office_sign_in, reload_until
from tests.browser.test_case_stories import complete_story
from tests.support.nodes import CentralNode, start_with_field

STORY = CASE_STORIES["case-story-1"]  # Margaret Hollis, Blaby: grab rails by the bath
TA = {"email": "tara.ta@example.org", "passphrase": "tablet passphrase 1"}
LEADER, ADAPTATIONS = "terry.lead@example.org", "adaptations@example.org"


@pytest.fixture
def nodes(tmp_path):
    central = CentralNode(tmp_path / "central")
    central.command("db", "upgrade")
    people = [
        (TA["email"], "Tara Okafor", "hsc", ["--district", "blaby", "--ta-level", "L3"]),
        (LEADER, "Terry Walsh", "team_leader", ["--district", "blaby"]),
        (ADAPTATIONS, "Adaptations desk", "provider", ["--service", "minor_adaptations"]),
    ]
    for email, name, role, extra in people:
        if role == "hsc":
            extra += ["--ta-date", "2025-03-14", "--ta-supervisor", "Olive Grant"]
        central.command(
            "create-user",
            *("--name", name, "--email", email, "--role", role),
            *extra,
            env={"HMOT_PASSWORD": PASSWORD},
        )
    output = central.command("create-enrolment-code", "--email", TA["email"])
    code = re.search(r"[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}", output).group(0)
    field = start_with_field(central, tmp_path / "field", code, TA["passphrase"])
    yield central, field
    field.stop()
    central.stop()


def test_a_trusted_assessor_orders_grab_rails_that_the_provider_fits(page, nodes, axe, office):
    central, field = nodes
    resident = f"{STORY['resident']['given_name']} {STORY['resident']['family_name']}"

    # The assessor completes the MOT, then orders from the items the answers suggest.
    complete_story(page, field, axe, STORY, TA)
    visit_url = page.url.removesuffix("/summary")
    page.goto(visit_url)
    page.get_by_role("link", name="Order equipment").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Order equipment")
    axe.check(page)
    suggested = page.locator("#suggested")
    expect(suggested).to_contain_text("Grab rail (straight)")
    suggested.get_by_role("link", name="Grab rail (straight)").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Grab rail (straight)")
    axe.check(page)
    expect(page.locator("#reason")).not_to_be_empty()  # the need found in the MOT
    page.locator("input[name='location'][value='Bathroom']").check()
    page.locator("input[name='side'][value='left']").check()
    page.locator("input[name='measurement-length_mm'][value='450']").check()
    page.locator("input[name='measurement-orientation'][value='vertical']").check()
    page.locator("#quantity").fill("2")
    continue_(page, axe, "Add to order")
    lines = page.locator("#order-lines")
    expect(lines).to_contain_text("Grab rail (straight)")
    expect(lines.locator("tbody tr").first).to_contain_text("Order")
    expect(page.locator("#order-total")).to_have_text("£120")  # the running total: 2 at £60

    # Consent to share with each service, complete, and the tablet sends it.
    page.goto(visit_url)
    page.get_by_role("button", name="Check referrals and complete").click()
    axe.check(page)
    for group in page.get_by_role("group").filter(has_text="shared with").all():
        group.get_by_label("Yes").check()
    continue_(page, axe, "Complete visit")
    expect(page.locator("#visit-progress-status")).to_have_text(
        "Received by the office", timeout=30_000
    )

    # The team leader sees the order with the visit and approves it.
    leader = office()
    office_sign_in(leader, central, LEADER, axe)
    leader.get_by_role("link", name=resident).click()
    expect(leader.locator("main")).to_contain_text("Grab rail (straight)")
    axe.check(leader)
    leader.get_by_role("button", name="Approve and issue referrals").click()
    expect(leader.locator(".govuk-notification-banner")).to_contain_text("Visit approved")
    axe.check(leader)

    # The minor adaptations service sees the rails with their measurements, and fits them.
    desk = office()
    office_sign_in(desk, central, ADAPTATIONS, axe)
    desk.locator("#open-referrals").get_by_role("link", name=resident).click()
    axe.check(desk)
    items = desk.locator("main")
    expect(items).to_contain_text("Grab rail (straight)")
    expect(items).to_contain_text("450 mm")
    desk.get_by_role("button", name=re.compile("Mark fitted")).first.click()
    expect(desk.locator(".govuk-notification-banner")).to_be_visible()
    axe.check(desk)
    assert leader.problems == [] and desk.problems == []

    # The tablet shows the rails fitted.
    page.goto(visit_url)
    fitted = page.locator("#equipment-orders li").filter(has_text="Grab rail (straight)")
    reload_until(page, fitted.filter(has_text="Fitted"))
    axe.check(page)
