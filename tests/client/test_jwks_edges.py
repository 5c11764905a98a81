"""Edge cases of the JWKS clients: failed refetches, odd members, odd URLs, odd servers."""

from __future__ import annotations

import asyncio
import json
import logging
import threading

import httpx
import pytest

from jwtkit import Key
from jwtkit._jwks import MAX_KEYS
from jwtkit.client import AsyncJWKSClient, JWKSClient
from jwtkit.client._urls import redirect_target
from jwtkit.errors import JWKSFetchError
from tests.support.client import FakeClock, HTTPTestServer, Reply, Request, jwks_body


def make_client(server: HTTPTestServer, clock: FakeClock, **options: object) -> JWKSClient:
    """Return a JWKSClient on ``server`` with loopback http allowed and a fake clock."""
    return JWKSClient(server.url(), allow_http_loopback=True, clock=clock, **options)  # type: ignore[arg-type]


def test_failed_unknown_kid_refetch_keeps_serving_fresh_keys(
    server: HTTPTestServer, clock: FakeClock, key1: Key
) -> None:
    server.serve_jwks([key1])
    with make_client(server, clock) as client:
        first = client.get_keyset(None)
        server.reply = Reply(status=500)
        clock.advance(30)
        assert client.get_keyset("unknown") is first
        assert server.count == 2


def test_public_part_kept_when_key_ops_allow_verify(
    server: HTTPTestServer, clock: FakeClock, key1: Key, caplog: pytest.LogCaptureFixture
) -> None:
    member = dict(key1.to_jwk(private=True), key_ops=["sign", "verify"])
    server.reply = Reply(body=json.dumps({"keys": [member]}).encode())
    with caplog.at_level(logging.WARNING, logger="jwtkit.client"):
        with make_client(server, clock) as client:
            (key,) = client.get_keyset(None)
    assert not key.has_private
    assert key.key_ops == ("verify",)
    assert "private key material" in caplog.text
    assert member["d"] not in caplog.text


def test_duplicate_kids_keep_the_first(
    server: HTTPTestServer, clock: FakeClock, key1: Key, key2: Key
) -> None:
    members = [key1.public().to_jwk(), key2.public().with_kid("k1").to_jwk()]
    server.reply = Reply(body=json.dumps({"keys": members}).encode())
    with make_client(server, clock) as client:
        (key,) = client.get_keyset(None)
    assert key == key1.public()


def test_keys_without_kid_are_kept(
    server: HTTPTestServer, clock: FakeClock, key1: Key, key2: Key
) -> None:
    members = [key1.public().with_kid(None).to_jwk(), key2.public().to_jwk()]
    server.reply = Reply(body=json.dumps({"keys": members}).encode())
    with make_client(server, clock) as client:
        keyset = client.get_keyset(None)
    assert len(keyset) == 2
    assert keyset.kids == ("k2",)


def test_async_redirect_loop_is_bounded(server: HTTPTestServer, clock: FakeClock) -> None:
    server.reply = Reply(status=302, headers={"Location": "/jwks"})

    async def scenario() -> None:
        async with AsyncJWKSClient(server.url(), allow_http_loopback=True, clock=clock) as client:
            with pytest.raises(JWKSFetchError, match="too many"):
                await client.get_keyset_async(None)

    asyncio.run(scenario())
    assert server.count == 4


def test_member_count_is_capped(server: HTTPTestServer, clock: FakeClock, key1: Key) -> None:
    public = key1.public()
    members = [public.with_kid(f"k{i}").to_jwk() for i in range(MAX_KEYS + 5)]
    server.reply = Reply(body=json.dumps({"keys": members}).encode())
    with make_client(server, clock, max_response_bytes=1 << 20) as client:
        assert len(client.get_keyset(None)) == MAX_KEYS


def test_trickling_body_hits_the_overall_deadline(
    server: HTTPTestServer, clock: FakeClock, key1: Key
) -> None:
    server.reply = Reply(body=jwks_body([key1]), trickle=0.02)
    with make_client(server, clock, timeout=0.3) as client:
        with pytest.raises(JWKSFetchError, match="timed out"):
            client.get_keyset(None)


def test_async_trickling_body_hits_the_overall_deadline(
    server: HTTPTestServer, clock: FakeClock, key1: Key
) -> None:
    server.reply = Reply(body=jwks_body([key1]), trickle=0.02)

    async def scenario() -> None:
        async with AsyncJWKSClient(
            server.url(), allow_http_loopback=True, clock=clock, timeout=0.3
        ) as client:
            with pytest.raises(JWKSFetchError, match="timed out"):
                await client.get_keyset_async(None)

    asyncio.run(scenario())


@pytest.mark.parametrize(
    ("location", "message"),
    # httpx itself refuses an unparsable Location before jwtkit sees it.
    [(None, "without a Location"), ("http://[::1", "RemoteProtocolError")],
    ids=["no-location", "malformed"],
)
def test_bad_redirects_are_refused(
    server: HTTPTestServer, clock: FakeClock, location: str | None, message: str
) -> None:
    server.reply = Reply(status=302, headers={"Location": location} if location else {})
    with make_client(server, clock) as client:
        with pytest.raises(JWKSFetchError, match=message):
            client.get_keyset(None)


