"""AsyncJWKSClient and AsyncVerifier against a real loopback JWKS server."""

from __future__ import annotations

import asyncio
import secrets
import threading

import pytest

from jwtkit import Key, Signer
from jwtkit.client import AsyncJWKSClient, AsyncVerifier
from jwtkit.errors import (
    ExpiredTokenError,
    JWKSFetchError,
    KeyNotFoundError,
    MalformedTokenError,
    UnsupportedAlgorithmError,
)
from tests.support.client import AUDIENCE, ISSUER, FakeClock, HTTPTestServer, Reply


def make_client(server: HTTPTestServer, clock: FakeClock, **options: object) -> AsyncJWKSClient:
    """Return an AsyncJWKSClient on ``server`` with loopback http allowed and a fake clock."""
    return AsyncJWKSClient(server.url(), allow_http_loopback=True, clock=clock, **options)  # type: ignore[arg-type]


def test_fetches_once_and_caches(server: HTTPTestServer, clock: FakeClock, key1: Key) -> None:
    server.serve_jwks([key1])

    async def scenario() -> None:
        async with make_client(server, clock) as client:
            first = await client.get_keyset_async(None)
            assert first.kids == ("k1",)
            assert await client.get_keyset_async("k1") is first
            for _ in range(20):
                assert await client.get_keyset_async(secrets.token_hex(8)) is first

    asyncio.run(scenario())
    assert server.count == 1


def test_one_fetch_in_flight_for_concurrent_tasks(
    server: HTTPTestServer, clock: FakeClock, key1: Key
) -> None:
    gate = threading.Event()
    server.serve_jwks([key1])
    server.reply.gate = gate

    async def scenario() -> None:
        async with make_client(server, clock, timeout=10) as client:
            tasks = [asyncio.create_task(client.get_keyset_async(f"kid-{i}")) for i in range(10)]
            while not server.first_request.is_set():
                await asyncio.sleep(0.01)
            gate.set()
            results = await asyncio.gather(*tasks)
            assert all(result is results[0] for result in results)

    try:
        asyncio.run(scenario())
    finally:
        gate.set()
    assert server.count == 1


def test_stale_keys_then_failure(server: HTTPTestServer, clock: FakeClock, key1: Key) -> None:
    server.serve_jwks([key1])

    async def scenario() -> None:
        async with make_client(server, clock, cache_ttl=60, stale_ttl=120) as client:
            first = await client.get_keyset_async(None)
            server.reply = Reply(status=502)
            clock.advance(61)
            assert await client.get_keyset_async(None) is first
            clock.advance(120)
            with pytest.raises(JWKSFetchError, match="stale_ttl"):
                await client.get_keyset_async(None)

    asyncio.run(scenario())
    assert server.count == 3


def test_refuses_redirect_to_another_origin(
    server: HTTPTestServer, other_server: HTTPTestServer, clock: FakeClock, key1: Key
) -> None:
    other_server.serve_jwks([key1])
    server.reply = Reply(status=307, headers={"Location": other_server.url()})

    async def scenario() -> None:
        async with make_client(server, clock) as client:
            with pytest.raises(JWKSFetchError, match="another origin"):
                await client.get_keyset_async(None)

    asyncio.run(scenario())
    assert other_server.count == 0


def test_cuts_off_an_oversized_body(server: HTTPTestServer, clock: FakeClock) -> None:
    server.reply = Reply(stream_bytes=8 * 1024 * 1024)

    async def scenario() -> None:
        async with make_client(server, clock, max_response_bytes=32 * 1024) as client:
            with pytest.raises(JWKSFetchError, match="max_response_bytes"):
                await client.get_keyset_async(None)

    asyncio.run(scenario())


def test_times_out_on_a_slow_issuer(server: HTTPTestServer, clock: FakeClock, key1: Key) -> None:
    gate = threading.Event()
    server.serve_jwks([key1])
    server.reply.gate = gate

    async def scenario() -> None:
        async with make_client(server, clock, timeout=0.3) as client:
            with pytest.raises(JWKSFetchError, match=r"timed out|Timeout"):
                await client.get_keyset_async(None)

    try:
        asyncio.run(scenario())
    finally:
        gate.set()


def test_refuses_plain_http_to_a_remote_host() -> None:
    with pytest.raises(ValueError, match="must use https"):
        AsyncJWKSClient("http://example.com/jwks", allow_http_loopback=True)


def test_async_verifier_verifies_and_follows_rotation(
    server: HTTPTestServer, clock: FakeClock, key1: Key, key2: Key
) -> None:
    server.serve_jwks([key1])
    old = Signer(key1, issuer=ISSUER, audience=AUDIENCE).sign({"sub": "alice"})
    new = Signer(key2, issuer=ISSUER, audience=AUDIENCE).sign({"sub": "bob"})

    async def scenario() -> None:
        async with make_client(server, clock) as client:
            verifier = AsyncVerifier(client, algorithms=["ES256"], issuer=ISSUER, audience=AUDIENCE)
            assert (await verifier.verify_async(old))["sub"] == "alice"
            with pytest.raises(KeyNotFoundError):
                await verifier.verify_async(new)
            server.serve_jwks([key1, key2])
            clock.advance(30)
            assert (await verifier.verify_async(new))["sub"] == "bob"
            assert (await verifier.verify_async(old))["sub"] == "alice"
            with pytest.raises(MalformedTokenError):
                await verifier.verify_async("not-a-token")
            expired = Signer(key1, issuer=ISSUER, audience=AUDIENCE, lifetime=60).sign(
                {"sub": "alice"}, now=1_000_000
            )
            with pytest.raises(ExpiredTokenError):
                await verifier.verify_async(expired)

    asyncio.run(scenario())
    assert server.count == 2


def test_async_verifier_checks_its_options_at_construction(
    server: HTTPTestServer, clock: FakeClock
) -> None:
    async def scenario() -> None:
        async with make_client(server, clock) as client:
            with pytest.raises(TypeError):
                AsyncVerifier(client, algorithms="ES256")
            with pytest.raises(UnsupportedAlgorithmError):
                AsyncVerifier(client, algorithms=["none"])
            with pytest.raises(ValueError):
                AsyncVerifier(client, algorithms=[])

    asyncio.run(scenario())


def test_created_outside_the_event_loop(
    server: HTTPTestServer, clock: FakeClock, key1: Key
) -> None:
    server.serve_jwks([key1])
    client = make_client(server, clock)  # as at import time, before any loop runs

    async def scenario() -> None:
        async with client:
            results = await asyncio.gather(*(client.get_keyset_async(None) for _ in range(5)))
            assert all(result is results[0] for result in results)

    asyncio.run(scenario())
    assert server.count == 1
