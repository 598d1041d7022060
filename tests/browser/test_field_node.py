"""The field node in the browser: resuming after a crash, clinic visits, validation, offline."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, HSC, TABLET_PORTRAIT
from tests.browser.journey import (
    CASE_STORIES,
    answer_current_page,
    answer_section,
    continue_,
    fill_date,
    sign_in,
    start_visit,
)
from tests.support.nodes import FieldNode

STORY = CASE_STORIES["case-story-2"]
TODAY = date.today()


def start_story_visit(page, axe, setting="home"):
    start_visit(
        page,
        axe,
        STORY["resident"],
        {**STORY["visit"], "setting": setting},
        first_contact=(TODAY - timedelta(days=2)).isoformat(),
        visit_date=TODAY.isoformat(),
    )


@pytest.fixture
def own_node(tmp_path):
    """A node of the test's own, which the test may kill."""
    node = FieldNode(tmp_path)
    node.create_hsc(**HSC)
    node.start()
    yield node
    node.stop()


def test_killing_the_field_process_after_a_continue_loses_nothing_and_the_visit_resumes(
    page, own_node, axe
):
    sign_in(page, own_node, HSC, axe)
    start_story_visit(page, axe)
    answer_section(page, axe, "Check consent and personal circumstances", STORY["answers"])
    page.get_by_role("link", name="Check falls and home safety").click()
    answer_current_page(page, STORY["answers"])  # F1: yes
    continue_(page, axe)
    answer_current_page(page, STORY["answers"])  # number of falls, where, injuries...
    continue_(page, axe)
    resume_at = page.url

    own_node.kill()  # SIGKILL straight after the Continue returned
    own_node.start()

    page.goto(f"{own_node.url}/visits")
    axe.check(page)
    if page.get_by_role("heading", level=1).inner_text() == "Sign in":
        sign_in(page, own_node, HSC, axe)
    page.get_by_role(
        "link", name=f"Continue the visit with {STORY['resident']['given_name']}"
    ).click()
    assert page.url == resume_at  # the HSC carries on where they left off
    axe.check(page)
    page.get_by_role("link", name="Back").click()  # the page before: its answers are all there
    expect(page.locator("input[name='F2']")).to_have_value(str(STORY["answers"]["F2"]))
    expect(page.locator("input[name='F6'][value='yes']")).to_be_checked()
    page.goto(resume_at.split("/sections")[0])
    item = page.locator(".govuk-task-list__item").filter(has_text="consent and personal")
    expect(item.locator(".govuk-task-list__status")).to_have_text("Completed")


def test_a_gp_clinic_visit_skips_the_home_only_items(page, node, axe):
    sign_in(page, node, HSC, axe)
    start_story_visit(page, axe, setting="gp_clinic")
    answer_section(page, axe, "Check consent and personal circumstances", STORY["answers"])
    answer_section(page, axe, "Check falls and home safety", STORY["answers"])
    page.get_by_role("link", name="Check falls and home safety").click()  # check answers
    axe.check(page)
    rows = page.locator(".govuk-summary-list__row")
    stairs = rows.filter(has_text="Are there handrails on the stairs?")
    expect(stairs).to_contain_text("Not assessed — clinic visit")
    expect(stairs.locator(".govuk-summary-list__actions")).to_have_count(0)


def test_validation_errors_are_shown_and_fixed(page, node, axe):
    sign_in(page, node, HSC, axe)
    page.get_by_role("button", name="Start a visit").click()
    page.locator("#given_name").fill("Ivy")
    page.locator("#postcode").fill("LE1")
    fill_date(page, "date_of_birth", "1950-02-03")
    page.locator("#date_of_birth-day").fill("31")
    continue_(page, axe)
    assert page.title().startswith("Error: Start a visit")
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Enter a real postcode")
    expect(summary).to_contain_text("Date of birth must be a real date")
    expect(summary).to_contain_text("Enter the resident’s last name")
    expect(page.locator("#postcode")).to_have_value("LE1")  # nothing typed is lost
    summary.get_by_role("link", name="Enter a real postcode, like LE19 2DR").click()
    expect(page.locator("#postcode")).to_be_focused()

    page.locator("#family_name").fill("Green")
    page.locator("#date_of_birth-day").fill("3")
    page.locator("#postcode").fill("le3 9qp")
    page.locator("#address_line_1").fill("9 Hill Rise")
    page.locator("#town").fill("Leicester")
    page.locator("input[name='district'][value='charnwood']").check()
    page.locator("input[name='setting'][value='home']").check()
    page.locator("input[name='referral_source'][value='self']").check()
    fill_date(page, "first_contact_date", TODAY.isoformat())
    continue_(page, axe)
    expect(page.get_by_role("heading", level=1)).to_have_text("Housing MOT for Ivy Green")

    page.get_by_role("link", name="Check consent and personal circumstances").click()
    continue_(page, axe)  # nothing chosen
    expect(page.locator(".govuk-error-message")).to_contain_text("Select an answer")
    page.locator("input[name='P6'][value='yes']").check()
    continue_(page, axe)
    assert page.locator(".govuk-error-summary").count() == 0


def test_when_the_node_is_unreachable_recent_pages_show_with_an_offline_notice(
    context, page, own_node, axe
):
    sign_in(page, own_node, HSC, axe)
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.reload()  # now controlled by the service worker, which keeps a copy of each page
    expect(page.locator("#offline-notice")).to_be_hidden()
    start_story_visit(page, axe)
    task_list = page.url

    own_node.kill()
    page.goto(task_list)
    expect(page.locator("#offline-notice")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Housing MOT for")
    axe.check(page)

    page.goto(f"{own_node.url}/visits/start-never-opened")
    expect(page.get_by_role("heading", level=1)).to_have_text("The app is not reachable")

    own_node.start()
    page.goto(task_list)
    expect(page.locator("#offline-notice")).to_be_hidden()


def test_the_app_is_installable_in_chromium(browser, node, axe, tmp_path):
    # Installability is judged for a real profile; Playwright's usual contexts are incognito.
    context = browser.browser_type.launch_persistent_context(
        tmp_path / "profile",
        executable_path=CHROMIUM,
        args=CHROMIUM_ARGS,
        viewport=TABLET_PORTRAIT,
    )
    try:
        page = context.new_page()
        sign_in(page, node, HSC, axe)
        manifest = page.evaluate("fetch('/manifest.webmanifest').then(r => r.json())")
        assert manifest["display"] == "standalone" and manifest["start_url"] == "/visits"
        page.evaluate("navigator.serviceWorker.ready.then(() => true)")
        session = context.new_cdp_session(page)
        errors = session.send("Page.getInstallabilityErrors")["installabilityErrors"]
        assert errors == []
    finally:
        context.close()
