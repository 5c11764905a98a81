"""JWKSClient against a real loopback JWKS server: caching, refetch policy, protections."""

from __future__ import annotations

import json
import secrets
import threading
import time

import httpx
import pytest

from jwtkit import Key, KeySet, Signer, Verifier
from jwtkit.client import JWKSClient
from jwtkit.errors import JWKSFetchError, KeyNotFoundError
from tests.support.client import (
    AUDIENCE,
    ISSUER,
    FakeClock,
    HTTPTestServer,
    Reply,
    Request,
    jwks_body,
)


def make_client(server: HTTPTestServer, clock: FakeClock, **options: object) -> JWKSClient:
    """Return a JWKSClient on ``server`` with loopback http allowed and a fake clock."""
    return JWKSClient(server.url(), allow_http_loopback=True, clock=clock, **options)  # type: ignore[arg-type]


def test_fetches_once_and_returns_the_same_keyset(
    server: HTTPTestServer, clock: FakeClock, key1: Key
) -> None:
    server.serve_jwks([key1])
    with make_client(server, clock) as client:
        first = client.get_keyset(None)
        assert first.kids == ("k1",)
        assert client.get_keyset("k1") is first
        assert client.get_keyset(None) is first
    assert server.count == 1
    assert server.requests[0].headers["accept-encoding"] == "identity"


def test_verifier_takes_a_jwks_client(server: HTTPTestServer, clock: FakeClock, key1: Key) -> None:
    server.serve_jwks([key1])
    token = Signer(key1, issuer=ISSUER, audience=AUDIENCE).sign({"sub": "alice"})
    with make_client(server, clock) as client:
        verifier = Verifier(client, algorithms=["ES256"], issuer=ISSUER, audience=AUDIENCE)
        assert verifier.verify(token)["sub"] == "alice"
        assert verifier.verify(token)["sub"] == "alice"
    assert server.count == 1


def test_unknown_kids_refetch_at_most_once_per_interval(
    server: HTTPTestServer, clock: FakeClock, key1: Key
) -> None:
    server.serve_jwks([key1])
    with make_client(server, clock, min_refetch_interval=30) as client:
        keyset = client.get_keyset("k1")
        for _ in range(50):
            assert client.get_keyset(secrets.token_hex(8)) is keyset
        assert server.count == 1
        clock.advance(31)
        for _ in range(50):
            assert client.get_keyset(secrets.token_hex(8)) is keyset
        assert server.count == 2
        clock.advance(29)
        client.get_keyset(secrets.token_hex(8))
        assert server.count == 2


def test_rotation_is_picked_up_after_the_cooldown(
    server: HTTPTestServer, clock: FakeClock, key1: Key, key2: Key
) -> None:
    server.serve_jwks([key1])
    token = Signer(key2, issuer=ISSUER, audience=AUDIENCE).sign({"sub": "bob"})
    with make_client(server, clock, min_refetch_interval=30) as client:
        verifier = Verifier(client, algorithms=["ES256"], issuer=ISSUER, audience=AUDIENCE)
        with pytest.raises(KeyNotFoundError):
            verifier.verify(token)
        server.serve_jwks([key1, key2])
        # Still inside the cooldown of the first fetch: no new request, still unknown.
        with pytest.raises(KeyNotFoundError):
            verifier.verify(token)
        assert server.count == 1
        clock.advance(30)
        assert verifier.verify(token)["sub"] == "bob"
        assert server.count == 2
        assert set(client.get_keyset("k2").kids) == {"k1", "k2"}


def test_keyset_identity_changes_only_with_the_keys(
    server: HTTPTestServer, clock: FakeClock, key1: Key, key2: Key
) -> None:
    server.serve_jwks([key1])
    with make_client(server, clock, cache_ttl=60) as client:
        first = client.get_keyset(None)
        clock.advance(61)
        assert client.get_keyset(None) is first
        assert server.count == 2
        server.serve_jwks([key2])
        clock.advance(61)
        second = client.get_keyset(None)
        assert second is not first
        assert second.kids == ("k2",)
        assert server.count == 3


