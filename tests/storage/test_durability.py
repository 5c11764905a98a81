"""Issue 9's data-loss and visibility bugs, with real processes on SQLite and PostgreSQL.

- A revocation answered with 200 survives ``kill -9``, also after outside ``jwtkit`` writes.
- Changes made with the CLI (user add/disable, client disable, keys revoke) reach a running
  service within its key-cache interval.
- Parallel refreshes of one token: exactly one 200, every other 400 invalid_grant.
- A short kill -9 stress run (the long one is tests/stress/kill9.py).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from jwtkit import decode_unverified
from jwtkit._storage import Database, Families
from jwtkit.keys import generate_master_key
from jwtkit.server._tokens import hash_token
from tests.stress import kill9, refresh_race
from tests.support.storage import CLIENT, SECRET, Service, init_keys, seed_accounts, wait_until

JWTKIT = str(Path(sys.executable).with_name("jwtkit"))
KEY_CACHE_TTL = 1.0
CLIENT_CACHE_TTL = 1.0
MARGIN = 4.0  # generous: two shared cores, other suites running beside this one


def jwtkit(env: dict[str, str], *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """Run the real ``jwtkit`` command in another process."""
    res = subprocess.run(
        [JWTKIT, *args], input=stdin, env=env, capture_output=True, text=True, timeout=60,
        check=False,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    return res


def test_revocation_after_outside_cli_writes_survives_kill9(store_url: str) -> None:
    master_key = generate_master_key()
    init_keys(store_url, master_key)
    seed_accounts(store_url)
    svc = Service(
        store_url,
        master_key,
        key_cache_ttl=str(int(KEY_CACHE_TTL)),
        client_cache_ttl=str(CLIENT_CACHE_TTL),
    )
    try:
        first = svc.login()
        # Outside writes while the service runs (the trigger of the lost-WAL bug).
        jwtkit(svc.env, "client", "add", "c2")
        jwtkit(svc.env, "user", "list")
        revoked = svc.http.post(
            "/revoke", data={"token": first["access_token"]}, auth=(CLIENT, SECRET)
        )
        assert revoked.status_code == 200
        renewed = svc.token(grant_type="refresh_token", refresh_token=first["refresh_token"])
        assert renewed.status_code == 200
        replay = svc.token(grant_type="refresh_token", refresh_token=first["refresh_token"])
        assert replay.json()["error"] == "invalid_grant"  # reuse: the family is revoked
    finally:
        svc.kill()
    jti = decode_unverified(first["access_token"])[1]["jti"]
    db = Database.open(store_url)
    try:
        families = Families(db)
        assert families.is_denied(jti)
        used = families.find(hash_token(first["refresh_token"]))
        assert used is not None and used.used_at is not None and used.revoked_at is not None
        newest = families.find(hash_token(renewed.json()["refresh_token"]))
        assert newest is not None and newest.revoked_at is not None
    finally:
        db.close()
    again = Service(store_url, master_key)
    try:
        info = again.http.post(
            "/introspect", data={"token": first["access_token"]}, auth=(CLIENT, SECRET)
        )
        assert info.json() == {"active": False}
        dead = again.token(
            grant_type="refresh_token", refresh_token=renewed.json()["refresh_token"]
        )
        assert dead.status_code == 400
    finally:
        again.stop()


def test_cli_changes_reach_the_running_service(store_url: str) -> None:
    master_key = generate_master_key()
    init_keys(store_url, master_key)
    seed_accounts(store_url)
    svc = Service(
        store_url,
        master_key,
        key_cache_ttl=str(int(KEY_CACHE_TTL)),
        client_cache_ttl=str(CLIENT_CACHE_TTL),
    )
    env = svc.env
    others: list[Service] = []
    try:
        jwtkit(env, "client", "add", "other")
        jwtkit(env, "user", "add", "bob", "--password-stdin", stdin="bob-password-1\n")

        def bob_login() -> int:
            return svc.token(
                grant_type="password", username="bob", password="bob-password-1"
            ).status_code

        assert bob_login() == 200  # accounts are read per request: at once
        jwtkit(env, "user", "disable", "bob")
        assert bob_login() == 400

        # On PostgreSQL a second instance shares the store: the revocation reaches both.
        if store_url.startswith("postgresql"):
            others.append(Service(store_url, master_key, key_cache_ttl="1"))

        def signing_kid(instance: Service) -> str:
            body = instance.token(grant_type="client_credentials").json()
            return str(decode_unverified(body["access_token"])[0]["kid"])

        active = signing_kid(svc)
        assert all(signing_kid(other) == active for other in others)
        jwtkit(env, "keys", "revoke", "--yes", "--", active)  # a kid may start with "-"
        revoked_at = time.monotonic()

        def moved_on(instance: Service) -> bool:
            jwks = instance.http.get("/.well-known/jwks.json").json()
            published = {k["kid"] for k in jwks["keys"]}
            return signing_kid(instance) != active and active not in published

        for instance in (svc, *others):
            wait_until(lambda i=instance: moved_on(i), KEY_CACHE_TTL + MARGIN)
        # Every instance stopped signing with (and publishing) the revoked key within the
        # key-cache interval, plus the margin for two shared cores.
        assert time.monotonic() - revoked_at <= KEY_CACHE_TTL + MARGIN
        jwtkit(env, "client", "disable", CLIENT)
        disabled_at = time.monotonic()
        # Client records are cached for JWTKIT_CLIENT_CACHE_TTL (issue 18): within it.
        wait_until(
            lambda: svc.token(grant_type="client_credentials").status_code == 401,
            CLIENT_CACHE_TTL + MARGIN,
        )
        assert time.monotonic() - disabled_at <= CLIENT_CACHE_TTL + MARGIN
    finally:
        for other in others:
            other.stop()
        log = svc.stop()
    assert "Traceback" not in log


def test_parallel_refreshes_have_one_winner(store_url: str) -> None:
    instances = 2 if store_url.startswith("postgresql") else 1
    # A loser waits for the winner's row lock; the store timeout is raised so that a load spike
    # on the shared machine cannot turn a loser into a 503 (the likeliest cause of one failure
    # seen under a load of 6-8 that 530 reruns did not reproduce).
    # The default 2 s bound is tested with the outage tests; the race is what this one checks.
    result = refresh_race.run(
        store_url, trials=6, parallel=6, instances=instances, store_timeout="10"
    )
    assert result["failed_trials"] == 0, json.dumps(result)
    assert result["responses"] == {"200": 6, "400 invalid_grant": 30}


@pytest.mark.slow
def test_kill9_during_mixed_load_loses_nothing(store_url: str) -> None:
    result = kill9.run(store_url, kills=2, seed=9, log=lambda line: None)
    assert result["kills"] == 2
    assert result["checks"] > 0 and result["used_refresh"] > 0, result


def test_store_used_by_two_connections_and_outside_processes(tmp_path: Path) -> None:
    """The exact chain of issue 9's bug: two stores opened in one process, an outside process
    opening and closing the file, then a write here must reach the file."""
    url = f"sqlite:///{tmp_path / 'jwtkit.db'}"
    master_key = generate_master_key()
    from jwtkit.keys import KeyManager
    from jwtkit.server import Accounts

    with KeyManager.open(url, master_key=master_key) as km:
        km.active_key()
        with Accounts.open(url) as accounts:
            env = {"JWTKIT_STORE": url, "PATH": str(Path(JWTKIT).parent)}
            jwtkit(env, "client", "add", "outside")
            db = Database.open(url)
            try:
                Families(db).deny("jti-after-outside-write", 4_000_000_000.0)
            finally:
                db.close()
            assert accounts.get_client("outside") is not None
        code = (
            "import sys; from jwtkit._storage import Database, Families;"
            f"db = Database.open({url!r});"
            "sys.exit(0 if Families(db).is_denied('jti-after-outside-write') else 3)"
        )
        assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
    assert json.loads(jwtkit(env, "client", "list", "--json").stdout)[0]["client_id"] == "outside"
