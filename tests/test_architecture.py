"""Rules every route must keep, checked across the whole URL map of both roles."""

from __future__ import annotations

import re
import uuid

import pytest
from werkzeug.routing.converters import UUIDConverter

from app import create_app

# Routes that must work without signing in: sign-in itself, health checks, static files,
# the PWA files a browser fetches before anyone has signed in, and enrolment on both sides:
# a new device has no profile to sign in with and no token until it exchanges its one-time
# code (the field page refuses once the device is enrolled).
PUBLIC_ENDPOINTS = {
    "static",
    "status.status",
    "auth.sign_in",
    "pwa.manifest",
    "pwa.service_worker",
    "pwa.offline",
    "device.enrol",
    "sync_api.enrol",
}
# The sync API has no session: a device proves itself with a bearer token, or gets 401 JSON.
TOKEN_BLUEPRINTS = ("sync_api.",)
SEGMENT = re.compile(r"^(_?[a-z0-9]+(-[a-z0-9]+)*(\.[a-z]+)?|<[^>]+>)$")


def rules(app):
    return [rule for rule in app.url_map.iter_rules() if rule.endpoint != "static"]


@pytest.fixture(params=["field", "central"])
def any_app(request, tmp_path, monkeypatch):
    monkeypatch.setenv("HMOT_INSTANCE_DIR", str(tmp_path))
    return create_app(request.param, "test", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/a.db")


def test_every_url_path_is_kebab_case(any_app):
    for rule in any_app.url_map.iter_rules():
        segments = [s for s in rule.rule.split("/") if s]
        bad = [s for s in segments if not SEGMENT.match(s)]
        assert not bad, f"{rule.rule} has segments that are not kebab-case: {bad}"


def test_every_id_in_a_url_is_a_uuid(any_app):
    for rule in rules(any_app):
        for name, converter in rule._converters.items():
            if name.endswith("id"):
                assert isinstance(converter, UUIDConverter), f"{rule.rule}: {name} is not a UUID"
            assert type(converter).__name__ != "IntegerConverter", f"{rule.rule}: integer id"


def _sample_url(rule) -> str:
    values = {
        name: uuid.uuid4() if isinstance(conv, UUIDConverter) else "falls"
        for name, conv in rule._converters.items()
    }
    return rule.build(values)[1]


@pytest.mark.parametrize("role_app", ["app", "central_app"])
def test_every_staff_route_needs_sign_in(role_app, request):
    app = request.getfixturevalue(role_app)
    client = app.test_client()
    # A real CSRF token, so POSTs are refused for want of a session, not of a token.
    html = client.get("/sign-in").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    checked = 0
    for rule in rules(app):
        if rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        url = _sample_url(rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            if rule.endpoint.startswith(TOKEN_BLUEPRINTS):
                response = client.open(url, method=method, json={})
                assert response.status_code == 401, f"{method} {url}: {response.status_code}"
                assert response.json["error"] == "UNAUTHENTICATED", f"{method} {url}"
            else:
                response = client.open(url, method=method, data={"csrf_token": token})
                assert response.status_code == 302, f"{method} {url}: {response.status_code}"
                assert response.headers["Location"].startswith("/sign-in"), f"{method} {url}"
            checked += 1
    assert checked >= 10  # the routes were really walked


def test_every_central_staff_route_names_the_roles_it_allows(central_app):
    """Signing in is not enough on central: each page says which roles may use it."""
    unchecked = [
        rule.endpoint
        for rule in rules(central_app)
        if rule.endpoint not in PUBLIC_ENDPOINTS
        and not rule.endpoint.startswith(TOKEN_BLUEPRINTS)
        and not getattr(central_app.view_functions[rule.endpoint], "allowed_roles", None)
    ]
    assert unchecked == [], f"use role_required on {unchecked}"
