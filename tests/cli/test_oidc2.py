"""``jwtkit resource add/list/remove``, ``jwtkit user consents`` and ``client
--post-logout-redirect-uri`` (issue 14)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from jwtkit._storage import ConsentRows, Database
from jwtkit.cli.commands import consents
from jwtkit.cli.commands.accounts import USER
from jwtkit.server import Accounts
from jwtkit.server._accounts import make_password_hasher
from jwtkit.server._tokens import TokenStore
from tests.support.cli import run_cli

FAST = make_password_hasher(time_cost=1, memory_cost=8, parallelism=1)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    url = f"sqlite:///{tmp_path / 'svc.db'}"
    with Accounts.open(url, hasher=FAST) as accounts:
        accounts.add_user("alice", "pw-alice-1")
        accounts.add_client("spa", public=True)
        accounts.add_client("web", "web-secret-0123456789")
    return {"JWTKIT_STORE": url}


def test_resource_add_list_remove(env: dict[str, str]) -> None:
    added = run_cli(
        "resource", "add", "https://api.example", "--scope", "invoices:read", "--scope",
        "invoices:write", "--describe", "invoices:read", "Read your invoices", env=env,
    )  # fmt: skip
    assert added.code == 0, added.stderr
    assert added.json() == {
        "uri": "https://api.example",
        "scopes": [
            {"scope": "invoices:read", "description": "Read your invoices"},
            {"scope": "invoices:write", "description": None},
        ],
    }
    assert "registered resource 'https://api.example'" in added.stderr
    listed = run_cli("resource", "list", "--json", env=env)
    assert [r["uri"] for r in listed.json()] == ["https://api.example"]
    table = run_cli("--no-color", "resource", "list", env=env)
    assert "https://api.example" in table.stdout and "invoices:read invoices:write" in table.stdout
    again = run_cli("resource", "add", "https://api.example", env=env)
    assert again.code == 4 and again.stderr.startswith("error: resource")
    bad = run_cli("resource", "add", "api.example", env=env)
    assert bad.code == 4 and "not an absolute URI" in bad.stderr
    wrong = run_cli("resource", "add", "urn:x", "--describe", "nope", "words", env=env)
    assert wrong.code == 4 and "names no scope" in wrong.stderr
    kept = run_cli("resource", "remove", "https://api.example", stdin="n\n", env=env)
    assert kept.code == 6
    removed = run_cli("resource", "remove", "https://api.example", "--yes", env=env)
    assert removed.code == 0 and run_cli("resource", "list", "--json", env=env).json() == []
    missing = run_cli("resource", "remove", "https://api.example", "--yes", env=env)
    assert missing.code == 4 and "no resource named" in missing.stderr


def test_user_consents_lists_and_revokes(env: dict[str, str]) -> None:
    url = env["JWTKIT_STORE"]
    db = Database.open(url)
    try:
        rows = ConsentRows(db)
        rows.grant("alice", "spa", ("openid", "read"), ("https://api.example",), now=time.time())
        rows.grant("alice", "web", ("openid",), (), now=time.time())
        store = TokenStore(db, lifetime=3600)
        token = store.issue(client_id="spa", username="alice", scope=("openid",), now=time.time())
        other = store.issue(client_id="web", username="alice", scope=("openid",), now=time.time())
    finally:
        db.close()
    listed = run_cli("user", "consents", "alice", "--json", env=env)
    assert listed.code == 0, listed.stderr
    assert [(c["client_id"], c["scopes"], c["resources"]) for c in listed.json()] == [
        ("spa", ["openid", "read"], ["https://api.example"]),
        ("web", ["openid"], []),
    ]
    table = run_cli("--no-color", "user", "consents", "alice", env=env)
    assert "spa" in table.stdout and "openid read" in table.stdout
    revoked = run_cli("user", "consents", "alice", "--revoke", "spa", env=env)
    assert revoked.code == 0, revoked.stderr
    assert revoked.json() == {"username": "alice", "consents_revoked": 1, "sessions_revoked": 1}
    db = Database.open(url)
    try:
        store = TokenStore(db, lifetime=3600)
        assert not store.inspect(token.token, now=time.time()).active  # type: ignore[union-attr]
        assert store.inspect(other.token, now=time.time()).active  # type: ignore[union-attr]
    finally:
        db.close()
    again = run_cli("user", "consents", "alice", "--revoke", "spa", env=env)
    assert again.code == 4 and "gave no consent" in again.stderr
    everything = run_cli("user", "consents", "alice", "--revoke-all", env=env)
    assert everything.json()["consents_revoked"] == 1
    assert run_cli("user", "consents", "alice", "--json", env=env).json() == []
    assert run_cli("user", "consents", "bob", env=env).code == 4
    both = run_cli("user", "consents", "alice", "--revoke", "spa", "--revoke-all", env=env)
    assert both.code == 2


def test_user_consents_is_listed_in_the_user_group() -> None:
    assert USER.summaries["consents"] == consents.USER_CONSENTS.help


def test_client_post_logout_redirect_uris(env: dict[str, str]) -> None:
    added = run_cli(
        "client", "add", "app", "--public", "--redirect-uri", "https://app.example/cb",
        "--post-logout-redirect-uri", "https://app.example/bye", env=env,
    )  # fmt: skip
    assert added.code == 0, added.stderr
    assert added.json()["post_logout_redirect_uris"] == ["https://app.example/bye"]
    changed = run_cli(
        "client", "set", "app", "--post-logout-redirect-uri", "https://app.example/out",
        "--post-logout-redirect-uri", "http://127.0.0.1:9000/out", env=env,
    )  # fmt: skip
    assert changed.json()["post_logout_redirect_uris"] == [
        "https://app.example/out",
        "http://127.0.0.1:9000/out",
    ]
    cleared = run_cli("client", "set", "app", "--no-post-logout-redirect-uris", env=env)
    assert cleared.json()["post_logout_redirect_uris"] == []
    bad = run_cli("client", "set", "app", "--post-logout-redirect-uri", "http://evil/x", env=env)
    assert bad.code == 4 and "loopback" in bad.stderr
    both = run_cli(
        "client", "set", "app", "--post-logout-redirect-uri", "https://a.example/x",
        "--no-post-logout-redirect-uris", env=env,
    )  # fmt: skip
    assert both.code == 2
