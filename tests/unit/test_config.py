import pytest

from app import create_app


def test_central_refuses_to_start_in_production_without_a_real_secret_key(monkeypatch, tmp_path):
    monkeypatch.setenv("HMOT_INSTANCE_DIR", str(tmp_path))
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app("central", "production")


def test_a_field_node_keeps_its_own_secret_key_so_sessions_survive_a_restart(monkeypatch, tmp_path):
    monkeypatch.setenv("HMOT_INSTANCE_DIR", str(tmp_path))
    monkeypatch.delenv("SECRET_KEY", raising=False)
    first = create_app("field", "production").config["SECRET_KEY"]
    again = create_app("field", "production").config["SECRET_KEY"]
    assert len(first) == 64 and first == again
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600


def test_an_unknown_role_or_environment_is_refused():
    with pytest.raises(ValueError, match="role"):
        create_app("tablet")
    with pytest.raises(RuntimeError, match="HMOT_ENV"):
        create_app("field", "staging")
