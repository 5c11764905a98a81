"""A PEM key has no kid: it signs under its thumbprint and verifies whatever kid a token names."""

from __future__ import annotations

from pathlib import Path

from jwtkit import Key, decode_unverified
from tests.support.cli import run_cli


def _keypair(tmp_path: Path) -> tuple[Path, Path, Key]:
    key = Key.generate("ES256")
    private, public = tmp_path / "k.pem", tmp_path / "k.pub.pem"
    private.write_bytes(key.to_pem(private=True))
    public.write_bytes(key.to_pem())
    return private, public, key


def test_token_from_a_real_issuer_with_its_own_kid_verifies_with_the_pem(tmp_path: Path) -> None:
    private, public, _ = _keypair(tmp_path)
    signed = run_cli("sign", "--key", private, "--sub", "alice", "--header", "kid=issuer-key-7")
    assert signed.code == 0, signed.stderr
    token = signed.stdout.strip()
    result = run_cli("verify", token, "--key", public, "--alg", "ES256")
    assert result.code == 0, result.stderr
    assert result.json()["sub"] == "alice"


def test_signing_with_a_pem_names_the_key_by_its_thumbprint(tmp_path: Path) -> None:
    private, _, key = _keypair(tmp_path)
    token = run_cli("sign", "--key", private, "--sub", "alice").stdout.strip()
    header, _ = decode_unverified(token)
    assert header["kid"] == key.thumbprint()


def test_a_different_pem_key_still_fails(tmp_path: Path) -> None:
    private, _, _ = _keypair(tmp_path)
    other = tmp_path / "other.pub.pem"
    other.write_bytes(Key.generate("ES256").to_pem())
    token = run_cli("sign", "--key", private, "--sub", "alice").stdout.strip()
    result = run_cli("verify", token, "--key", other, "--alg", "ES256")
    assert result.code == 1
    assert "signature does not match" in result.stderr
