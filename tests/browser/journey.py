"""Steps of the Housing MOT journey as an HSC takes them in the browser.

Each step checks the page it lands on with axe-core, so every page a test passes through is
checked. Answers are given the way a person gives them: clicking radios and checkboxes by
their value, typing into text boxes, pressing Continue.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from playwright.sync_api import Page, expect

ROOT = Path(__file__).resolve().parents[2]
CASE_STORIES = yaml.safe_load(
    (ROOT / "forms/housing_mot/examples/case-stories.yaml").read_text(encoding="utf-8")
)


def continue_(page: Page, axe, label: str = "Continue") -> None:
    page.get_by_role("button", name=label, exact=True).click()
    page.wait_for_load_state()
    axe.check(page)


def sign_in(page: Page, node, hsc: dict, axe) -> None:
    page.goto(f"{node.url}/visits")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    axe.check(page)
    page.get_by_label("Email address").fill(hsc["email"])
    page.get_by_label("Passphrase").fill(hsc["passphrase"])
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My visits")
    axe.check(page)


def fill_date(page: Page, name: str, iso: str) -> None:
    year, month, day = iso.split("-")
    page.locator(f"#{name}-day").fill(str(int(day)))
    page.locator(f"#{name}-month").fill(str(int(month)))
    page.locator(f"#{name}-year").fill(year)


def start_visit(
    page: Page, axe, resident: dict, visit: dict, *, first_contact: str, visit_date: str
) -> None:
    page.get_by_role("button", name="Start a visit").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Start a visit")
    axe.check(page)
    for name in ("given_name", "family_name", "address_line_1", "town", "postcode", "phone"):
        if resident.get(name):
            page.locator(f"#{name}").fill(resident[name])
    if resident.get("nhs_number"):
        page.locator("#nhs_number").fill(resident["nhs_number"])
    fill_date(page, "date_of_birth", resident["date_of_birth"])
    page.locator(f"input[name='district'][value='{resident['district']}']").check()
    page.locator(f"input[name='setting'][value='{visit['setting']}']").check()
    page.locator(f"input[name='referral_source'][value='{visit['referral_source']}']").check()
    fill_date(page, "first_contact_date", first_contact)
    fill_date(page, "visit_date", visit_date)
    continue_(page, axe)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Housing MOT for")


def answer_current_page(page: Page, answers: dict[str, Any]) -> list[str]:
    """Answer every question on the page that ``answers`` has a value for."""
    names = page.locator("main form [name]").evaluate_all(
        "els => [...new Set(els.map(e => e.name))]"
    )
    answered = []
    for name in names:
        if name not in answers:
            continue
        value = answers[name]
        field = page.locator(f"main form [name='{name}']")
        kind = field.first.get_attribute("type") or field.first.evaluate("e => e.tagName")
        if kind == "radio":
            page.locator(f"input[name='{name}'][value='{value}']").check()
        elif kind == "checkbox":
            for box in field.all():
                box.set_checked(box.get_attribute("value") in value)
        elif isinstance(value, str) and len(value) == 10 and value[4] == "-" and field.count() == 3:
            fill_date(page, name, value)
        else:
            field.fill(str(value))
        answered.append(name)
    return answered


def answer_section(page: Page, axe, task: str, answers: dict[str, Any]) -> None:
    """Open a task from the task list, answer its pages, and mark it complete."""
    page.get_by_role("link", name=task).click()
    axe.check(page)
    while "/check-answers" not in page.url:
        answer_current_page(page, answers)
        continue_(page, axe)
        assert page.locator(".govuk-error-summary").count() == 0, page.locator(
            ".govuk-error-summary"
        ).inner_text()
    page.get_by_label("Yes, I’ve completed this section").check()
    continue_(page, axe)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Housing MOT for")


def task_names(page: Page) -> list[str]:
    return [
        name.strip() for name in page.locator(".govuk-task-list__name-and-hint").all_inner_texts()
    ]


def task_status(page: Page, task: str) -> str:
    item = page.locator(".govuk-task-list__item").filter(has_text=task)
    return item.locator(".govuk-task-list__status").inner_text().strip()


def proposed(page: Page) -> dict[str, list[str]]:
    """On the referrals page: each proposed referral's heading with its reasons."""
    result = {}
    for block in page.locator(".app-referral").all():
        name = block.locator("h3").inner_text().strip()
        result[name] = [r.strip() for r in block.locator("li").all_inner_texts()]
    return result


def signposts(page: Page) -> list[str]:
    return [k.strip() for k in page.locator(".app-signposts dt").all_inner_texts()]