@pytest.mark.parametrize(
    ("cache_control", "fresh_for", "refetch_after"),
    [
        ("public, max-age=600", 599, 601),  # honoured
        ("max-age=1", 29, 31),  # raised to the refetch cooldown (30 s)
        ("no-store", 29, 31),  # likewise: never a fetch per token
        ("max-age=999999999", 3599, 3601),  # capped by max_cache_ttl
        ('max-age="bogus"', 299, 301),  # ignored: cache_ttl applies
    ],
    ids=["max-age", "below-floor", "no-store", "above-cap", "unparsable"],
)
def test_cache_control_max_age_is_honoured_within_bounds(
    server: HTTPTestServer,
    clock: FakeClock,
    key1: Key,
    cache_control: str,
    fresh_for: float,
    refetch_after: float,
) -> None:
    server.serve_jwks([key1], **{"Cache-Control": cache_control})
    with make_client(server, clock, cache_ttl=300, max_cache_ttl=3600) as client:
        client.get_keyset(None)
        clock.advance(fresh_for)
        client.get_keyset(None)
        assert server.count == 1
        clock.advance(refetch_after - fresh_for)
        client.get_keyset(None)
        assert server.count == 2


def test_etag_revalidation_keeps_the_keyset(
    server: HTTPTestServer, clock: FakeClock, key1: Key
) -> None:
    body = jwks_body([key1])

    def respond(request: Request) -> Reply:
        if request.headers.get("if-none-match") == '"v1"':
            return Reply(status=304, headers={"ETag": '"v1"', "Cache-Control": "max-age=120"})
        return Reply(body=body, headers={"ETag": '"v1"', "Cache-Control": "max-age=60"})

    server.responder = respond
    with make_client(server, clock) as client:
        first = client.get_keyset(None)
        clock.advance(61)
        assert client.get_keyset(None) is first
        assert server.requests[1].headers["if-none-match"] == '"v1"'
        # The 304's max-age (120 s) now governs freshness.
        clock.advance(119)
        client.get_keyset(None)
        assert server.count == 2


def test_serves_stale_keys_on_500_then_gives_up(
    server: HTTPTestServer, clock: FakeClock, key1: Key
) -> None:
    server.serve_jwks([key1])
    with make_client(server, clock, cache_ttl=60, stale_ttl=600) as client:
        first = client.get_keyset(None)
        server.reply = Reply(status=500, body=b"oops")
        clock.advance(61)
        assert client.get_keyset(None) is first
        assert server.count == 2
        # Failures are retried at most once per cooldown while stale keys are served.
        clock.advance(10)
        assert client.get_keyset("k1") is first
        assert server.count == 2
        clock.advance(580)
        assert client.get_keyset("k1") is first
        assert server.count == 3
        clock.advance(20)
        with pytest.raises(JWKSFetchError, match="stale_ttl"):
            client.get_keyset("k1")


def test_serves_stale_keys_while_the_issuer_is_unreachable(
    server: HTTPTestServer, clock: FakeClock, key1: Key
) -> None:
    server.serve_jwks([key1])
    with make_client(server, clock, cache_ttl=60, stale_ttl=100) as client:
        first = client.get_keyset(None)
        server.stop()
        clock.advance(61)
        assert client.get_keyset(None) is first
        clock.advance(100)
        with pytest.raises(JWKSFetchError) as caught:
            client.get_keyset(None)
        assert caught.value.code == "jwks_fetch_error"


def test_first_fetch_failure_raises_and_waits_for_the_cooldown(
    server: HTTPTestServer, clock: FakeClock, key1: Key
) -> None:
    server.reply = Reply(status=503)
    with make_client(server, clock) as client:
        with pytest.raises(JWKSFetchError, match="HTTP 503"):
            client.get_keyset(None)
        with pytest.raises(JWKSFetchError, match="min_refetch_interval"):
            client.get_keyset(None)
        assert server.count == 1
        server.serve_jwks([key1])
        clock.advance(30)
        assert client.get_keyset(None).kids == ("k1",)
        assert server.count == 2


