"""What newcomers tripped over on their first day (issue 17), one test per rough edge."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import load_pem_private_key, load_pem_public_key

from jwtkit import decode_unverified
from tests.support.cli import Result, run_cli

# The guide's manual-jwt.js signs with this 17-byte secret.
GUIDE_SECRET = "my-256-bit-secret"


def _ok(res: Result) -> Result:
    assert res.code == 0, res.stderr
    return res


def _token(res: Result) -> str:
    return _ok(res).stdout.strip()


def _error(res: Result, status: int) -> str:
    assert res.code == status, (res.code, res.stdout, res.stderr)
    lines = res.stderr.strip().splitlines()
    assert lines[-1].startswith("error: ") and "Traceback" not in res.stderr
    return lines[-1]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _manual_jwt(payload: dict[str, object], secret: str) -> str:
    """Build a token the way the guide's manual-jwt.js does: JSON, base64url, HMAC-SHA256."""
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = _b64(json.dumps(payload).encode())
    signature = hmac.new(secret.encode(), f"{header}.{body}".encode(), hashlib.sha256).digest()
    return f"{header}.{body}.{_b64(signature)}"


# -- 1. the kid of a PEM key -------------------------------------------------------------------


def test_keygen_kid_survives_pem(tmp_path: Path) -> None:
    private = tmp_path / "k.pem"
    made = _ok(
        run_cli("keygen", "--alg", "RS256", "--kid", "mykid", "--format", "pem", "--out", private)
    )
    assert "'mykid'" in made.stderr
    token = _token(run_cli("sign", "--key", private, "--sub", "alice"))
    assert decode_unverified(token)[0]["kid"] == "mykid"
    public = tmp_path / "k.pub.pem"
    verified = _ok(run_cli("verify", token, "--key", public))
    assert "by key 'mykid'" in verified.stderr
    # Other PEM readers skip the recorded lines (RFC 7468 explanatory text).
    load_pem_private_key(private.read_bytes(), None)
    load_pem_public_key(public.read_bytes())


def test_pem_with_a_recorded_kid_verifies_only_that_kid(tmp_path: Path) -> None:
    private = tmp_path / "k.pem"
    _ok(run_cli("keygen", "--alg", "ES256", "--kid", "k1", "--out", private))
    other = _token(run_cli("sign", "--key", private, "--kid", "k2"))
    line = _error(run_cli("verify", other, "--key", tmp_path / "k.pub.pem"), 1)
    assert line == "error: no key with kid 'k2' for alg 'ES256' (known keys: 'k1')"


def test_sign_kid_overrides_the_key_kid(tmp_path: Path) -> None:
    jwk = tmp_path / "k.json"
    _ok(run_cli("keygen", "--alg", "EdDSA", "--kid", "from-file", "--out", jwk))
    token = _token(run_cli("sign", "--key", jwk, "--kid", "chosen"))
    assert decode_unverified(token)[0]["kid"] == "chosen"


def test_encrypted_pem_keeps_its_kid(tmp_path: Path) -> None:
    private = tmp_path / "enc.pem"
    made = run_cli(
        "keygen", "--kid", "locked", "--out", private, "--passphrase-stdin", stdin="long pass\n"
    )
    _ok(made)
    token = _token(run_cli("sign", "--key", private, "--passphrase-stdin", stdin="long pass\n"))
    assert decode_unverified(token)[0]["kid"] == "locked"


def test_a_damaged_kid_line_is_a_key_error(tmp_path: Path) -> None:
    private = tmp_path / "k.pem"
    _ok(run_cli("keygen", "--out", private))
    text = private.read_text().replace('kid: "', "kid: ", 1)
    private.write_text(text)
    line = _error(run_cli("sign", "--key", private), 3)
    assert "'kid' line is not a JSON string" in line


# -- 2. one default algorithm for raw secrets --------------------------------------------------


@pytest.mark.parametrize("size", [32, 41, 49, 64, 100])
def test_raw_secret_signs_hs256_whatever_its_length(tmp_path: Path, size: int) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("s" * size + "\n")
    token = _token(run_cli("sign", "--key", secret))
    assert decode_unverified(token)[0]["alg"] == "HS256"
    if size >= 48:
        hs384 = _token(run_cli("sign", "--key", secret, "--alg", "HS384"))
        assert decode_unverified(hs384)[0]["alg"] == "HS384"
        _ok(run_cli("verify", hs384, "--key", secret))


def test_oct_jwk_without_alg_signs_hs256(tmp_path: Path) -> None:
    jwk = tmp_path / "oct.json"
    jwk.write_text(json.dumps({"kty": "oct", "k": _b64(b"k" * 64)}))
    token = _token(run_cli("sign", "--key", jwk))
    assert decode_unverified(token)[0]["alg"] == "HS256"


# -- 3. weak secrets ----------------------------------------------------------------------------


def test_weak_secret_errors_name_the_cli_not_the_python_api() -> None:
    env = {"S": GUIDE_SECRET}
    line = _error(run_cli("sign", "--key-env", "S", env=env), 3)
    assert "HMAC secret is 17 bytes but HS256 needs at least 32" in line
    assert "'jwtkit keygen --alg HS256" in line and "Key.generate" not in line
    assert "--allow-weak-secret" not in line  # signing with a weak secret stays refused
    token = _manual_jwt({"sub": "x", "exp": int(time.time()) + 60}, GUIDE_SECRET)
    line = _error(run_cli("verify", token, "--key-env", "S", env=env), 3)
    assert "'jwtkit keygen --alg HS256" in line and "add --allow-weak-secret" in line
    assert GUIDE_SECRET not in line


