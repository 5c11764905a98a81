"""``jwtkit verify`` failures: exit status 1 and one line saying exactly why."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.support.cli import run_cli


@pytest.fixture
def es256(tmp_path: Path) -> tuple[Path, Path, str]:
    """An ES256 key pair on disk and its kid."""
    private = tmp_path / "es.json"
    made = run_cli("keygen", "--alg", "ES256", "--kid", "main-key", "--out", private)
    assert made.code == 0, made.stderr
    return private, tmp_path / "es.pub.json", "main-key"


def _sign(private: Path, *args: str) -> str:
    res = run_cli("sign", "--key", private, *args)
    assert res.code == 0, res.stderr
    return res.stdout.strip()


def _fail(*args: str | Path, stdin: str | None = None) -> str:
    res = run_cli("verify", *args, stdin=stdin)
    assert res.code == 1, (res.stdout, res.stderr)
    assert res.stdout == ""
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    return lines[0]


def test_expired(es256: tuple[Path, Path, str]) -> None:
    private, public, _ = es256
    past = int(time.time()) - 200
    token = _sign(private, "--claim", f"exp:={past}", "--claim", f"iat:={past - 60}")
    assert _fail(token, "--key", public) == "error: token expired 3 minutes ago"
    ok = run_cli("verify", token, "--key", public, "--leeway", "5m")
    assert ok.code == 0


def test_not_yet_valid(es256: tuple[Path, Path, str]) -> None:
    private, public, _ = es256
    future = int(time.time()) + 7200 + 30
    token = _sign(private, "--claim", f"nbf:={future}")
    assert (
        _fail(token, "--key", public) == "error: token not valid yet: nbf is 2 hours in the future"
    )


def test_wrong_audience_and_issuer(es256: tuple[Path, Path, str]) -> None:
    private, public, _ = es256
    token = _sign(private, "--aud", "x", "--iss", "https://a.example")
    assert _fail(token, "--key", public, "--aud", "y") == "error: wrong audience 'x' (expected 'y')"
    assert "no --aud was given" in _fail(token, "--key", public)
    line = _fail(token, "--key", public, "--aud", "x", "--iss", "https://b.example")
    assert line == "error: wrong issuer 'https://a.example' (expected 'https://b.example')"


def test_missing_required_claim(es256: tuple[Path, Path, str]) -> None:
    private, public, _ = es256
    token = _sign(private, "--no-exp")
    assert _fail(token, "--key", public) == "error: missing required claim 'exp'"
    token = _sign(private)
    assert (
        _fail(token, "--key", public, "--require", "sub") == "error: missing required claim 'sub'"
    )


def test_signature_does_not_match(es256: tuple[Path, Path, str]) -> None:
    private, public, kid = es256
    token = _sign(private, "--sub", "alice")
    head, _, sig = token.split(".")
    other = _sign(private, "--sub", "mallory").split(".")[1]
    forged = f"{head}.{other}.{sig}"
    assert _fail(forged, "--key", public) == f"error: signature does not match key {kid!r}"


def test_algorithm_not_allowed(es256: tuple[Path, Path, str]) -> None:
    private, public, _ = es256
    token = _sign(private)
    line = _fail(token, "--key", public, "--alg", "ES384")
    assert line == "error: algorithm 'ES256' not allowed (allowed: ES384)"


def test_unknown_kid_in_jwks(es256: tuple[Path, Path, str], tmp_path: Path) -> None:
    private, _, _ = es256
    other = tmp_path / "other.json"
    run_cli("keygen", "--alg", "ES256", "--kid", "other", "--format", "jwk", "--out", other)
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps({"keys": [json.loads((tmp_path / "other.pub.json").read_text())]}))
    token = _sign(private)
    line = _fail(token, "--jwks", jwks)
    assert line.startswith("error: no key with kid 'main-key'")
    assert "'other'" in line


def test_verify_with_jwks_file(tmp_path: Path) -> None:
    jwk = tmp_path / "j1.json"
    run_cli("keygen", "--alg", "ES256", "--format", "jwk", "--kid", "j1", "--out", jwk)
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps({"keys": [json.loads((tmp_path / "j1.pub.json").read_text())]}))
    token = _sign(jwk, "--sub", "s")
    ok = run_cli("verify", token, "--jwks", jwks)
    assert ok.code == 0, ok.stderr
    assert ok.json()["sub"] == "s"


def test_malformed_token(es256: tuple[Path, Path, str]) -> None:
    _, public, _ = es256
    assert _fail("not-a-token", "--key", public).startswith("error: malformed token")
    assert _fail("-", "--key", public, stdin="a.b\n").startswith("error: malformed token")


def test_alg_none_token_refused(es256: tuple[Path, Path, str]) -> None:
    _, public, _ = es256
    token = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJhIn0."
    line = _fail(token, "--key", public)
    assert "'none'" in line


def test_usage_errors(es256: tuple[Path, Path, str], tmp_path: Path) -> None:
    _, public, _ = es256
    no_key = run_cli("verify", "a.b.c")
    assert no_key.code == 2
    assert "no key given" in no_key.stderr
    both = run_cli("verify", "-", "--key", "-", stdin="x")
    assert both.code == 2
    missing = run_cli("verify", "a.b.c", "--key", tmp_path / "nope.pem")
    assert missing.code == 7
    assert "cannot read key file" in missing.stderr
    bad_leeway = run_cli("verify", "a.b.c", "--key", public, "--leeway", "soon")
    assert bad_leeway.code == 2
    assert "not a duration" in bad_leeway.stderr


def test_secret_on_command_line_refused() -> None:
    res = run_cli("verify", "a.b.c", "--secret", "hunter2hunter2hunter2hunter2hunter2")
    assert res.code == 2
    assert "command line" in res.stderr and "--key-env" in res.stderr
    assert "hunter2" not in res.stderr
    res = run_cli("sign", "--secret", "x")
    assert res.code == 2
    assert "refused" in res.stderr


def test_debug_shows_traceback(es256: tuple[Path, Path, str]) -> None:
    _, public, _ = es256
    res = run_cli("--debug", "verify", "not-a-token", "--key", public)
    assert res.code == 1
    assert "Traceback" in res.stderr
    assert "Traceback" not in run_cli("verify", "not-a-token", "--key", public).stderr


def test_bearer_prefix_jwks_as_key_and_debug_env(
    es256: tuple[Path, Path, str], tmp_path: Path
) -> None:
    private, public, _ = es256
    token = _sign(private, "--sub", "b")
    ok = run_cli("verify", "-", "--key", public, stdin=f"Bearer {token}\n")
    assert ok.code == 0, ok.stderr
    jwks = tmp_path / "set.json"
    jwks.write_text(json.dumps({"keys": [json.loads(public.read_text())]}))
    assert run_cli("verify", token, "--key", jwks).json()["sub"] == "b"
    debug = run_cli("verify", "x.y.z", "--key", public, env={"JWTKIT_DEBUG": "1"})
    assert debug.code == 1
    assert "Traceback" in debug.stderr
    assert debug.stderr.strip().splitlines()[-1].startswith("error: malformed token")


def test_subject_max_age_and_bad_claim_types(es256: tuple[Path, Path, str]) -> None:
    private, public, _ = es256
    token = _sign(private, "--sub", "bob")
    assert _fail(token, "--key", public, "--sub", "alice") == (
        "error: wrong subject 'bob' (expected 'alice')"
    )
    old = _sign(private, "--claim", f"iat:={int(time.time()) - 7300}")
    line = _fail(old, "--key", public, "--max-age", "1h")
    assert line == "error: token is too old: issued 2 hours ago (over --max-age)"
    future = _sign(private, "--claim", f"iat:={int(time.time()) + 7300}")
    assert (
        _fail(future, "--key", public) == "error: token not valid yet: iat is 2 hours in the future"
    )
    bad = _sign(private, "--claim", "exp=soon")
    line = _fail(bad, "--key", public)
    assert line.startswith("error: invalid claim: ") and "'exp'" in line
