"""``jwtkit user``, ``jwtkit client`` and ``jwtkit serve`` with the real token service."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.cli import JWTKIT_BIN, run_cli

# Cheap Argon2 parameters so that hashing does not dominate the suite (2 shared cores).
FAST_HASH = {
    "JWTKIT_ARGON2_TIME_COST": "1",
    "JWTKIT_ARGON2_MEMORY_COST": "8",
    "JWTKIT_ARGON2_PARALLELISM": "1",
}


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """Environment for a fresh SQLite store with keys and a known master key."""
    url = f"sqlite:///{tmp_path / 'svc.db'}"
    res = run_cli("keys", "--store", url, "init", env={"JWTKIT_MASTER_KEY": ""})
    assert res.code == 0, res.stderr
    return {**FAST_HASH, "JWTKIT_STORE": url, "JWTKIT_MASTER_KEY": res.json()["master_key"]}


def test_users(env: dict[str, str]) -> None:
    added = run_cli("user", "add", "alice", "--role", "admin", "--password-stdin",
                    stdin="correct horse\n", env=env)  # fmt: skip
    assert added.code == 0, added.stderr
    assert added.json() == {"username": "alice", "roles": ["admin"], "name": None,
                            "email": None, "email_verified": False}  # fmt: skip
    prompted = run_cli("user", "add", "bob", stdin="pw-bob-1\npw-bob-1\n", env=env)
    assert prompted.code == 0, prompted.stderr
    assert "pw-bob-1" not in prompted.stdout + prompted.stderr
    again = run_cli("user", "add", "alice", "--password-stdin", stdin="x\n", env=env)
    assert again.code == 4
    assert again.stderr == "error: user 'alice' already exists\n"
    empty = run_cli("user", "add", "carol", "--password-stdin", stdin="\n", env=env)
    assert empty.code == 2
    assert "empty password" in empty.stderr

    assert run_cli("user", "disable", "bob", env=env).code == 0
    table = run_cli("user", "list", env=env)
    assert table.code == 0
    lines = table.stdout.splitlines()
    assert lines[0].split() == ["username", "roles", "status", "created"]
    assert lines[1].split()[:3] == ["alice", "admin", "active"]
    assert lines[2].split()[:3] == ["bob", "-", "disabled"]
    listed = run_cli("user", "list", "--json", env=env).json()
    assert [(u["username"], u["disabled"]) for u in listed] == [("alice", False), ("bob", True)]
    missing = run_cli("user", "disable", "nobody", env=env)
    assert missing.code == 4
    assert "nobody" in missing.stderr


def test_password_never_on_command_line(env: dict[str, str]) -> None:
    res = run_cli("user", "add", "alice", "--password", "hunter2", env=env)
    assert res.code == 2
    assert res.stderr.startswith("error: No such option '--password'.")
    assert "(see 'jwtkit user add --help')" in res.stderr


def test_clients(env: dict[str, str]) -> None:
    added = run_cli("client", "add", "billing", "--grant", "client_credentials",
                    "--scope", "invoices:read", env=env)  # fmt: skip
    assert added.code == 0, added.stderr
    out = added.json()
    assert out["client_id"] == "billing"
    assert len(out["client_secret"]) >= 32
    assert "printed once" in added.stderr
    own = run_cli("client", "add", "svc", "--secret-stdin", stdin="s" * 20 + "\n", env=env)
    assert own.code == 0, own.stderr
    assert "client_secret" not in own.json()
    public = run_cli("client", "add", "spa", "--public", "--grant", "password", env=env)
    assert public.code == 0, public.stderr
    assert "client_secret" not in public.json()
    bad = run_cli("client", "add", "x", "--public", "--grant", "client_credentials", env=env)
    assert bad.code == 4
    assert "public client" in bad.stderr
    assert run_cli("client", "disable", "svc", env=env).code == 0
    listed = run_cli("client", "list", "--json", env=env)
    rows = {c["client_id"]: c for c in listed.json()}
    assert rows["billing"]["scopes"] == ["invoices:read"]
    assert rows["svc"]["disabled"] is True
    assert rows["spa"]["public"] is True
    table = run_cli("client", "list", env=env).stdout
    assert out["client_secret"] not in table
    assert "confidential" in table and "public" in table


def test_serve_refuses_without_master_key(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'none.db'}"
    res = run_cli("serve", "--store", url, env={"JWTKIT_MASTER_KEY": ""})
    assert res.code == 4
    assert "jwtkit keys init" in res.stderr


def test_serve_turns_the_garbage_collector_back_on(tmp_path: Path) -> None:
    """The entry point disables gc for short commands; the long-running server needs it."""
    import gc

    gc.disable()
    try:
        url = f"sqlite:///{tmp_path / 'none.db'}"
        assert run_cli("serve", "--store", url, env={"JWTKIT_MASTER_KEY": ""}).code == 4
        assert gc.isenabled()
    finally:
        gc.enable()


def test_the_entry_point_exits_with_the_status(tmp_path: Path) -> None:
    """``run()`` (gc off, frozen at exit) still prints everything and exits with the status."""
    ok = subprocess.run([str(JWTKIT_BIN), "--version"], capture_output=True, text=True, check=False)
    assert ok.returncode == 0 and ok.stdout.startswith("jwtkit ")
    bad = subprocess.run(
        [str(JWTKIT_BIN), "inspect", "x.y"], capture_output=True, text=True, check=False
    )
    assert bad.returncode == 1 and bad.stderr.startswith("error: malformed token")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def service(env: dict[str, str], tmp_path: Path) -> Iterator[str]:
    """A real ``jwtkit serve`` process on a free loopback port; yields its base URL."""
    port = _free_port()
    log = (tmp_path / "serve.log").open("w")
    proc = subprocess.Popen(
        [str(JWTKIT_BIN), "serve", "--port", str(port)],
        env={**os.environ, **env},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                log.flush()
                raise AssertionError((tmp_path / "serve.log").read_text())
            time.sleep(0.2)
        yield base
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def test_serve_login_and_verify_against_jwks_url(env: dict[str, str], service: str) -> None:
    run_cli("user", "add", "alice", "--role", "admin", "--password-stdin",
            stdin="correct horse\n", env=env)  # fmt: skip
    client = run_cli("client", "add", "web", "--grant", "password", env=env).json()
    response = httpx.post(
        service + "/token",
        data={"grant_type": "password", "username": "alice", "password": "correct horse"},
        auth=("web", client["client_secret"]),
        timeout=10,
    )
    assert response.status_code == 200, response.text
    token = response.json()["access_token"]

    jwks_url = service + "/.well-known/jwks.json"
    ok = run_cli("verify", token, "--jwks", jwks_url, "--iss", service, "--aud", service)
    assert ok.code == 0, ok.stderr
    claims = ok.json()
    assert claims["sub"] == "alice" and claims["roles"] == ["admin"]
    wrong = run_cli("verify", token, "--jwks", jwks_url, "--aud", "other")
    assert wrong.code == 1
    assert wrong.stderr == f"error: wrong audience '{service}' (expected 'other')\n"
    shown = run_cli("inspect", token)
    assert "expires in 14 minutes" in shown.stdout or "expires in 15 minutes" in shown.stdout
    assert '"typ": "at+jwt"' in shown.stdout

    served = {k["kid"] for k in httpx.get(jwks_url, timeout=5).json()["keys"]}
    published = {k["kid"] for k in run_cli("keys", "jwks", env=env).json()["keys"]}
    assert served == published


def test_verify_jwks_url_unreachable_and_plain_http(tmp_path: Path) -> None:
    key = tmp_path / "k.json"
    run_cli("keygen", "--out", key)
    token = run_cli("sign", "--key", key).stdout.strip()
    down = run_cli("verify", token, "--jwks", f"http://127.0.0.1:{_free_port()}/jwks.json")
    assert down.code == 5
    assert down.stderr.startswith("error: cannot fetch the JWKS")
    remote = run_cli("verify", token, "--jwks", "http://example.com/jwks.json")
    assert remote.code == 2
    assert "https" in remote.stderr


def test_serve_port_in_use(env: dict[str, str]) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        res = subprocess.run(
            [str(JWTKIT_BIN), "serve", "--port", str(port)],
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert res.returncode == 5, res.stderr
    assert res.stderr.strip().splitlines()[-1] == (
        f"error: the token service could not start on 127.0.0.1:{port} (see the log above)"
    )


def test_store_after_the_subcommand(env: dict[str, str], tmp_path: Path) -> None:
    other = {**env, "JWTKIT_STORE": f"sqlite:///{tmp_path / 'elsewhere.db'}"}
    added = run_cli("user", "add", "dave", "--store", env["JWTKIT_STORE"], "--password-stdin",
                    stdin="pw-dave-1\n", env=other)  # fmt: skip
    assert added.code == 0, added.stderr
    listed = run_cli("user", "list", "--json", env=env).json()
    assert [u["username"] for u in listed] == ["dave"]


def test_client_origins(env: dict[str, str]) -> None:
    added = run_cli("client", "add", "spa", "--public", "--grant", "password",
                    "--origin", "https://App.example/", "--origin", "http://localhost:5173",
                    env=env)  # fmt: skip
    assert added.code == 0, added.stderr
    assert added.json()["origins"] == ["https://app.example", "http://localhost:5173"]
    listed = run_cli("client", "list", "--json", env=env).json()
    assert listed[0]["origins"] == ["https://app.example", "http://localhost:5173"]
    bad = run_cli("client", "add", "x", "--public", "--origin", "https://x.example/app", env=env)
    assert bad.code == 4
    assert bad.stderr.startswith("error: invalid origin 'https://x.example/app'")
    assert [c["client_id"] for c in run_cli("client", "list", "--json", env=env).json()] == ["spa"]
    replaced = run_cli("client", "set", "spa", "--origin", "https://new.example", env=env)
    assert replaced.code == 0, replaced.stderr
    assert replaced.json()["origins"] == ["https://new.example"]
    clash = run_cli(
        "client", "set", "spa", "--origin", "https://a.example", "--no-origins", env=env
    )
    assert clash.code == 2
    bad_set = run_cli("client", "set", "spa", "--origin", "ftp://a.example", env=env)
    assert bad_set.code == 4 and "invalid origin" in bad_set.stderr
    cleared = run_cli("client", "set", "spa", "--no-origins", env=env)
    assert cleared.json()["origins"] == []


def test_openid_connect_client_and_user_options(env: dict[str, str]) -> None:
    """Issue 13: --redirect-uri (repeatable), --first-party, --id-token-alg, the default grants,
    password as a deprecated opt-in; user --name/--email/--email-verified."""
    added = run_cli(
        "client", "add", "web", "--redirect-uri", "https://app.example/cb",
        "--redirect-uri", "http://127.0.0.1:8080/cb", "--first-party", "--id-token-alg", "ES256",
        env=env,
    )  # fmt: skip
    assert added.code == 0, added.stderr
    body = added.json()
    assert body["grants"] == ["authorization_code", "refresh_token"]
    assert body["redirect_uris"] == ["https://app.example/cb", "http://127.0.0.1:8080/cb"]
    assert body["first_party"] is True and body["id_token_alg"] == "ES256"
    legacy = run_cli("client", "add", "old", "--grant", "password", env=env)
    assert legacy.code == 0 and "deprecated" in legacy.stderr
    for bad in ("http://app.example/cb", "https://app.example/cb#frag", "relative/cb"):
        refused = run_cli("client", "add", "bad", "--redirect-uri", bad, env=env)
        assert refused.code != 0 and refused.stderr.startswith("error: "), bad
    helped = run_cli("client", "add", "--help", env=env)
    assert "DEPRECATED" in helped.stdout and "--redirect-uri" in helped.stdout
    profile = ["--name", "Carol C", "--email", "carol@example.org", "--email-verified"]
    user = run_cli("user", "add", "carol", *profile, "--password-stdin", stdin="pw-carol-1\n",
                   env=env)  # fmt: skip
    assert user.code == 0, user.stderr
    assert user.json() == {"username": "carol", "roles": [], "name": "Carol C",
                           "email": "carol@example.org", "email_verified": True}  # fmt: skip
    listed = run_cli("client", "list", "--json", env=env).json()
    assert next(c for c in listed if c["client_id"] == "web")["first_party"] is True


def test_openid_connect_options_of_the_set_commands(env: dict[str, str]) -> None:
    """Issue 13 adds its options to issue 11's `user set` and `client set`."""
    assert run_cli("client", "add", "web", "--redirect-uri", "https://app.example/cb",
                   env=env).code == 0  # fmt: skip
    changed = run_cli("client", "set", "web", "--redirect-uri", "https://app.example/new",
                      "--first-party", "--id-token-alg", "EdDSA", env=env)  # fmt: skip
    assert changed.code == 0, changed.stderr
    body = changed.json()
    assert body["redirect_uris"] == ["https://app.example/new"]
    assert body["first_party"] is True and body["id_token_alg"] == "EdDSA"
    back = run_cli("client", "set", "web", "--no-first-party", "--no-redirect-uris",
                   "--id-token-alg", "RS256", env=env).json()  # fmt: skip
    assert back["redirect_uris"] == [] and back["first_party"] is False
    assert back["id_token_alg"] == "RS256"
    legacy = run_cli("client", "set", "web", "--grant", "password", env=env)
    assert legacy.code == 0 and "deprecated" in legacy.stderr
    assert legacy.json()["grants"] == ["password"]
    default = run_cli("client", "set", "web", "--default-grants", env=env).json()
    assert default["grants"] == ["authorization_code", "refresh_token"]
    bad = run_cli("client", "set", "web", "--redirect-uri", "http://app.example/cb", env=env)
    assert bad.code == 4 and "loopback" in bad.stderr
    assert run_cli("client", "set", "web", "--id-token-alg", "HS256", env=env).code == 2
    clash = run_cli("client", "set", "web", "--redirect-uri", "https://a.example/cb",
                    "--no-redirect-uris", env=env)  # fmt: skip
    assert clash.code == 2
    assert run_cli("user", "add", "carol", "--email", "c@example.org", "--email-verified",
                   "--password-stdin", stdin="pw-carol-1\n", env=env).code == 0  # fmt: skip
    renamed = run_cli("user", "set", "carol", "--name", "Carol C", env=env).json()
    assert renamed["name"] == "Carol C" and renamed["email_verified"] is True
    # A new address is unverified until said otherwise.
    moved = run_cli("user", "set", "carol", "--email", "carol@example.net", env=env).json()
    assert moved["email"] == "carol@example.net" and moved["email_verified"] is False
    verified = run_cli("user", "set", "carol", "--email-verified", env=env).json()
    assert verified["email_verified"] is True
    unverified = run_cli("user", "set", "carol", "--no-email-verified", env=env).json()
    assert unverified["email_verified"] is False


def test_the_cli_lists_match_the_service() -> None:
    from jwtkit.cli.commands.accounts import GRANTS, ID_TOKEN_ALGS
    from jwtkit.server._records import GRANT_TYPES
    from jwtkit.server._records import ID_TOKEN_ALGS as SERVICE_ID_TOKEN_ALGS

    assert tuple(GRANTS) == GRANT_TYPES
    assert tuple(ID_TOKEN_ALGS) == SERVICE_ID_TOKEN_ALGS