def test_one_fetch_in_flight_for_concurrent_threads(
    server: HTTPTestServer, clock: FakeClock, key1: Key
) -> None:
    gate = threading.Event()
    server.serve_jwks([key1])
    server.reply.gate = gate
    results: list[KeySet] = []
    errors: list[BaseException] = []
    with make_client(server, clock, timeout=10) as client:

        def worker(kid: str) -> None:
            try:
                results.append(client.get_keyset(kid))
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=worker, args=(f"kid-{i}",)) for i in range(8)]
        for thread in threads:
            thread.start()
        assert server.first_request.wait(10)
        time.sleep(0.2)  # let the other threads reach the lock; correctness does not depend on it
        gate.set()
        for thread in threads:
            thread.join(10)
    assert errors == []
    assert len(results) == 8
    assert all(result is results[0] for result in results)
    assert server.count == 1


@pytest.mark.parametrize(
    ("url", "allow", "message"),
    [
        ("http://example.com/jwks", True, "must use https"),
        ("http://192.0.2.1/jwks", True, "must use https"),
        ("http://127.0.0.1:8080/jwks", False, "allow_http_loopback=True"),
        ("ftp://example.com/jwks", True, "must use https"),
        ("https://user:secret@example.com/jwks", False, "credentials"),
        ("/relative/jwks", False, "absolute URL"),
    ],
    ids=["http-remote", "http-ip", "http-loopback-not-allowed", "ftp", "userinfo", "relative"],
)
def test_refuses_insecure_urls(url: str, allow: bool, message: str) -> None:
    with pytest.raises(ValueError, match=message) as caught:
        JWKSClient(url, allow_http_loopback=allow)
    assert "secret" not in str(caught.value)


@pytest.mark.parametrize(
    "url", ["https://issuer.example/jwks", "http://127.0.0.1:1/jwks", "http://[::1]:1/jwks"]
)
def test_accepts_https_and_opted_in_loopback(url: str) -> None:
    with JWKSClient(url, allow_http_loopback=True) as client:
        assert client.url == url


