"""RevocationListCheck against a real loopback endpoint serving a revocation list."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import time
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request as StarletteRequest
from starlette.responses import JSONResponse
from starlette.routing import Route

from jwtkit import Key, KeySet, Signer, Verifier
from jwtkit.client import BearerAuthMiddleware, RevocationListCheck
from jwtkit.errors import JWKSFetchError
from tests.support.client import AUDIENCE, ISSUER, FakeClock, HTTPTestServer, Reply, Request

CLIENT_ID = "resource-api"
CLIENT_SECRET = "s3cret:with/odd chars"
EMPTY: dict[str, Any] = {"jti": {}, "families": {}, "subjects": {}}


class ListEndpoint:
    """Make ``server`` a revocation-list endpoint with ETags; tests change ``body``."""

    def __init__(self, server: HTTPTestServer, body: dict[str, Any] | None = None) -> None:
        self.body: dict[str, Any] = body if body is not None else dict(EMPTY)
        self.age = "0"
        self.expected = base64.b64encode(b"resource-api:s3cret%3Awith%2Fodd%20chars").decode()
        server.responder = self.respond

    def respond(self, request: Request) -> Reply:
        if request.headers.get("authorization") != f"Basic {self.expected}":
            return Reply(status=401, body=b'{"error": "invalid_client"}')
        raw = json.dumps(self.body, sort_keys=True).encode()
        etag = '"' + hashlib.sha256(raw).hexdigest()[:16] + '"'
        headers = {"ETag": etag, "Age": self.age}
        if request.headers.get("if-none-match") == etag:
            return Reply(status=304, headers=headers)
        return Reply(body=raw, headers={**headers, "Content-Type": "application/json"})


def check_for(server: HTTPTestServer, clock: FakeClock, **options: Any) -> RevocationListCheck:
    options.setdefault("autostart", False)
    return RevocationListCheck(
        server.url("/revocations"),
        CLIENT_ID,
        options.pop("client_secret", CLIENT_SECRET),
        allow_http_loopback=True,
        clock=clock,
        **options,
    )


def token_claims(**extra: Any) -> dict[str, Any]:
    return {"jti": "j0", "sub": "alice", "client_id": "web", "iat": 1000, "jwtkit_fid": "f0",
            **extra}  # fmt: skip


def test_each_kind_of_entry_revokes(server: HTTPTestServer, clock: FakeClock) -> None:
    ListEndpoint(
        server,
        {
            "jti": {"j1": 2000},
            "families": {"f1": 2000},
            "subjects": {
                "bob": {"before": 1500, "until": 5000},
                "client:billing": {"before": 1500, "until": 5000},
            },
        },
    )
    check = check_for(server, clock)
    try:
        assert check.refresh() is True
        assert not check(token_claims())
        assert check(token_claims(jti="j1"))
        assert check(token_claims(jwtkit_fid="f1"))
        assert check(token_claims(sub="bob"))
        assert not check(token_claims(sub="bob", iat=1500))  # issued at the cut-off second
        assert check(token_claims(client_id="billing"))
        assert check(token_claims(sub="client:billing", client_id="billing"))
        assert check({"sub": "bob"})  # no iat: counts as issued before any cut-off
        assert not check({"jti": ["j1"], "jwtkit_fid": {"f1": 1}})
    finally:
        check.close()


def test_etag_revalidation_and_staleness(server: HTTPTestServer, clock: FakeClock) -> None:
    endpoint = ListEndpoint(server)
    check = check_for(server, clock, interval=1, max_staleness=5)
    try:
        with pytest.raises(JWKSFetchError, match="not available"):
            check(token_claims())
        assert [check.age] == [None]
        check.refresh()
        clock.advance(4)
        assert check.age == 4
        assert check.refresh() is False  # 304
        assert server.requests[-1].headers["if-none-match"].startswith('"')
        assert check.age == 0
        clock.advance(5.5)
        with pytest.raises(JWKSFetchError, match="older than 5 s"):
            check(token_claims())
        endpoint.body = {**EMPTY, "jti": {"j0": 3000}}
        assert check.refresh() is True
        assert check(token_claims())
    finally:
        check.close()


def test_the_issuers_age_counts_against_the_bound(server: HTTPTestServer, clock: FakeClock) -> None:
    endpoint = ListEndpoint(server)
    check = check_for(server, clock, interval=1, max_staleness=5)
    try:
        endpoint.age = "3"
        check.refresh()
        assert check.age == 3
        clock.advance(2.5)
        with pytest.raises(JWKSFetchError, match="older"):
            check(token_claims())
        endpoint.age = "soon"  # not a number: trusted as little as possible
        check.refresh()
        with pytest.raises(JWKSFetchError, match="older"):
            check(token_claims())
    finally:
        check.close()


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (Reply(status=500), "HTTP 500"),
        (Reply(status=302, headers={"Location": "/elsewhere"}), "HTTP 302"),
        (Reply(body=b"not json"), "not a revocation list"),
        (Reply(body=b'{"jti": {}}'), "not a revocation list"),
        (Reply(body=b'{"jti": {"a": "soon"}, "families": {}, "subjects": {}}'), "not a revo"),
        (Reply(body=b'{"jti": {}, "families": {}, "subjects": {"a": 1}}'), "not a revo"),
        (Reply(stream_bytes=300_000), "larger than max_response_bytes"),
    ],
)
def test_bad_answers_keep_the_last_good_list(
    server: HTTPTestServer, clock: FakeClock, reply: Reply, message: str
) -> None:
    ListEndpoint(server, {**EMPTY, "jti": {"j0": 3000}})
    check = check_for(server, clock, max_response_bytes=200_000)
    try:
        check.refresh()
        server.responder = None
        server.reply = reply
        with pytest.raises(JWKSFetchError, match=message):
            check.refresh()
        assert check(token_claims())  # the last good list still answers, until stale
    finally:
        check.close()


def test_wrong_credentials_and_unreachable_endpoint(
    server: HTTPTestServer, clock: FakeClock
) -> None:
    ListEndpoint(server)
    wrong = check_for(server, clock, client_secret="another-secret")
    with pytest.raises(JWKSFetchError, match="HTTP 401"):
        wrong.refresh()
    wrong.close()
    server.stop()
    gone = check_for(server, clock, timeout=1)
    with pytest.raises(JWKSFetchError, match="ConnectError"):
        gone.refresh()
    gone.close()


def test_background_poller_follows_changes(server: HTTPTestServer) -> None:
    endpoint = ListEndpoint(server)
    with RevocationListCheck(
        server.url("/revocations"), CLIENT_ID, CLIENT_SECRET, interval=0.05,
        max_staleness=5, allow_http_loopback=True,
    ) as check:  # fmt: skip
        assert check.wait_ready(10)
        assert not check(token_claims())
        endpoint.body = {**EMPTY, "families": {"f0": 3000}}
        deadline = time.monotonic() + 10
        while not check(token_claims()) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert check(token_claims())
        polls = server.count
    time.sleep(0.2)
    assert server.count <= polls + 1  # stopped with the context


def test_first_check_starts_the_poller(server: HTTPTestServer) -> None:
    ListEndpoint(server)
    check = RevocationListCheck(
        server.url("/revocations"), CLIENT_ID, CLIENT_SECRET, interval=0.05,
        max_staleness=5, allow_http_loopback=True,
    )  # fmt: skip
    try:
        with pytest.raises(JWKSFetchError):
            check(token_claims())
        assert check.wait_ready(10) and not check(token_claims())
    finally:
        check.close()


def test_options_are_checked_and_the_secret_stays_out_of_repr() -> None:
    url = "https://issuer.test/revocations"
    check = RevocationListCheck(url, CLIENT_ID, CLIENT_SECRET, autostart=False)
    assert CLIENT_SECRET not in repr(check) and CLIENT_ID in repr(check)
    check.close()
    bads: list[dict[str, Any]] = [
        {"interval": 0},
        {"interval": 5, "max_staleness": 5},
        {"timeout": -1},
        {"max_response_bytes": 0},
    ]
    for bad in bads:
        with pytest.raises(ValueError):
            RevocationListCheck(url, CLIENT_ID, CLIENT_SECRET, **bad)
    wrongs: list[dict[str, Any]] = [
        {"interval": "2"},
        {"max_staleness": True},
        {"max_response_bytes": 1.5},
    ]
    for wrong in wrongs:
        with pytest.raises(TypeError):
            RevocationListCheck(url, CLIENT_ID, CLIENT_SECRET, **wrong)
    with pytest.raises(ValueError):
        RevocationListCheck("http://issuer.test/revocations", CLIENT_ID, CLIENT_SECRET)
    with pytest.raises(ValueError):
        RevocationListCheck(url, "", CLIENT_SECRET)


def test_middleware_refuses_revoked_tokens_and_fails_closed_when_stale(
    server: HTTPTestServer, clock: FakeClock
) -> None:
    key = Key.generate("ES256", kid="k1")
    signer = Signer(key, issuer=ISSUER, audience=AUDIENCE)
    verifier = Verifier(KeySet([key.public()]), algorithms=["ES256"], issuer=ISSUER,
                        audience=AUDIENCE)  # fmt: skip
    endpoint = ListEndpoint(server)
    check = check_for(server, clock, max_staleness=10)
    check.refresh()

    async def me(request: StarletteRequest) -> JSONResponse:
        return JSONResponse({"sub": request.state.jwt_claims["sub"]})

    app = BearerAuthMiddleware(Starlette(routes=[Route("/me", me)]), verifier, is_revoked=check)
    good = signer.sign({"sub": "alice", "jwtkit_fid": "f-good"})
    bad = signer.sign({"sub": "alice", "jwtkit_fid": "f-bad"})

    async def call(token: str) -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as http:
            return await http.get("/me", headers={"Authorization": f"Bearer {token}"})

    try:
        assert asyncio.run(call(bad)).status_code == 200
        endpoint.body = {**EMPTY, "families": {"f-bad": 4_000_000_000}}
        check.refresh()
        refused = asyncio.run(call(bad))
        assert refused.status_code == 401
        assert "was revoked" in refused.headers["www-authenticate"]
        assert asyncio.run(call(good)).status_code == 200
        clock.advance(11)
        stale = asyncio.run(call(good))
        assert stale.status_code == 503 and stale.headers["retry-after"]
    finally:
        check.close()
