"""A test client that checks every HTML page it is given, whatever the test is about.

Every page must have exactly one H1; a title that starts with the H1 (after "Error: " when
the page shows errors); no duplicate ids; no fieldset without a legend's text; and every
form must have an action and, if it posts, a CSRF token. ``submit`` fills a form the way a
browser would: it fetches the page, keeps its hidden fields (CSRF token, revision) and posts
the answers to the form's action.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

from flask.testing import FlaskClient
from werkzeug.test import TestResponse


@dataclass
class Form:
    action: str | None
    method: str
    hidden: dict[str, str] = field(default_factory=dict)


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: list[str] = []
        self.h1: list[str] = []
        self.title = ""
        self.forms: list[Form] = []
        self._in: str | None = None
        self._text: list[str] = []
        self.error_summary = False
        self.legends: list[str] = []
        self._legend: list[str] | None = None
        self.fieldsets = 0

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if "id" in attributes:
            self.ids.append(attributes["id"])
        if "govuk-error-summary" in (attributes.get("class") or "").split():
            self.error_summary = True
        if tag == "fieldset":
            self.fieldsets += 1
        if tag == "legend":
            self._legend = []
        if tag in ("h1", "title"):
            self._in, self._text = tag, []
        elif tag == "form":
            self.forms.append(
                Form(attributes.get("action"), (attributes.get("method") or "get").lower())
            )
        elif tag == "input" and attributes.get("type") == "hidden" and self.forms:
            self.forms[-1].hidden[attributes.get("name", "")] = attributes.get("value", "")

    def handle_endtag(self, tag):
        if tag == "legend" and self._legend is not None:
            self.legends.append(" ".join("".join(self._legend).split()))
            self._legend = None
        if tag == self._in:
            text = " ".join("".join(self._text).split())
            if tag == "h1":
                self.h1.append(text)
            else:
                self.title = text
            self._in = None

    def handle_data(self, data):
        if self._in:
            self._text.append(data)
        if self._legend is not None:
            self._legend.append(data)


def check_page(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    assert len(page.h1) == 1, f"expected exactly one h1, found {page.h1}"
    expected = ("Error: " if page.error_summary else "") + page.h1[0]
    assert page.title.startswith(expected), f"title {page.title!r} should start with {expected!r}"
    legends = [text for text in page.legends if text]
    assert len(legends) == page.fieldsets, f"a fieldset has no legend text: {page.legends}"
    duplicates = {i for i in page.ids if page.ids.count(i) > 1}
    assert not duplicates, f"duplicate ids: {sorted(duplicates)}"
    for form in page.forms:
        assert form.action, "every form needs an action"
        if form.method == "post":
            assert form.hidden.get("csrf_token"), "every posting form needs a CSRF token"
    return page


class PageClient:
    def __init__(self, client: FlaskClient, *, sign_in_field: str = "passphrase") -> None:
        self.client = client
        self.sign_in_field = sign_in_field  # "passphrase" on the field node, "password" on central
        self.last_page: _Page | None = None

    def _checked(self, response: TestResponse) -> TestResponse:
        if response.mimetype == "text/html" and response.status_code != 302:
            self.last_page = check_page(response.get_data(as_text=True))
        return response

    def get(self, url: str, **kwargs) -> TestResponse:
        return self._checked(self.client.get(url, **kwargs))

    def post(self, url: str, **kwargs) -> TestResponse:
        return self._checked(self.client.post(url, **kwargs))

    def submit(
        self, url: str, data: dict | None = None, *, form_index: int = -1, **overrides
    ) -> TestResponse:
        """Open ``url`` and submit its form (the last on the page unless told) with ``data``."""
        self.get(url)
        assert self.last_page is not None and self.last_page.forms, f"no form on {url}"
        form = self.last_page.forms[form_index]
        body = {**form.hidden, **overrides, **(data or {})}
        return self.post(form.action, data=body)

    def sign_in(self, email: str, secret: str) -> TestResponse:
        response = self.submit("/sign-in", {"email": email, self.sign_in_field: secret})
        assert response.status_code == 302, "sign-in failed"
        return response

    def text(self, url: str) -> str:
        response = self.get(url)
        assert response.status_code == 200, f"{url} answered {response.status_code}"
        return response.get_data(as_text=True)
