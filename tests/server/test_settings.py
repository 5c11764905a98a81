"""Settings: defaults, JWTKIT_* parsing, errors that name the bad key, no secret in repr."""

from __future__ import annotations

import pytest

from jwtkit.server import Settings, SettingsError


def test_defaults() -> None:
    s = Settings.from_env({})
    assert s.store == "sqlite:///jwtkit.db"
    assert s.issuer == "http://127.0.0.1:8000"
    assert s.token_audience == s.issuer
    assert s.access_token_lifetime == 900
    assert s.refresh_token_lifetime == 7 * 24 * 3600
    assert s.refresh_grace_seconds == 0
    assert s.cookie_secure is True
    assert s.argon2_memory_cost == 65536


def test_from_env_parses_types() -> None:
    env = {
        "JWTKIT_STORE": "postgresql://postgres@127.0.0.1/test",
        "JWTKIT_MASTER_KEY": "super-secret-master-key-text",
        "JWTKIT_ISSUER": "https://id.example.com/",
        "JWTKIT_AUDIENCE": "api",
        "JWTKIT_ACCESS_TOKEN_LIFETIME": "300",
        "JWTKIT_REFRESH_GRACE_SECONDS": "10",
        "JWTKIT_COOKIE_SECURE": "false",
        "JWTKIT_LOGIN_MAX_FAILURES_PER_USER": "",
    }
    s = Settings.from_env(env)
    assert s.base_url == "https://id.example.com"
    assert s.token_audience == "api"
    assert s.access_token_lifetime == 300
    assert s.refresh_grace_seconds == 10
    assert s.cookie_secure is False
    assert s.login_max_failures_per_user == 5
    assert "super-secret" not in repr(s)
    assert Settings.from_env(env, issuer="https://other.example").issuer == "https://other.example"


@pytest.mark.parametrize(
    ("var", "value"),
    [
        ("JWTKIT_ACCESS_TOKEN_LIFETIME", "abc"),
        ("JWTKIT_ACCESS_TOKEN_LIFETIME", "0"),
        ("JWTKIT_REFRESH_GRACE_SECONDS", "-1"),
        ("JWTKIT_COOKIE_SECURE", "maybe"),
        ("JWTKIT_ISSUER", "ftp://x"),
        ("JWTKIT_ISSUER", "https://id.example/?q=1"),
        ("JWTKIT_STORE", "mysql://x"),
        ("JWTKIT_SIGNING_ALG", "HS256"),
        ("JWTKIT_COOKIE_PATH", "token"),
        ("JWTKIT_COOKIE_NAME", "bad name;"),
        ("JWTKIT_ARGON2_MEMORY_COST", "4"),
    ],
)
def test_bad_values_name_the_variable(var: str, value: str) -> None:
    with pytest.raises(SettingsError) as exc:
        Settings.from_env({var: value})
    assert exc.value.key == var
    assert str(exc.value).startswith(var + ":")


def test_bad_field_in_code_names_the_field() -> None:
    with pytest.raises(SettingsError) as exc:
        Settings(maintain_interval=0)
    assert exc.value.key == "maintain_interval"
    with pytest.raises(SettingsError) as exc:
        Settings.from_env({}, audience=" ")
    assert exc.value.key == "audience"
