"""keygen -> sign -> verify -> inspect through the real CLI, for every algorithm."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from jwtkit.jwa import ALGORITHMS
from tests.support.cli import run_cli


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("alg", list(ALGORITHMS))
def test_roundtrip_every_algorithm(tmp_path: Path, alg: str) -> None:
    symmetric = alg.startswith("HS")
    private = tmp_path / "key.json"
    made = run_cli("keygen", "--alg", alg, "--out", private)
    assert made.code == 0, made.stderr
    summary = made.json()
    assert summary["alg"] == alg
    assert summary["private"] == str(private)
    assert _mode(private) == 0o600
    public = private if symmetric else Path(summary["public"])
    if not symmetric:
        assert public == tmp_path / "key.pub.json"
        assert '"d"' not in public.read_text() and '"priv"' not in public.read_text()
        assert _mode(public) == 0o644

    signed = run_cli("sign", "--key", private, "--sub", "alice", "--aud", "api", "--claim", "n:=42")
    assert signed.code == 0, signed.stderr
    token = signed.stdout.strip()
    assert token.count(".") == 2

    verified = run_cli("verify", token, "--key", public, "--aud", "api")
    assert verified.code == 0, verified.stderr
    claims = verified.json()
    assert claims["sub"] == "alice"
    assert claims["n"] == 42
    assert claims["exp"] - claims["iat"] == 900
    assert "valid" in verified.stderr

    shown = run_cli("inspect", token)
    assert shown.code == 0
    assert "NOT VERIFIED" in shown.stdout
    assert f'"alg": "{alg}"' in shown.stdout
    assert '"sub": "alice"' in shown.stdout
    assert "expires in 15 minutes" in shown.stdout or "expires in 14 minutes" in shown.stdout
    assert ("shared secret" in shown.stdout) == symmetric


@pytest.mark.parametrize("alg", ["ES256", "EdDSA", "HS512"])
def test_roundtrip_jwk_format(tmp_path: Path, alg: str) -> None:
    private = tmp_path / "k.json"
    made = run_cli("keygen", "--alg", alg, "--format", "jwk", "--kid", "k1", "--out", private)
    assert made.code == 0, made.stderr
    assert made.json()["kid"] == "k1"
    assert _mode(private) == 0o600
    public = private if alg.startswith("HS") else tmp_path / "k.pub.json"
    token = run_cli("sign", "--key", private, "--iss", "me").stdout.strip()
    verified = run_cli("verify", token, "--key", public, "--iss", "me", "--complete")
    assert verified.code == 0, verified.stderr
    assert verified.json()["header"]["kid"] == "k1"
    assert verified.json()["claims"]["iss"] == "me"


@pytest.mark.parametrize("alg", ["RS256", "PS384", "ES256", "EdDSA", "Ed448", "ML-DSA-44"])
def test_roundtrip_pem(tmp_path: Path, alg: str) -> None:
    private = tmp_path / "key.pem"
    made = run_cli("keygen", "--alg", alg, "--out", private)
    assert made.code == 0, made.stderr
    kid = made.json()["kid"]
    public = tmp_path / "key.pub.pem"
    for path, block in ((private, "PRIVATE KEY"), (public, "PUBLIC KEY")):
        # The kid and alg ride above the PEM block (RFC 7468 explanatory text).
        head, _, _ = path.read_text().partition(f"-----BEGIN {block}-----\n")
        assert head.endswith(f'kid: "{kid}"\nalg: "{alg}"\n'), head
    assert _mode(private) == 0o600
    # The recorded alg binds the key: even an RSA key (which fits six) needs no --alg.
    signed = run_cli("sign", "--key", private, "--sub", "pem")
    assert signed.code == 0, signed.stderr
    token = signed.stdout.strip()
    verified = run_cli("verify", token, "--key", public, "--complete")
    assert verified.code == 0, verified.stderr
    header = verified.json()["header"]
    assert header["kid"] == kid and header["alg"] == alg
    assert verified.json()["claims"]["sub"] == "pem"
    assert run_cli("verify", token, "--key", public, "--alg", header["alg"]).code == 0


def test_a_bare_rsa_pem_still_asks_for_the_algorithm(tmp_path: Path) -> None:
    from jwtkit import Key

    private = tmp_path / "bare.pem"
    private.write_bytes(Key.generate("RS256").to_pem(private=True))
    signed = run_cli("sign", "--key", private, "--sub", "pem")
    assert signed.code == 2
    assert "choose one with --alg (RS256, RS384" in signed.stderr
    assert run_cli("sign", "--key", private, "--alg", "PS256").code == 0


def test_keygen_to_stdout_and_refuse_overwrite(tmp_path: Path) -> None:
    printed = run_cli("keygen", "--alg", "ES256")
    assert printed.code == 0
    jwk = json.loads(printed.stdout)
    assert jwk["kty"] == "EC" and jwk["alg"] == "ES256" and "d" in jwk
    assert "--out" in printed.stderr
    pem = run_cli("keygen", "--alg", "ES256", "--format", "pem")
    assert pem.stdout.startswith("# jwtkit key:")
    assert "\n-----BEGIN PRIVATE KEY-----\n" in pem.stdout

    out = tmp_path / "k.json"
    assert run_cli("keygen", "--out", out).code == 0
    again = run_cli("keygen", "--out", out)
    assert again.code == 2
    assert again.stderr.startswith("error: ") and "already exists" in again.stderr
    assert run_cli("keygen", "--out", out, "--force").code == 0
    assert _mode(out) == 0o600


def test_keygen_rejects_bad_combinations(tmp_path: Path) -> None:
    pem_hmac = run_cli("keygen", "--alg", "HS256", "--format", "pem")
    assert pem_hmac.code == 2
    assert "no PEM form" in pem_hmac.stderr
    small = run_cli("keygen", "--alg", "RS256", "--size", "1024")
    assert small.code == 3
    assert small.stderr.startswith("error: ")
    unknown = run_cli("keygen", "--alg", "none")
    assert unknown.code == 2


def test_encrypted_pem_key(tmp_path: Path) -> None:
    out = tmp_path / "enc.pem"
    made = run_cli(
        "keygen", "--alg", "ES384", "--out", out, "--passphrase-stdin", stdin="s3cret pass\n"
    )
    assert made.code == 0, made.stderr
    assert "ENCRYPTED" in out.read_text()
    token = run_cli("sign", "--key", out, "--passphrase-stdin", stdin="s3cret pass\n")
    assert token.code == 0, token.stderr
    wrong = run_cli("sign", "--key", out, "--passphrase-stdin", stdin="nope\n")
    assert wrong.code == 3
    assert "unusable key" in wrong.stderr
    ok = run_cli("verify", token.stdout.strip(), "--key", tmp_path / "enc.pub.pem")
    assert ok.code == 0, ok.stderr


def test_prompted_passphrase_is_asked_twice_until_both_match(tmp_path: Path) -> None:
    out = tmp_path / "prompted.pem"
    made = run_cli(
        "keygen",
        "--alg",
        "ES256",
        "--out",
        out,
        "--encrypt",
        stdin="one\ntwo\nhunter22\nhunter22\n",
    )
    assert made.code == 0, made.stderr
    assert made.stderr.count("Repeat for confirmation: ") == 2
    assert "The two entered values do not match" in made.stderr
    assert "hunter22" not in made.stdout + made.stderr
    signed = run_cli("sign", "--key", out, stdin="hunter22\n")
    assert signed.code == 0, signed.stderr
    assert "Key passphrase: " in signed.stderr
    gave_up = run_cli("keygen", "--out", tmp_path / "x.pem", "--encrypt", stdin="only-once\n")
    assert gave_up.code == 6
    assert gave_up.stderr.strip().endswith("error: aborted")


def test_sign_claims_from_stdin_and_headers(tmp_path: Path) -> None:
    key = tmp_path / "k.json"
    run_cli("keygen", "--alg", "EdDSA", "--out", key)
    signed = run_cli(
        "sign",
        "--key",
        key,
        "--claims",
        "-",
        "--claim",
        'roles:=["a","b"]',
        "--claim",
        "url=http://x:=y",
        "--header",
        "typ=at+jwt",
        "--exp",
        "1h",
        "--nbf",
        "--jti",
        stdin='{"sub": "bob", "scope": "read"}',
    )
    assert signed.code == 0, signed.stderr
    out = run_cli(
        "verify", "-", "--key", tmp_path / "k.pub.json", "--complete", stdin=signed.stdout
    )
    assert out.code == 0, out.stderr
    header, claims = out.json()["header"], out.json()["claims"]
    assert header["typ"] == "at+jwt"
    assert claims["sub"] == "bob" and claims["scope"] == "read"
    assert claims["roles"] == ["a", "b"]
    assert claims["url"] == "http://x:=y"
    assert claims["exp"] - claims["iat"] == 3600
    assert claims["nbf"] == claims["iat"]
    assert isinstance(claims["jti"], str) and len(claims["jti"]) >= 16


def test_secret_from_env_and_stdin(tmp_path: Path) -> None:
    secret = "correct horse battery staple, long enough!"
    env = {"JWT_SECRET": secret}
    signed = run_cli("sign", "--key-env", "JWT_SECRET", "--sub", "s", env=env)
    assert signed.code == 0, signed.stderr
    token = signed.stdout.strip()
    assert run_cli("verify", token, "--key-env", "JWT_SECRET", env=env).code == 0
    from_stdin = run_cli("verify", token, "--key", "-", stdin=secret + "\n")
    assert from_stdin.code == 0, from_stdin.stderr
    missing = run_cli("verify", token, "--key-env", "NOPE_NOT_SET")
    assert missing.code == 3
    assert "NOPE_NOT_SET is not set" in missing.stderr


def test_sign_refusals(tmp_path: Path) -> None:
    key = tmp_path / "k.json"
    run_cli("keygen", "--alg", "ES256", "--out", key)
    public = run_cli("sign", "--key", tmp_path / "k.pub.json")
    assert public.code == 3
    assert "signing needs the private key" in public.stderr
    both = run_cli("sign", "--key", key, "--exp", "1h", "--no-exp")
    assert both.code == 2
    alg_header = run_cli("sign", "--key", key, "--header", "alg=none")
    assert alg_header.code == 2
    assert "--header cannot set alg" in alg_header.stderr
    bad_claim = run_cli("sign", "--key", key, "--claim", "n:=nope")
    assert bad_claim.code == 2
    assert bad_claim.stderr.startswith("error: --claim: 'n': 'nope' is not valid JSON")
    not_object = run_cli("sign", "--key", key, "--claims", "-", stdin="[1, 2]")
    assert not_object.code == 2
    assert "must be an object" in not_object.stderr
    wrong_alg = run_cli("sign", "--key", key, "--alg", "RS256")
    assert wrong_alg.code == 3
    jwks = tmp_path / "two.json"
    first = json.loads((tmp_path / "k.json").read_text())
    run_cli("keygen", "--alg", "ES256", "--out", tmp_path / "k2.json")
    second = json.loads((tmp_path / "k2.json").read_text())
    jwks.write_text(json.dumps({"keys": [first, second]}))
    several = run_cli("sign", "--key", jwks)
    assert several.code == 2
    assert "several keys" in several.stderr


def test_short_hmac_secret_is_refused(tmp_path: Path) -> None:
    res = run_cli("sign", "--key-env", "S", env={"S": "too-short"})
    assert res.code == 3
    assert res.stderr.startswith("error: unusable key from $S: ")
    assert "too-short" not in res.stderr


def test_fuzz_key_env_with_bytes_that_are_not_utf8(monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 19 (fuzzing): an environment variable holding a binary secret reaches Python as
    text with surrogate escapes, and encoding it as strict UTF-8 raised UnicodeEncodeError.
    The variable's own bytes are the key."""
    monkeypatch.setitem(os.environb, b"JWT_BINARY_SECRET", bytes(range(128, 176)))
    signed = run_cli("sign", "--key-env", "JWT_BINARY_SECRET", "--alg", "HS256", "--sub", "s")
    assert signed.code == 0, signed.stderr
    token = signed.stdout.strip()
    verified = run_cli("verify", token, "--key-env", "JWT_BINARY_SECRET", "--alg", "HS256")
    assert verified.code == 0, verified.stderr
