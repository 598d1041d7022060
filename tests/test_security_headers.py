"""Headers on every response: a strict CSP, no caching of pages, immutable hashed assets."""

import re


def test_pages_carry_a_strict_content_security_policy_and_are_never_cached(client):
    response = client.get("/sign-in")
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "'unsafe-inline'" not in policy
    assert response.headers["Cache-Control"] == "no-store, private"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_hashed_asset_urls_are_cached_as_immutable(client):
    html = client.get("/sign-in").get_data(as_text=True)
    css = re.search(r'href="(/static/css/app\.css\?v=[0-9a-f]+)"', html).group(1)
    with client.client.get(css) as response:
        assert response.status_code == 200
        assert "immutable" in response.headers["Cache-Control"]


def test_pages_are_compressed_for_the_browser(client):
    response = client.client.get("/sign-in", headers={"Accept-Encoding": "gzip"})
    assert response.headers.get("Content-Encoding") == "gzip"
