"""The start-up banner of serve(): issuer, JWKS URL and a curl line for a first token."""

from __future__ import annotations

from jwtkit.server import Settings
from jwtkit.server._serve import startup_banner


def test_banner_names_issuer_jwks_and_curl() -> None:
    any_address = "0.0.0.0"  # noqa: S104 - only displayed, nothing binds here
    lines = startup_banner(Settings(issuer="https://id.example.com/"), any_address, 9000)
    assert lines[0] == "issuer: https://id.example.com"
    assert lines[1] == "JWKS: https://id.example.com/.well-known/jwks.json"
    assert lines[-1].strip().startswith("curl ")
    assert "http://127.0.0.1:9000/token" in lines[-1]


def test_banner_brackets_ipv6_hosts() -> None:
    lines = startup_banner(Settings(), "::1", 8000)
    assert "http://[::1]:8000/token" in lines[-1]