def test_redirect_target_refuses_an_unparsable_location() -> None:
    with pytest.raises(JWKSFetchError, match="malformed redirect"):
        redirect_target(httpx.URL("https://issuer.example/jwks"), "https://[::1/jwks")


def test_unexpected_304_is_an_error(server: HTTPTestServer, clock: FakeClock) -> None:
    server.reply = Reply(status=304)
    with make_client(server, clock) as client:
        with pytest.raises(JWKSFetchError, match="HTTP 304"):
            client.get_keyset(None)


def test_localhost_is_loopback(server: HTTPTestServer, clock: FakeClock, key1: Key) -> None:
    server.serve_jwks([key1])
    url = f"http://localhost:{server.port}/jwks"
    with JWKSClient(url, allow_http_loopback=True, clock=clock) as client:
        assert client.get_keyset(None).kids == ("k1",)
        assert repr(client) == f"JWKSClient(url={url!r})"


@pytest.mark.parametrize(
    ("options", "error"),
    [
        ({"cache_ttl": "300"}, TypeError),
        ({"stale_ttl": True}, TypeError),
        ({"max_response_bytes": 1.5}, TypeError),
        ({"timeout": float("inf")}, ValueError),
        ({"timeout": "5"}, TypeError),
    ],
    ids=["ttl-string", "stale-bool", "cap-float", "timeout-inf", "timeout-string"],
)
def test_rejects_wrong_types(options: dict[str, object], error: type[Exception]) -> None:
    with pytest.raises(error):
        JWKSClient("https://issuer.example/jwks", **options)  # type: ignore[arg-type]


def test_rejects_an_unparsable_url() -> None:
    with pytest.raises(ValueError, match="not a valid URL"):
        JWKSClient("https://[::1/jwks")


def test_async_same_origin_redirect_and_caller_client(
    server: HTTPTestServer, clock: FakeClock, key1: Key
) -> None:
    body = jwks_body([key1])

    def respond(request: Request) -> Reply:
        if request.path == "/jwks":
            return Reply(status=308, headers={"Location": "/v2/jwks"})
        return Reply(body=body)

    server.responder = respond

    async def scenario() -> None:
        async with httpx.AsyncClient() as http:
            client = AsyncJWKSClient(
                server.url(), allow_http_loopback=True, clock=clock, http_client=http
            )
            assert (await client.get_keyset_async(None)).kids == ("k1",)
            await client.aclose()
            assert not http.is_closed

    asyncio.run(scenario())
    assert [request.path for request in server.requests] == ["/jwks", "/v2/jwks"]


def test_async_unreachable_issuer(server: HTTPTestServer, clock: FakeClock) -> None:
    server.stop()

    async def scenario() -> None:
        async with AsyncJWKSClient(server.url(), allow_http_loopback=True, clock=clock) as client:
            with pytest.raises(JWKSFetchError, match="ConnectError"):
                await client.get_keyset_async(None)

    asyncio.run(scenario())


def test_cancelled_fetch_leaves_the_cache_untouched(
    server: HTTPTestServer, clock: FakeClock, key1: Key
) -> None:
    gate = threading.Event()
    server.serve_jwks([key1])
    server.reply.gate = gate

    async def scenario() -> None:
        async with AsyncJWKSClient(
            server.url(), allow_http_loopback=True, clock=clock, timeout=10
        ) as client:
            task = asyncio.create_task(client.get_keyset_async(None))
            while not server.first_request.is_set():
                await asyncio.sleep(0.01)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            gate.set()
            # No cooldown was recorded for the cancelled attempt: the next call fetches.
            assert (await client.get_keyset_async(None)).kids == ("k1",)

    try:
        asyncio.run(scenario())
    finally:
        gate.set()
    assert server.count == 2


def test_stale_serving_logs_once_per_failed_attempt(
    server: HTTPTestServer, clock: FakeClock, key1: Key, caplog: pytest.LogCaptureFixture
) -> None:
    server.serve_jwks([key1])
    with make_client(server, clock, cache_ttl=60) as client:
        client.get_keyset(None)
        server.reply = Reply(status=500)
        clock.advance(61)
        with caplog.at_level(logging.WARNING, logger="jwtkit.client"):
            for _ in range(20):
                client.get_keyset("k1")
    messages = [record.getMessage() for record in caplog.records]
    assert len(messages) == 1
    assert "serving the last good keys" in messages[0]
    assert "HTTP 500" in messages[0]


def test_fuzz_cache_control_max_age_in_non_ascii_digits_is_ignored(
    server: HTTPTestServer, clock: FakeClock, key1: Key
) -> None:
    """Issue 19 (fuzzing): str.isdigit() accepts "²", which int() refuses; such a max-age is
    unparsable and ignored, never a ValueError out of the fetch."""
    server.serve_jwks([key1], **{"Cache-Control": "max-age=\u00b2"})
    with JWKSClient(server.url(), allow_http_loopback=True, clock=clock) as client:
        assert client.get_keyset("k1").kids == ("k1",)
