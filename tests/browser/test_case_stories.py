"""Both case stories from product.md, completed end to end on a tablet in the browser."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from app.formengine.definition import load_definition
from tests.browser.conftest import HSC
from tests.browser.journey import (
    CASE_STORIES,
    ROOT,
    answer_section,
    continue_,
    proposed,
    sign_in,
    signposts,
    start_visit,
    task_names,
    task_status,
)

DEFINITION = load_definition(ROOT / "forms/housing_mot/form.v1.yaml")
NAMES = {output.id: output.name for output in DEFINITION.outputs.values()}


def complete_story(page, node, axe, story: dict, hsc: dict = HSC) -> None:
    today = date.today()
    sign_in(page, node, hsc, axe)
    start_visit(
        page,
        axe,
        story["resident"],
        story["visit"],
        first_contact=(today - timedelta(days=4)).isoformat(),
        visit_date=today.isoformat(),
    )
    for task in task_names(page):
        answer_section(page, axe, task, story["answers"])
        assert task_status(page, task) == "Completed"
    page.get_by_role("button", name="Check referrals and complete").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Referrals and consent")
    axe.check(page)


@pytest.mark.parametrize("story_id", ["case-story-1", "case-story-2"])
def test_case_story_completed_end_to_end_proposes_the_referrals_of_the_story(
    page, node, axe, story_id
):
    story = CASE_STORIES[story_id]
    complete_story(page, node, axe, story)

    referrals = proposed(page)
    assert set(referrals) == {NAMES[o] for o in story["expected_referrals"]}
    assert {NAMES[o] for o in story["expected_signposts"]} <= set(signposts(page))
    assert all(reasons for reasons in referrals.values()), "every referral says why"

    for name in referrals:
        page.get_by_role("group", name=f"shared with {name}").get_by_label("Yes").check()
    continue_(page, axe, "Complete visit")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Completed visit")
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text("locked")


def test_story_one_refers_grab_rails_to_minor_adaptations_and_the_shower_to_handyperson(
    page, node, axe
):
    complete_story(page, node, axe, CASE_STORIES["case-story-1"])
    referrals = proposed(page)
    assert any("grab rail" in r.lower() for r in referrals[NAMES["minor_adaptations"]])
    assert any("shower" in r.lower() for r in referrals[NAMES["handyperson"]])


def test_story_two_records_the_declined_pendant_and_refers_the_pager(page, node, axe):
    complete_story(page, node, axe, CASE_STORIES["case-story-2"])
    at_reasons = " ".join(proposed(page)[NAMES["assistive_technology"]]).lower()
    assert "pager" in at_reasons
    assert "pendant" not in at_reasons.replace("declined", "")  # no pendant is ordered
    # Consent refused for one service: it becomes information for the resident.
    group = page.get_by_role("group", name=f"shared with {NAMES['falls_service']}")
    group.get_by_label("No, give information only").check()
    for name in proposed(page):
        if name != NAMES["falls_service"]:
            page.get_by_role("group", name=f"shared with {name}").get_by_label("Yes").check()
    continue_(page, axe, "Complete visit")
    record = page.locator("main").inner_text()
    assert "Pendant alarm" in record  # the declined pendant is on the record (AT2)
    falls_row = page.locator(".govuk-summary-list__row").filter(has_text=NAMES["falls_service"])
    expect(falls_row.first).to_contain_text("Information given to the resident")
