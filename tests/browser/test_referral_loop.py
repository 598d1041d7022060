"""The whole loop across real processes: a visit made offline on the tablet, returned by the
team leader with a comment, corrected, approved; two providers each see exactly their
referral and complete it; the tablet shows both completed; a follow-up visit raises one
more referral. axe-core checks every page on both sides."""

from __future__ import annotations

from datetime import date

import pytest
from playwright.sync_api import Page, expect

from tests.browser.journey import CASE_STORIES, continue_
from tests.browser.office import PASSWORD, office_sign_in, reload_until
from tests.browser.test_case_stories import complete_story
from tests.support.nodes import CentralNode, start_with_field

STORY = CASE_STORIES["case-story-2"]  # Edith Marlow, Melton
HSC = {"email": "sam.hsc@example.org", "passphrase": "tablet passphrase 1"}
OFFICE = {
    "leader": ("Terry Walsh", "terry.lead@example.org", ["--role", "team_leader"]),
    "telecare": ("Telecare desk", "telecare@example.org", ["--role", "provider"]),
    "adaptations": ("Adaptations desk", "adaptations@example.org", ["--role", "provider"]),
}
ADAPTATIONS_TASK = "Check getting around the home"
SERVICES = {"telecare": "assistive_technology", "adaptations": "minor_adaptations"}


@pytest.fixture
def nodes(tmp_path):
    central = CentralNode(tmp_path / "central")
    code = central.create_hsc("Sam Patel", HSC["email"], district="melton")
    for key, (name, email, role) in OFFICE.items():
        extra = ["--service", SERVICES[key]] if key in SERVICES else ["--district", "melton"]
        central.command(
            "create-user",
            "--name",
            name,
            "--email",
            email,
            *role,
            *extra,
            env={"HMOT_PASSWORD": PASSWORD},
        )
    field = start_with_field(central, tmp_path / "field", code, HSC["passphrase"])
    yield central, field
    field.stop()
    central.stop()


def change_answer(page: Page, axe, task: str, label: str, answer) -> None:
    """From the task list: open a completed section's answers, change one, complete it."""
    page.get_by_role("link", name=task).click()
    axe.check(page)
    page.get_by_role("link", name=f"Change {label}").click()
    axe.check(page)
    answer(page)
    continue_(page, axe)
    while "/check-answers" not in page.url:
        continue_(page, axe)
    page.get_by_label("Yes, I’ve completed this section").check()
    continue_(page, axe)


