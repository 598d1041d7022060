"""Browser tests: Playwright driving Debian's Chromium against real field-node processes.

Every page a test visits is checked with axe-core (``visit`` and ``checked``); a serious or
critical violation fails the test. The viewport is a 10-inch tablet in portrait.
"""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, sync_playwright

from tests.browser.office import DESKTOP
from tests.support.nodes import FieldNode

CHROMIUM = "/usr/bin/chromium"
TABLET_PORTRAIT = {"width": 800, "height": 1280}
HSC = {
    "name": "Alex Rivers",
    "email": "alex.rivers@example.org",
    "passphrase": "long enough passphrase",
}
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    node = FieldNode(tmp_path_factory.mktemp("field-node"))
    node.create_hsc(**HSC)
    node.start()
    yield node
    node.stop()


class Accessibility:
    """Runs axe-core on each distinct page state it is shown."""

    IMPACTS = ("serious", "critical")

    def __init__(self) -> None:
        self.axe = Axe()
        self.checked: list[str] = []

    def check(self, page: Page) -> None:
        results = self.axe.run(page)
        bad = [
            violation
            for violation in results.response["violations"]
            if violation.get("impact") in self.IMPACTS
        ]
        self.checked.append(page.url)
        assert not bad, f"axe-core on {page.url}:\n" + "\n".join(
            f"- {v['id']} ({v['impact']}): {v['help']} — "
            + "; ".join(n["target"][0] for n in v["nodes"][:3])
            for v in bad
        )


@pytest.fixture
def axe() -> Accessibility:
    return Accessibility()


@pytest.fixture
def context(browser):
    context = browser.new_context(viewport=TABLET_PORTRAIT, has_touch=True)
    yield context
    context.close()


@pytest.fixture
def page(context) -> Page:
    """A tab that fails the test on a script error or a content-security-policy violation."""
    page = context.new_page()
    page.set_default_timeout(10_000)
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
    page.on(
        "console",
        lambda message: (
            problems.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    yield page
    assert not problems, problems


@pytest.fixture
def office(browser):
    """Desktop tabs at the office, one browser context (session) per person."""
    contexts = []

    def open_tab() -> Page:
        context = browser.new_context(viewport=DESKTOP)
        contexts.append(context)
        tab = context.new_page()
        tab.set_default_timeout(10_000)
        problems: list[str] = []
        tab.on("pageerror", lambda error: problems.append(f"script error: {error}"))
        tab.on(
            "console",
            lambda m: problems.append(m.text) if "Content Security Policy" in m.text else None,
        )
        tab.problems = problems
        return tab

    yield open_tab
    for context in contexts:
        context.close()
