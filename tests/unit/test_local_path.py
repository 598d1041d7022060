import pytest

from app.auth import local_path


@pytest.mark.parametrize("target", ["/visits", "/visits/start?x=1"])
def test_a_path_on_this_site_is_kept(target):
    assert local_path(target, "/home") == target


@pytest.mark.parametrize(
    "target", [None, "", "https://evil.example", "//evil.example", "/\\evil", "/a//b", "visits"]
)
def test_anything_else_goes_to_the_default(target):
    assert local_path(target, "/home") == "/home"