def test_allow_weak_secret_checks_the_guide_token_and_warns_every_time() -> None:
    now = int(time.time())
    payload = {"sub": "1234567890", "name": "John Doe", "iat": now, "exp": now + 3600}
    token = _manual_jwt(payload, GUIDE_SECRET)
    env = {"S": GUIDE_SECRET}
    for _ in range(2):
        res = _ok(run_cli("verify", token, "--key-env", "S", "--allow-weak-secret", env=env))
        assert res.json() == payload
        warnings = [line for line in res.stderr.splitlines() if line.startswith("warning: ")]
        assert len(warnings) == 1
        assert "17 bytes" in warnings[0] and "rotate it" in warnings[0]
    forged = _manual_jwt(payload, GUIDE_SECRET + "!")
    bad = run_cli("verify", forged, "--key-env", "S", "--allow-weak-secret", env=env)
    assert _error(bad, 1) == "error: signature does not match the key"
    assert "warning: " in bad.stderr


def test_allow_weak_secret_is_only_for_raw_secrets_and_never_signs(tmp_path: Path) -> None:
    token = _manual_jwt({"sub": "x", "exp": int(time.time()) + 60}, GUIDE_SECRET)
    jwk = tmp_path / "k.json"
    _ok(run_cli("keygen", "--alg", "HS256", "--out", jwk))
    line = _error(run_cli("verify", token, "--key", jwk, "--allow-weak-secret"), 2)
    assert "raw HMAC secret" in line
    refused = run_cli("sign", "--key-env", "S", "--allow-weak-secret", env={"S": GUIDE_SECRET})
    assert _error(refused, 2).startswith("error: No such option '--allow-weak-secret'")


# -- 4. token type ------------------------------------------------------------------------------


def test_typ_is_required_and_compared_like_the_library(tmp_path: Path) -> None:
    key = tmp_path / "k.json"
    _ok(run_cli("keygen", "--out", key))
    public = tmp_path / "k.pub.json"
    at = _token(run_cli("sign", "--key", key, "--header", "typ=application/AT+JWT"))
    _ok(run_cli("verify", at, "--key", public, "--typ", "at+jwt"))
    plain = _token(run_cli("sign", "--key", key))
    line = _error(run_cli("verify", plain, "--key", public, "--typ", "at+jwt"), 1)
    assert line == "error: wrong token type 'JWT' (expected 'at+jwt')"
    none = _token(run_cli("sign", "--key", key, "--header", "typ:=null"))
    line = _error(run_cli("verify", none, "--key", public, "--typ", "at+jwt"), 1)
    assert line == "error: token has no typ header (expected 'at+jwt')"


def test_require_typ_points_at_the_typ_option(tmp_path: Path) -> None:
    key = tmp_path / "k.json"
    _ok(run_cli("keygen", "--out", key))
    token = _token(run_cli("sign", "--key", key))
    line = _error(run_cli("verify", token, "--key", tmp_path / "k.pub.json", "--require", "typ"), 2)
    assert "header parameter, not a claim" in line and "--typ" in line


# -- 6. time for testing ------------------------------------------------------------------------


def test_verify_now_checks_the_token_at_another_moment(tmp_path: Path) -> None:
    key = tmp_path / "k.json"
    _ok(run_cli("keygen", "--out", key))
    public = tmp_path / "k.pub.json"
    iat = 1_767_225_600  # 2026-01-01T00:00:00Z
    token = _token(
        run_cli("sign", "--key", key, "--claim", f"iat:={iat}", "--claim", f"exp:={iat + 3600}")
    )
    for moment in (str(iat + 60), "2026-01-01T00:30:00Z", "2026-01-01T01:30:00+01:00"):
        _ok(run_cli("verify", token, "--key", public, "--now", moment))
    line = _error(run_cli("verify", token, "--key", public, "--now", "2026-01-02"), 1)
    assert line == "error: token expired 23 hours ago"
    line = _error(run_cli("verify", token, "--key", public, "--now", "2025-12-31T23:00:00Z"), 1)
    assert line == "error: token not valid yet: iat is 1 hour in the future"
    bad = _error(run_cli("verify", token, "--key", public, "--now", "tomorrow"), 2)
    assert bad.startswith("error: Invalid value for '--now': 'tomorrow' is not a time")


def test_inspect_now_describes_that_moment() -> None:
    claims: dict[str, object] = {"iat": 1_767_225_600, "exp": 1_767_229_200}
    token = _manual_jwt(claims, "x" * 32)
    res = _ok(run_cli("inspect", token, "--now", "2026-01-01T00:15:00Z"))
    assert "Times (as of 2026-01-01 00:15:00 UTC):" in res.stdout
    assert "(expires in 45 minutes)" in res.stdout and "expired" not in res.stdout
    report = _ok(run_cli("inspect", token, "--json", "--now", "1767229260")).json()
    assert report["as_of"] == {"value": 1767229260.0, "date": "2026-01-01 01:01:00 UTC"}
    assert report["times"]["exp"]["relative"] == "expired 1 minute ago"
    assert "as_of" not in _ok(run_cli("inspect", token, "--json")).json()
