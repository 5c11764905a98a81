"""``jwtkit user set/enable/logout`` and ``jwtkit client set/enable/rotate-secret`` (issue 11)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from jwtkit._storage import Database
from jwtkit.cli.commands import account_edits
from jwtkit.cli.commands.accounts import CLIENT, USER
from jwtkit.server import Accounts
from jwtkit.server._accounts import make_password_hasher
from jwtkit.server._tokens import TokenStore
from tests.support.cli import run_cli

FAST_HASH = {
    "JWTKIT_ARGON2_TIME_COST": "1",
    "JWTKIT_ARGON2_MEMORY_COST": "8",
    "JWTKIT_ARGON2_PARALLELISM": "1",
}
FAST = make_password_hasher(time_cost=1, memory_cost=8, parallelism=1)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """A store with user alice (password pw-alice-1) and confidential client web."""
    url = f"sqlite:///{tmp_path / 'svc.db'}"
    with Accounts.open(url, hasher=FAST) as accounts:
        accounts.add_user("alice", "pw-alice-1")
        accounts.add_client("web", "web-secret-0123456789", scopes=("read",))
    return {**FAST_HASH, "JWTKIT_STORE": url}


def sessions(url: str, count: int) -> list[str]:
    """Start ``count`` login sessions of alice at client web; return their refresh tokens."""
    db = Database.open(url)
    try:
        store = TokenStore(db, lifetime=3600)
        now = time.time()
        return [
            store.issue(client_id="web", username="alice", scope=("read",), now=now).token
            for _ in range(count)
        ]
    finally:
        db.close()


def live(url: str, token: str) -> bool:
    db = Database.open(url)
    try:
        info = TokenStore(db, lifetime=3600).inspect(token, now=time.time())
        return info is not None and info.active
    finally:
        db.close()


def test_user_set_password_ends_sessions(env: dict[str, str]) -> None:
    tokens = sessions(env["JWTKIT_STORE"], 2)
    res = run_cli("user", "set", "alice", "--password-stdin", stdin="pw-alice-2\n", env=env)
    assert res.code == 0, res.stderr
    assert res.json()["sessions_revoked"] == 2
    assert "pw-alice-2" not in res.stdout + res.stderr
    assert not any(live(env["JWTKIT_STORE"], t) for t in tokens)
    with Accounts.open(env["JWTKIT_STORE"], hasher=FAST) as accounts:
        assert accounts.authenticate_user("alice", "pw-alice-2") is not None
        assert accounts.authenticate_user("alice", "pw-alice-1") is None
    prompted = run_cli("user", "set", "alice", "--password", stdin="pw-alice-3\npw-alice-3\n",
                       env=env)  # fmt: skip
    assert prompted.code == 0 and prompted.json()["sessions_revoked"] == 0
    assert "pw-alice-3" not in prompted.stdout + prompted.stderr
    # The password never comes from the command line.
    on_argv = run_cli("user", "set", "alice", "--password", "hunter2", env=env)
    assert on_argv.code == 2 and "unexpected extra argument" in on_argv.stderr


def test_user_set_profile(env: dict[str, str]) -> None:
    res = run_cli("user", "set", "alice", "--name", "Alice Liddell", "--email", "a@example.com",
                  env=env)  # fmt: skip
    assert res.code == 0, res.stderr
    assert res.json() == {"username": "alice", "roles": [], "name": "Alice Liddell",
                          "email": "a@example.com", "email_verified": False}  # fmt: skip
    cleared = run_cli("user", "set", "alice", "--email", "", env=env)
    assert cleared.json()["email"] is None and cleared.json()["name"] == "Alice Liddell"
    bad = run_cli("user", "set", "alice", "--email", "not an address", env=env)
    assert bad.code == 4 and bad.stderr.startswith("error: the email must be")
    nothing = run_cli("user", "set", "alice", env=env)
    assert nothing.code == 2 and "nothing to change" in nothing.stderr
    missing = run_cli("user", "set", "nobody", "--name", "X", env=env)
    assert missing.code == 4 and "nobody" in missing.stderr


def test_user_logout_and_enable(env: dict[str, str]) -> None:
    tokens = sessions(env["JWTKIT_STORE"], 3)
    res = run_cli("user", "logout", "alice", env=env)
    assert res.code == 0, res.stderr
    assert res.json() == {"username": "alice", "sessions_revoked": 3}
    assert not any(live(env["JWTKIT_STORE"], t) for t in tokens)
    assert run_cli("user", "disable", "alice", env=env).code == 0
    assert run_cli("user", "enable", "alice", env=env).code == 0
    listed = run_cli("user", "list", "--json", env=env).json()
    assert listed[0]["disabled"] is False
    assert run_cli("user", "logout", "nobody", env=env).code == 4


def test_client_set_and_enable(env: dict[str, str]) -> None:
    res = run_cli("client", "set", "web", "--scope", "read", "--scope", "write",
                  "--grant", "password", "--resource-server", env=env)  # fmt: skip
    assert res.code == 0, res.stderr
    assert res.json() == {
        "client_id": "web",
        "scopes": ["read", "write"],
        "grants": ["password"],
        "public": False,
        "resource_server": True,
        "origins": [],
        "redirect_uris": [],
        "first_party": False,
        "id_token_alg": "RS256",
        "post_logout_redirect_uris": [],
    }
    res = run_cli("client", "set", "web", "--no-scopes", "--default-grants",
                  "--no-resource-server", env=env)  # fmt: skip
    assert res.json() == {
        "client_id": "web",
        "scopes": [],
        "grants": ["authorization_code", "refresh_token"],
        "public": False,
        "resource_server": False,
        "origins": [],
        "redirect_uris": [],
        "first_party": False,
        "id_token_alg": "RS256",
        "post_logout_redirect_uris": [],
    }
    clash = run_cli("client", "set", "web", "--scope", "a", "--no-scopes", env=env)
    assert clash.code == 2
    assert run_cli("client", "set", "web", env=env).code == 2
    assert run_cli("client", "set", "web", "--grant", "implicit", env=env).code == 2
    assert run_cli("client", "add", "spa", "--public", env=env).code == 0
    public_rs = run_cli("client", "set", "spa", "--resource-server", env=env)
    assert public_rs.code == 4 and "public" in public_rs.stderr
    assert run_cli("client", "disable", "web", env=env).code == 0
    assert run_cli("client", "enable", "web", env=env).code == 0
    listed = {c["client_id"]: c for c in run_cli("client", "list", "--json", env=env).json()}
    assert listed["web"]["disabled"] is False and listed["web"]["resource_server"] is False
    added = run_cli("client", "add", "api", "--resource-server", env=env)
    assert added.code == 0 and added.json()["resource_server"] is True
    assert "resource server" in run_cli("client", "list", env=env).stdout


def test_client_rotate_secret(env: dict[str, str]) -> None:
    res = run_cli("client", "rotate-secret", "web", "--overlap", "10m", env=env)
    assert res.code == 0, res.stderr
    out = res.json()
    assert len(out["client_secret"]) >= 32 and "printed once" in res.stderr
    with Accounts.open(env["JWTKIT_STORE"], hasher=FAST) as accounts:
        assert accounts.authenticate_client("web", out["client_secret"]) is not None
        assert accounts.authenticate_client("web", "web-secret-0123456789") is not None
    now = run_cli("client", "rotate-secret", "web", "--overlap", "0", "--secret-stdin",
                  stdin="a-chosen-secret-0123456789\n", env=env)  # fmt: skip
    assert now.code == 0 and "client_secret" not in now.json()
    with Accounts.open(env["JWTKIT_STORE"], hasher=FAST) as accounts:
        assert accounts.authenticate_client("web", out["client_secret"]) is None
        assert accounts.authenticate_client("web", "a-chosen-secret-0123456789") is not None
    assert run_cli("client", "rotate-secret", "web", "--overlap", "soon", env=env).code == 2
    assert run_cli("client", "add", "spa", "--public", env=env).code == 0
    assert run_cli("client", "rotate-secret", "spa", env=env).code == 4


def test_listed_summaries_match_the_commands() -> None:
    for group in (USER, CLIENT):
        for name, summary in group.summaries.items():
            command = group.find(name)
            assert command is not None and command.summary == summary
    assert account_edits.USER_SET.name == "set"