@pytest.mark.parametrize(
    "options",
    [
        {"cache_ttl": -1},
        {"min_refetch_interval": float("nan")},
        {"timeout": 0},
        {"max_response_bytes": 0},
    ],
    ids=["negative-ttl", "nan-interval", "zero-timeout", "zero-cap"],
)
def test_rejects_nonsense_bounds(options: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        JWKSClient("https://issuer.example/jwks", **options)  # type: ignore[arg-type]


def test_declared_oversized_response_is_refused(
    server: HTTPTestServer, clock: FakeClock, key1: Key
) -> None:
    server.serve_jwks([key1])
    with make_client(server, clock, max_response_bytes=100) as client:
        with pytest.raises(JWKSFetchError, match="max_response_bytes"):
            client.get_keyset(None)


def test_streamed_oversized_response_is_cut_off(server: HTTPTestServer, clock: FakeClock) -> None:
    server.reply = Reply(stream_bytes=8 * 1024 * 1024)
    with make_client(server, clock, max_response_bytes=64 * 1024) as client:
        with pytest.raises(JWKSFetchError, match="max_response_bytes"):
            client.get_keyset(None)


def test_redirect_to_another_origin_is_refused(
    server: HTTPTestServer, other_server: HTTPTestServer, clock: FakeClock, key1: Key
) -> None:
    other_server.serve_jwks([key1])
    server.reply = Reply(status=302, headers={"Location": other_server.url()})
    with make_client(server, clock) as client:
        with pytest.raises(JWKSFetchError, match="another origin"):
            client.get_keyset(None)
    assert other_server.count == 0


def test_same_origin_redirect_is_followed(
    server: HTTPTestServer, clock: FakeClock, key1: Key
) -> None:
    body = jwks_body([key1])

    def respond(request: Request) -> Reply:
        if request.path == "/jwks":
            return Reply(status=301, headers={"Location": "/keys.json"})
        return Reply(body=body)

    server.responder = respond
    with make_client(server, clock) as client:
        assert client.get_keyset(None).kids == ("k1",)
    assert [request.path for request in server.requests] == ["/jwks", "/keys.json"]


def test_redirect_loop_is_bounded(server: HTTPTestServer, clock: FakeClock) -> None:
    server.reply = Reply(status=302, headers={"Location": "/jwks"})
    with make_client(server, clock) as client:
        with pytest.raises(JWKSFetchError, match="too many"):
            client.get_keyset(None)
    assert server.count == 4


def test_slow_issuer_times_out(server: HTTPTestServer, clock: FakeClock, key1: Key) -> None:
    gate = threading.Event()
    server.serve_jwks([key1])
    server.reply.gate = gate
    try:
        with make_client(server, clock, timeout=0.3) as client:
            with pytest.raises(JWKSFetchError, match="timed out"):
                client.get_keyset(None)
    finally:
        gate.set()


def test_malformed_members_are_skipped_and_good_ones_kept(
    server: HTTPTestServer, clock: FakeClock, key1: Key, key2: Key
) -> None:
    good = key1.public().to_jwk()
    broken = dict(good, kid="broken", x="AAAA")
    leaked_private = dict(key2.to_jwk(private=True))
    assert "d" in leaked_private
    members = [
        good,
        broken,
        {"kty": "oct", "kid": "hmac", "k": "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA"},
        dict(good, kid="enc", use="enc"),
        dict(good, kid="signonly", key_ops=["sign"]),
        {"kty": "nonsense", "kid": "alien"},
        "not an object",
        leaked_private,
    ]
    server.reply = Reply(body=json.dumps({"keys": members}).encode())
    with make_client(server, clock) as client:
        keyset = client.get_keyset(None)
    assert sorted(keyset.kids) == ["k1", "k2"]
    assert not any(key.has_private for key in keyset)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"<html>not json</html>", "not valid JSON"),
        (b'{"keys": {"kty": "EC"}}', '"keys" array'),
        (b"[]", '"keys" array'),
        (b'{"keys": [{"kty": "oct", "k": "AAAA"}]}', "no usable"),
        (b"[" * 100000 + b"]" * 100000, "not valid JSON"),
        # Strict JSON (RFC 8725 §3.13, issue 15): two parsers could pick different duplicates.
        (b'{"keys": [], "keys": [{"kty": "EC"}]}', "duplicate member name"),
        (b'{"keys": [{"kty": "EC", "kid": "a", "kid": "b"}]}', "duplicate member name"),
    ],
    ids=[
        "html",
        "keys-not-list",
        "array",
        "nothing-usable",
        "deep-nesting",
        "duplicate-keys-member",
        "duplicate-member-in-a-key",
    ],
)
def test_unusable_documents_are_fetch_errors(
    server: HTTPTestServer, clock: FakeClock, body: bytes, message: str
) -> None:
    server.reply = Reply(body=body)
    with make_client(server, clock, max_response_bytes=1024 * 1024) as client:
        with pytest.raises(JWKSFetchError, match=message):
            client.get_keyset(None)


def test_caller_supplied_http_client_is_used_and_left_open(
    server: HTTPTestServer, clock: FakeClock, key1: Key
) -> None:
    server.serve_jwks([key1])
    with httpx.Client(headers={"User-Agent": "resource-api/1"}) as http:
        client = JWKSClient(server.url(), allow_http_loopback=True, clock=clock, http_client=http)
        assert client.get_keyset(None).kids == ("k1",)
        client.close()
        assert not http.is_closed
    assert server.requests[0].headers["user-agent"] == "resource-api/1"
