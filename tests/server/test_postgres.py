"""Two token-service processes sharing one PostgreSQL store (skipped without PostgreSQL).

What one instance does (revoke, rotate a refresh token, detect reuse) the other honours, and a
key rotated in the shared store is used and accepted by both.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable

import httpx
import pytest
from starlette.applications import Starlette

from jwtkit import decode_unverified
from jwtkit._storage import Database
from jwtkit.keys import KeyManager, generate_master_key
from jwtkit.server import Accounts
from jwtkit.server._tokens import RefreshError, RefreshGrant, TokenStore
from tests.support.server import (
    ALL_GRANTS,
    CLIENT,
    FAST_HASHER,
    PASSWORD,
    SECRET,
    USER,
    ServiceProcess,
    TestClient,
    basic,
    service_env,
)

pytestmark = pytest.mark.postgres

AUTH = (CLIENT, SECRET)


def test_accounts_on_postgres(pg_store: str) -> None:
    with Accounts.open(pg_store, hasher=FAST_HASHER) as accounts:
        accounts.add_user("alice", "pw", roles=("a",))
        secret = accounts.add_client("web", grants=ALL_GRANTS)
        assert [u.username for u in accounts.list_users()] == ["alice"]
        assert accounts.authenticate_client("web", secret) is not None
        accounts.disable_client("web")
        assert accounts.authenticate_client("web", secret) is None


def test_two_instances_share_state(pg_store: str) -> None:
    master_key = generate_master_key()
    with Accounts.open(pg_store, hasher=FAST_HASHER) as accounts:
        accounts.add_user(USER, PASSWORD)
        accounts.add_client(CLIENT, SECRET, grants=ALL_GRANTS)
    # Initialise the key tables once before two instances start together (works around a
    # first-open race in jwtkit.keys on PostgreSQL, reported in /tmp/core-requests.md).
    with KeyManager.open(pg_store, master_key=master_key) as km:
        km.active_key()
    issuer = "http://id.test"
    env = service_env(pg_store, master_key, issuer, JWTKIT_KEY_CACHE_TTL="1")
    children = [ServiceProcess(env), ServiceProcess(env)]
    try:
        a, b = (child.wait_ready() for child in children)
        login = httpx.post(
            a + "/token",
            data={"grant_type": "password", "username": USER, "password": PASSWORD},
            auth=AUTH,
        ).json()
        # B knows A's tokens: introspection and refresh work through B.
        info = httpx.post(b + "/introspect", data={"token": login["access_token"]}, auth=AUTH)
        assert info.json()["active"] is True
        renewed = httpx.post(
            b + "/token",
            data={"grant_type": "refresh_token", "refresh_token": login["refresh_token"]},
            auth=AUTH,
        ).json()
        # Replaying the used token at A revokes the family for both.
        replay = httpx.post(
            a + "/token",
            data={"grant_type": "refresh_token", "refresh_token": login["refresh_token"]},
            auth=AUTH,
        )
        assert replay.json()["error"] == "invalid_grant"
        newest = httpx.post(
            b + "/token",
            data={"grant_type": "refresh_token", "refresh_token": renewed["refresh_token"]},
            auth=AUTH,
        )
        assert newest.json()["error"] == "invalid_grant"

        # An access token revoked through A is inactive at B.
        assert httpx.post(a + "/revoke", data={"token": login["access_token"]}, auth=AUTH)
        info = httpx.post(b + "/introspect", data={"token": login["access_token"]}, auth=AUTH)
        assert info.json() == {"active": False}

        # A key rotated in the shared store (as `jwtkit keys rotate` does) is used by both
        # instances after their key cache refresh, and each accepts the other's tokens.
        with KeyManager.open(pg_store, master_key=master_key) as km:
            old_kid = km.active_key().kid
            new_kid = km.rotate(force=True).kid
        assert new_kid != old_kid
        for issuer_url, other in ((a, b), (b, a)):
            deadline = time.monotonic() + 20
            while True:
                body = httpx.post(
                    issuer_url + "/token",
                    data={"grant_type": "client_credentials"},
                    auth=AUTH,
                ).json()
                if decode_unverified(body["access_token"])[0]["kid"] == new_kid:
                    break
                assert time.monotonic() < deadline, "the instance did not pick up the new key"
                time.sleep(0.2)
            info = httpx.post(
                other + "/introspect", data={"token": body["access_token"]}, auth=AUTH
            )
            assert info.json()["active"] is True

        # Two simultaneous refreshes of one token through different instances: one wins.
        refresh = httpx.post(
            a + "/token",
            data={"grant_type": "password", "username": USER, "password": PASSWORD},
            auth=AUTH,
        ).json()["refresh_token"]
        barrier = threading.Barrier(2)
        results: list[int] = []

        def use(url: str) -> None:
            with httpx.Client() as http:
                barrier.wait()
                response = http.post(
                    url + "/token",
                    data={"grant_type": "refresh_token", "refresh_token": refresh},
                    auth=AUTH,
                )
            results.append(response.status_code)

        threads = [threading.Thread(target=use, args=(url,)) for url in (a, b)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(results) == [200, 400]
    finally:
        logs = [child.stop() for child in children]
    for log in logs:
        assert PASSWORD not in log and SECRET not in log and master_key not in log


def _race(calls: list[Callable[[], object]]) -> list[object]:
    """Run the calls at the same moment in threads; return results or raised exceptions."""
    barrier = threading.Barrier(len(calls))
    results: list[object] = [None] * len(calls)

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = calls[i]()
        except Exception as exc:
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_rotation_races_through_separate_connections(pg_store: str) -> None:
    dbs = [Database.open(pg_store) for _ in range(2)]
    try:
        Accounts(dbs[0], hasher=FAST_HASHER).add_user("alice", "pw")
        strict = [TokenStore(db, lifetime=3600) for db in dbs]
        for _ in range(3):
            first = strict[0].issue(client_id="web", username="alice", scope=(), now=1000.0)
            results = _race(
                [
                    functools.partial(store.rotate, first.token, client_id="web", now=1001.0)
                    for store in strict * 2
                ]
            )
            wins = [r for r in results if isinstance(r, RefreshGrant)]
            losses = [r for r in results if isinstance(r, RefreshError)]
            assert len(wins) == 1 and len(losses) == 3, results
        # With a grace window, a retry of the predecessor racing a use of the successor must
        # not deadlock: every outcome is a grant or a refusal, never a store error.
        graceful = [TokenStore(db, lifetime=3600, grace_seconds=30) for db in dbs]
        for _ in range(6):
            t1 = graceful[0].issue(client_id="web", username="alice", scope=(), now=1000.0)
            t2 = graceful[0].rotate(t1.token, client_id="web", now=1001.0)
            results = _race(
                [
                    functools.partial(graceful[0].rotate, t1.token, client_id="web", now=1002.0),
                    functools.partial(graceful[1].rotate, t2.token, client_id="web", now=1002.0),
                ]
            )
            assert all(isinstance(r, RefreshGrant | RefreshError) for r in results), results
            assert any(isinstance(r, RefreshGrant) for r in results), results
    finally:
        for db in dbs:
            db.close()


def test_code_flow_across_two_instances(
    pg_store: str, make_app: Callable[..., Starlette], master_key: str
) -> None:
    """Issue 13: codes and browser sessions live in the shared store, so a login on one
    instance is redeemed, and gives single sign-on, on the other."""
    from tests.support.oidc import REDIRECT, Browser, query, start

    with KeyManager.open(pg_store, master_key=master_key) as km:
        km.active_key()
    one, two = (make_app(store=pg_store) for _ in range(2))
    one.state.service.accounts.add_client(
        "app", SECRET, redirect_uris=(REDIRECT,), first_party=True
    )
    at_one = Browser(TestClient(one))
    page, verifier = start(at_one)
    done = at_one.login(page, USER, PASSWORD)
    code = query(done.headers["location"])["code"]
    redeem = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
              "code_verifier": verifier}  # fmt: skip
    tokens = TestClient(two).post("/token", data=redeem, headers=basic("app", SECRET))
    assert tokens.status_code == 200 and tokens.json()["id_token"]
    # The code is used up for both, and its replay at the first instance revokes the session.
    again = TestClient(one).post("/token", data=redeem, headers=basic("app", SECRET))
    assert again.json()["error"] == "invalid_grant"
    refresh = {"grant_type": "refresh_token", "refresh_token": tokens.json()["refresh_token"]}
    assert (
        TestClient(two).post("/token", data=refresh, headers=basic("app", SECRET)).status_code
        == 400
    )
    # The browser's session cookie from the first instance is known to the second.
    at_two = Browser(TestClient(two))
    at_two.cookies = dict(at_one.cookies)
    assert start(at_two)[0].status_code == 303


def test_consent_resource_cors_and_logout_across_two_instances(
    pg_store: str, make_app: Callable[..., Starlette], master_key: str
) -> None:
    """Issue 14 on PostgreSQL: a consent given at one instance, a resource and an origin
    registered there, and a logout at the other; the SQL of each runs on this dialect."""
    from tests.support.oidc import REDIRECT, Browser, hidden, query, start

    with KeyManager.open(pg_store, master_key=master_key) as km:
        km.active_key()
    one, two = (make_app(store=pg_store, cors_cache_ttl=0) for _ in range(2))
    svc = one.state.service
    svc.accounts.add_client(
        "app", SECRET, scopes=("read",), redirect_uris=(REDIRECT,), origins=("https://a_b.x",)
    )
    svc.resources.add("https://api.example", ("read",), descriptions={"read": "Read it"})
    at_one = Browser(TestClient(one))
    page, verifier = start(at_one, scope="openid read", resource="https://api.example")
    consent = at_one.login(page, USER, PASSWORD)
    assert "Read it" in consent.text, consent.text
    done = at_one.request(
        "POST",
        "/consent",
        data={"csrf_token": hidden(consent.text, "csrf_token"),
              "request": hidden(consent.text, "request"), "decision": "allow"},
    )  # fmt: skip
    redeem = {"grant_type": "authorization_code", "code": query(done.headers["location"])["code"],
              "redirect_uri": REDIRECT, "code_verifier": verifier}  # fmt: skip
    tokens = TestClient(two).post("/token", data=redeem, headers=basic("app", SECRET)).json()
    assert decode_unverified(tokens["access_token"])[1]["aud"] == "https://api.example"
    at_two = Browser(TestClient(two))
    at_two.cookies = dict(at_one.cookies)
    assert start(at_two, scope="openid read", resource="https://api.example")[0].status_code == 303
    cors = {"Origin": "https://a_b.x", "Access-Control-Request-Method": "POST"}
    assert TestClient(two).request("OPTIONS", "/token", headers=cors).status_code == 204
    near = {**cors, "Origin": "https://axb.x"}
    assert TestClient(two).request("OPTIONS", "/token", headers=near).status_code == 403
    bye = at_two.request("GET", "/logout", params={"id_token_hint": tokens["id_token"]})
    assert "You are signed out" in bye.text
    refresh = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    refused = TestClient(one).post("/token", data=refresh, headers=basic("app", SECRET))
    assert refused.json()["error"] == "invalid_grant"
    assert svc.accounts.revoke_consent(USER, "app") == (1, 0)