def test_returned_corrected_approved_delivered_and_followed_up(page, nodes, axe, office):
    central, field = nodes
    resident = f"{STORY['resident']['given_name']} {STORY['resident']['family_name']}"

    # 1. The HSC completes the second case story with no connection to the office.
    central.stop()
    complete_story(page, field, axe, STORY, HSC)
    for group in page.get_by_role("group").filter(has_text="shared with").all():
        group.get_by_label("Yes").check()
    continue_(page, axe, "Complete visit")
    status = page.locator("#visit-progress-status")
    expect(status).to_have_text("Waiting to send")
    central.start()
    expect(status).to_have_text("Received by the office", timeout=30_000)
    visit_url = page.url

    # 2. The team leader returns it with a comment.
    leader = office()
    office_sign_in(leader, central, OFFICE["leader"][1], axe)
    expect(leader.get_by_role("heading", level=1)).to_have_text("Visits to review")
    leader.get_by_role("link", name=resident).click()
    expect(leader.get_by_role("heading", level=1)).to_have_text(f"Housing MOT for {resident}")
    axe.check(leader)
    leader.get_by_label("What should the HSC change?").fill(
        "Please record what she would most like to sort out first."
    )
    leader.get_by_role("button", name="Return to the HSC").click()
    expect(leader.locator(".govuk-notification-banner")).to_contain_text("returned")
    axe.check(leader)

    # 3. The tablet shows the comment; the HSC corrects the visit and completes it again.
    page.goto(visit_url)
    banner = page.locator(".govuk-notification-banner").filter(has_text="Returned by the office")
    reload_until(page, banner)
    expect(banner).to_contain_text("Please record what she would most like to sort out first.")
    axe.check(page)
    change_answer(
        page,
        axe,
        "Ask what matters to the resident",
        "What would the resident most like to sort out first?",
        lambda p: p.locator("#WM_PRIORITY").fill("Feeling safe at night"),
    )
    page.get_by_role("button", name="Check referrals and complete").click()
    axe.check(page)
    continue_(page, axe, "Complete visit")
    expect(page.locator("#visit-progress-status")).to_have_text(
        "Received by the office", timeout=30_000
    )

    # 4. The team leader sees what changed and approves revision 2.
    leader.goto(f"{central.url}/review")
    leader.get_by_role("link", name=resident).click()
    expect(leader.get_by_text("Changed since revision 1")).to_be_visible()
    expect(leader.locator("main")).to_contain_text("Feeling safe at night")
    axe.check(leader)
    leader.get_by_role("button", name="Approve and issue referrals").click()
    expect(leader.locator(".govuk-notification-banner")).to_contain_text("Visit approved")
    axe.check(leader)
    assert leader.problems == []

    # 5. Each provider sees exactly their referral, accepts it and completes it.
    today = date.today()
    for key in ("telecare", "adaptations"):
        desk = office()
        office_sign_in(desk, central, OFFICE[key][1], axe)
        expect(desk.get_by_role("heading", level=1)).to_have_text("Referrals")
        rows = desk.locator("#open-referrals tbody tr")
        expect(rows).to_have_count(1)
        expect(rows.first).to_contain_text(resident)
        rows.first.get_by_role("link", name=resident).click()
        axe.check(desk)
        desk.get_by_role("button", name="Accept referral").click()
        expect(desk.locator(".govuk-notification-banner")).to_be_visible()
        axe.check(desk)
        desk.locator("#completed_on-day").fill(str(today.day))
        desk.locator("#completed_on-month").fill(str(today.month))
        desk.locator("#completed_on-year").fill(str(today.year))
        desk.get_by_role("button", name="Mark as completed").click()
        expect(desk.locator(".govuk-notification-banner")).to_be_visible()
        expect(desk.locator("main")).to_contain_text("Completed")
        axe.check(desk)
        assert desk.problems == []

    # 6. The tablet shows both referrals completed.
    page.get_by_role("link", name="My residents").first.click()
    row = page.locator("#residents tr").filter(has_text=resident)
    for name in ("Assistive technology", "Minor adaptations"):
        reload_until(page, row.locator("li").filter(has_text=name).filter(has_text="Completed"))
    axe.check(page)

    # 7. The final visit starts from the last visit's answers and raises one more referral.
    row.get_by_role("link", name=resident).click()
    axe.check(page)
    page.locator("input[name='setting'][value='home']").check()
    page.get_by_role("button", name="Start follow-up visit").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Final visit for {resident}")
    axe.check(page)
    page.get_by_role("link", name="Ask what matters to the resident").click()
    axe.check(page)
    while "/check-answers" not in page.url:
        if page.locator("input[name='WM_RATING_AFTER']").count():
            page.locator("input[name='WM_RATING_AFTER'][value='4']").check()
            page.locator("input[name='WM_ACHIEVED'][value='yes']").check()
        continue_(page, axe)
    page.get_by_label("Yes, I’ve completed this section").check()
    continue_(page, axe)
    change_answer(
        page,
        axe,
        ADAPTATIONS_TASK,
        "Is a major adaptation likely to be needed?",
        lambda p: p.locator("input[name='A3'][value='yes']").check(),
    )
    page.get_by_role("button", name="Check referrals and complete").click()
    axe.check(page)
    for group in page.get_by_role("group").filter(has_text="shared with").all():
        group.get_by_label("Yes").check()
    continue_(page, axe, "Complete visit")
    expect(page.locator("#visit-progress-status")).to_have_text(
        "Received by the office", timeout=30_000
    )

    # The office has the follow-up with exactly one new referral: occupational therapy.
    leader.goto(f"{central.url}/review")
    leader.get_by_role("link", name=resident).click()
    expect(leader.locator(".govuk-caption-l")).to_contain_text("Final visit")
    referrals = leader.locator("table").filter(has_text="Why (from the answers)")
    proposed = referrals.locator("tbody tr").filter(has_text="Proposed")
    expect(proposed).to_have_count(1)
    expect(proposed.first).to_contain_text("Occupational therapy")
    expect(leader.locator("main")).to_contain_text("After the works")
    axe.check(leader)
