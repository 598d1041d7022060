"""Tablet and phone layouts: nothing scrolls sideways and every control is a 44px target."""

from __future__ import annotations

import pytest

from tests.browser.conftest import HSC
from tests.browser.journey import CASE_STORIES, sign_in, start_visit

VIEWPORTS = {
    "tablet portrait": {"width": 800, "height": 1280},
    "tablet landscape": {"width": 1280, "height": 800},
    "phone": {"width": 375, "height": 667},
}
# Interactive elements a finger has to hit. Links inside running text are exempt
# (WCAG 2.5.8 "inline"), so only links that stand alone as controls are measured. A task
# list link's target is its whole row (GOV.UK Frontend stretches it over the row).
TARGETS = """
  main button, main .govuk-button, header a, header button, .govuk-back-link,
  main input[type=radio], main input[type=checkbox], main input[type=text],
  .govuk-summary-list__actions a, .govuk-task-list__item--with-link, .app-touch-link
"""
MEASURE = """(selector) => [...document.querySelectorAll(selector)]
  .filter(e => e.offsetParent !== null)
  .map(e => { const r = e.getBoundingClientRect();
              return {what: e.outerHTML.slice(0, 80), width: r.width, height: r.height}; })"""


@pytest.mark.parametrize("viewport", VIEWPORTS.values(), ids=VIEWPORTS.keys())
def test_pages_fit_the_screen_and_controls_are_at_least_44px(browser, node, axe, viewport):
    context = browser.new_context(viewport=viewport, has_touch=True)
    page = context.new_page()
    try:
        sign_in(page, node, HSC, axe)
        story = CASE_STORIES["case-story-1"]
        start_visit(page, axe, story["resident"], story["visit"],
                    first_contact="2026-11-02", visit_date="2026-11-09")  # fmt: skip
        task_list = page.url
        pages = [f"{node.url}/visits", f"{node.url}/residents",
                 f"{node.url}/visits/start", task_list,
                 f"{task_list}/sections/about-the-person/consent",
                 f"{task_list}/sections/about-the-person/check-answers"]  # fmt: skip
        for url in pages:
            page.goto(url)
            axe.check(page)
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, f"{url} scrolls sideways by {overflow}px"
            small = [
                target
                for target in page.evaluate(MEASURE, TARGETS)
                if target["width"] < 44 or target["height"] < 44
            ]
            assert not small, f"{url}: targets under 44px: {small}"
    finally:
        context.close()
