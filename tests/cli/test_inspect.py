"""``jwtkit inspect``: claims, times in words, and the warnings a reviewer would give."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from jwtkit.cli._report import analyze, luhn_valid
from tests.support.cli import rfc7519_token, run_cli


@pytest.fixture
def key(tmp_path: Path) -> Path:
    """An ES256 private key file."""
    path = tmp_path / "k.json"
    assert run_cli("keygen", "--alg", "ES256", "--out", path).code == 0
    return path


def _sign(key: Path, *args: str) -> str:
    res = run_cli("sign", "--key", key, *args)
    assert res.code == 0, res.stderr
    return res.stdout.strip()


def test_rfc7519_example_token() -> None:
    vector = rfc7519_token()
    res = run_cli("inspect", vector["token"])
    assert res.code == 0, res.stderr
    out = res.stdout
    assert out.startswith("NOT VERIFIED")
    assert '"iss": "joe"' in out
    assert '"http://example.com/is_root": true' in out
    assert "2011-03-22 18:43:00 UTC" in out
    assert "(expired " in out and " years ago)" in out
    assert "alg HS256 uses a shared secret" in out
    assert "no 'aud'" in out
    assert "no 'exp'" not in out

    as_json = run_cli("inspect", "--json", "-", stdin=vector["token"] + "\n").json()
    assert as_json["verified"] is False
    assert as_json["claims"] == vector["claims"]
    assert as_json["times"]["exp"]["date"] == "2011-03-22 18:43:00 UTC"
    assert any(w.startswith("expired ") for w in as_json["warnings"])
    assert any("shared secret" in w for w in as_json["warnings"])


def test_no_exp_and_sensitive_claims(key: Path) -> None:
    token = _sign(
        key,
        "--no-exp",
        "--aud",
        "api",
        "--claim",
        "password=hunter2",
        "--claim",
        "card=4111 1111 1111 1111",
        "--claim",
        'profile:={"ssn": "x", "id": "078-05-1120"}',
        "--claim",
        "order:=4111111111111112",
        "--claim",
        "apiKey=abc",
    )
    warnings = run_cli("inspect", "--json", token).json()["warnings"]
    text = "\n".join(warnings)
    assert "no 'exp': the token never expires" in text
    assert "'password' looks sensitive" in text
    assert "'apiKey' looks sensitive" in text
    assert "'card' looks like a payment card number" in text
    assert "'profile.ssn' looks sensitive" in text
    assert "'profile.id' looks like a US social security number" in text
    assert "'order'" not in text  # fails the Luhn check
    assert "no 'aud'" not in text
    assert "shared secret" not in text


def test_long_lifetime_and_key_url_headers(key: Path) -> None:
    token = _sign(
        key,
        "--exp",
        "30d",
        "--aud",
        "a",
        "--header",
        "jku=https://evil.example/jwks",
        "--header",
        "x5u=https://evil.example/cert",
        "--header",
        "kid=../../dev/null",
    )
    res = run_cli("inspect", token)
    assert res.code == 0
    assert "lifetime is 30 days (longer than a day)" in res.stdout
    assert "header 'jku' points at a key URL" in res.stdout
    assert "header 'x5u' points at a key URL" in res.stdout
    assert "kid injection" in res.stdout
    assert "expires in 29 days" in res.stdout


def test_not_yet_valid_times() -> None:
    now = 1_700_000_000
    report = analyze(
        {"alg": "none"}, {"iat": now + 120, "nbf": now + 600, "exp": now + 900, "aud": "x"}, now
    )
    relative = {t.claim: t.relative for t in report.times}
    assert relative == {
        "iat": "issued in 2 minutes (in the future)",
        "nbf": "becomes valid in 10 minutes",
        "exp": "expires in 15 minutes",
    }
    assert any("unsigned" in w for w in report.warnings)
    assert "not valid yet: becomes valid in 10 minutes" in report.warnings
    past = analyze({"alg": "ES256"}, {"exp": now - 2 * 86400 - 5, "aud": "x"}, now)
    assert [t.relative for t in past.times] == ["expired 2 days ago"]
    assert past.warnings == ["expired 2 days ago"]


def test_alg_none_token_is_shown(key: Path) -> None:
    now = int(time.time())
    payload = json.dumps({"sub": "a", "exp": now + 60})
    import base64

    def b64(text: str) -> str:
        return base64.urlsafe_b64encode(text.encode()).rstrip(b"=").decode()

    token = f"{b64(json.dumps({'alg': 'none'}))}.{b64(payload)}."
    res = run_cli("inspect", token)
    assert res.code == 0, res.stderr
    assert "the token is unsigned" in res.stdout


def test_colour_output_and_plain_output(key: Path) -> None:
    token = _sign(key, "--aud", "a")
    coloured = run_cli("--color", "always", "inspect", token)
    assert coloured.code == 0, coloured.stderr
    assert "\x1b[" in coloured.stdout
    assert "NOT VERIFIED" in coloured.stdout
    plain = run_cli("--no-color", "inspect", token)
    assert "\x1b[" not in plain.stdout
    assert "Warnings: none" in plain.stdout
    with_env = run_cli("--color", "auto", "inspect", token, env={"NO_COLOR": "1"})
    assert "\x1b[" not in with_env.stdout


def test_malformed_input() -> None:
    res = run_cli("inspect", "abc")
    assert res.code == 1
    assert res.stderr.startswith("error: malformed token")
    empty = run_cli("inspect", "-", stdin="  \n")
    assert empty.code == 2
    assert "no token given" in empty.stderr


def test_luhn() -> None:
    assert luhn_valid("4111111111111111")
    assert luhn_valid("79927398713")
    assert not luhn_valid("4111111111111112")


def test_colour_is_automatic_on_a_terminal(key: Path) -> None:
    """On a real pseudo-terminal inspect is coloured; NO_COLOR turns that off."""
    import os
    import pty
    import subprocess

    from tests.support.cli import JWTKIT_BIN

    token = _sign(key, "--aud", "a")

    def on_tty(extra_env: dict[str, str]) -> str:
        leader, follower = pty.openpty()
        env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
        proc = subprocess.Popen(
            [str(JWTKIT_BIN), "inspect", token],
            stdout=follower,
            stderr=subprocess.PIPE,
            env={**env, "TERM": "xterm", **extra_env},
        )
        os.close(follower)
        chunks = []
        while True:
            try:
                data = os.read(leader, 65536)
            except OSError:  # EIO once the child has closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        os.close(leader)
        assert proc.wait(timeout=30) == 0
        assert proc.stderr is not None
        proc.stderr.close()
        return b"".join(chunks).decode()

    assert "\x1b[" in on_tty({})
    plain = on_tty({"NO_COLOR": "1"})
    assert "\x1b[" not in plain
    assert "NOT VERIFIED" in plain


def test_untrusted_text_is_not_markup(key: Path) -> None:
    """Claim names and values reach the terminal as text, never as rich markup or escapes."""
    token = _sign(key, "--aud", "a", "--claim", "[/]secret=[bold]x", "--claim", "esc=\x1b[31mred")
    res = run_cli("--color", "always", "inspect", token)
    assert res.code == 0, res.stderr
    assert "[/]secret" in res.stdout
    plain = run_cli("inspect", token).stdout
    assert "\x1b" not in plain
    assert "\\u001b[31mred" in plain
