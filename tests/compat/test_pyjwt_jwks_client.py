"""PyJWKClient: PyJWT's urllib transport over jwtkit's JWKS rules and cache policy (issue 16).

A real HTTP server on loopback serves the JWKS and counts requests, so the fetches, the
cache lifetime and the unknown-kid cooldown are observed over real sockets.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

import jwtkit.compat.pyjwt as jwt
from tests.support.pyjwt import CLAIMS, JWKSServer, b64, private_key, public_key


@pytest.fixture
def server() -> Iterator[JWKSServer]:
    srv = JWKSServer()
    try:
        yield srv
    finally:
        srv.stop()


def _jwk(alg: str, kid: str, **extra: Any) -> dict[str, Any]:
    jwk = jwt.algorithms.get_default_algorithms()[alg].to_jwk(public_key(alg), as_dict=True)
    jwk.pop("key_ops", None)
    return {**jwk, "kid": kid, "alg": alg, "use": "sig", **extra}


def test_signing_key_from_jwt_verifies_the_token(server: JWKSServer) -> None:
    server.serve({"keys": [_jwk("RS256", "r1"), _jwk("ES256", "e1")]})
    client = jwt.PyJWKClient(server.url)
    for alg, kid in (("RS256", "r1"), ("ES256", "e1")):
        token = jwt.encode(CLAIMS, private_key(alg), algorithm=alg, headers={"kid": kid})
        key = client.get_signing_key_from_jwt(token)
        assert key.key_id == kid
        assert jwt.decode(token, key, algorithms=[alg]) == CLAIMS
        assert jwt.decode(token, key.key, algorithms=[alg]) == CLAIMS
    assert server.requests == 1  # the set is cached for `lifespan`


def test_jwtkits_jwks_rules_apply(server: JWKSServer) -> None:
    """Symmetric and encryption keys never become signing keys; private members are dropped."""
    private = jwt.algorithms.RSAAlgorithm.to_jwk(private_key("RS256"), as_dict=True)
    private.pop("key_ops")
    server.serve(
        {
            "keys": [
                {"kty": "oct", "k": b64(b"s" * 32).decode(), "kid": "hmac", "alg": "HS256"},
                _jwk("ES256", "enc", use="enc"),
                {**private, "kid": "leaked", "alg": "RS256"},
            ]
        }
    )
    client = jwt.PyJWKClient(server.url)
    keys = client.get_signing_keys()
    assert [k.key_id for k in keys] == ["leaked"]
    assert not keys[0]._jwtkit_key().has_private
    with pytest.raises(jwt.PyJWKClientError, match="matches"):
        client.get_signing_key("hmac")


def test_unknown_kid_refetches_only_after_the_cooldown(server: JWKSServer) -> None:
    server.serve({"keys": [_jwk("ES256", "old")]})
    client = jwt.PyJWKClient(server.url, cooldown_duration=0.3)
    assert client.get_signing_key("old").key_id == "old"
    server.serve({"keys": [_jwk("ES256", "old"), _jwk("RS256", "new")]})
    with pytest.raises(jwt.PyJWKClientError, match="matches"):
        client.get_signing_key("new")  # inside the cooldown: no fetch
    assert server.requests == 1
    time.sleep(0.35)
    assert client.get_signing_key("new").key_id == "new"
    assert server.requests == 2
    with pytest.raises(jwt.PyJWKClientError):
        client.get_signing_key("random-kid")  # just fetched: no new fetch for a random kid
    assert server.requests == 2


def test_the_cache_expires_after_lifespan(server: JWKSServer) -> None:
    server.serve({"keys": [_jwk("ES256", "k")]})
    client = jwt.PyJWKClient(server.url, lifespan=0.2)
    client.get_jwk_set()
    client.get_jwk_set()
    assert server.requests == 1
    time.sleep(0.25)
    client.get_jwk_set()
    assert server.requests == 2
    uncached = jwt.PyJWKClient(server.url, cache_jwk_set=False)
    uncached.get_jwk_set()
    uncached.get_jwk_set()
    assert server.requests == 4


def test_redirects_and_errors_are_connection_errors(server: JWKSServer) -> None:
    server.status, server.location = 302, "http://127.0.0.1:9/elsewhere"
    with pytest.raises(jwt.PyJWKClientConnectionError):
        jwt.PyJWKClient(server.url).get_jwk_set()
    server.status, server.location = 500, ""
    with pytest.raises(jwt.PyJWKClientConnectionError):
        jwt.PyJWKClient(server.url).get_jwk_set()
    server.status, server.body = 200, b"[1, 2]"
    with pytest.raises(jwt.PyJWKClientError, match="JSON object"):
        jwt.PyJWKClient(server.url).get_jwk_set()
    with pytest.raises(jwt.PyJWKClientError, match="scheme"):
        jwt.PyJWKClient("file:///etc/passwd")


def test_a_failed_refresh_keeps_the_cached_set(server: JWKSServer) -> None:
    server.serve({"keys": [_jwk("ES256", "k")]})
    client = jwt.PyJWKClient(server.url)
    first = client.get_jwk_set()
    server.status = 503
    with pytest.raises(jwt.PyJWKClientConnectionError):
        client.get_jwk_set(refresh=True)
    assert client.get_jwk_set() is first
    assert client.jwk_set_cache is not None and client.jwk_set_cache.get() is first


def test_a_failed_fetch_starts_the_cooldown(server: JWKSServer) -> None:
    """Unlike PyJWT, an unreachable issuer is not asked again for every unknown kid."""
    server.serve({"keys": [_jwk("ES256", "k")]})
    client = jwt.PyJWKClient(server.url, cooldown_duration=0.3)
    client.get_jwk_set()
    time.sleep(0.35)  # the cooldown after the successful fetch is over
    server.status = 503
    with pytest.raises(jwt.PyJWKClientConnectionError):
        client.get_jwk_set(refresh=True)
    assert server.requests == 2
    for _ in range(3):
        with pytest.raises(jwt.PyJWKClientError, match="matches"):
            client.get_signing_key("unknown")
    assert server.requests == 2


def test_a_jwks_with_duplicate_members_is_refused(server: JWKSServer) -> None:
    """The body goes through jwtkit's strict JSON parser: RFC 8725 §3.13, issue 15."""
    member = json.dumps(_jwk("ES256", "k"))
    server.body = f'{{"keys": [{member}], "keys": []}}'.encode()
    with pytest.raises(jwt.PyJWKClientError, match="duplicate member name"):
        jwt.PyJWKClient(server.url).get_jwk_set()
    server.body = f'{{"keys": [{member[:-1]}, "kid": "other"}}]}}'.encode()
    with pytest.raises(jwt.PyJWKClientError, match="duplicate member name"):
        jwt.PyJWKClient(server.url).get_jwk_set()
    server.serve({"keys": [_jwk("ES256", "k")]})
    assert jwt.PyJWKClient(server.url).get_jwk_set().keys[0].key_id == "k"


@pytest.fixture
def trickling() -> Iterator[tuple[str, list[str]]]:
    """A loopback server that sends its answer one line or byte every 0.2 s, for 20 s."""
    phases: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            try:
                if phases[0] == "headers":
                    self.wfile.write(b"HTTP/1.1 200 OK\r\n")
                    for line in range(100):
                        self.wfile.write(f"X-Trickle-{line}: x\r\n".encode())
                        self.wfile.flush()
                        time.sleep(0.2)
                else:
                    self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")
                    for _ in range(100):
                        self.wfile.write(b" ")
                        self.wfile.flush()
                        time.sleep(0.2)
            except OSError:
                return  # the client hung up at its deadline: that is the point

        def log_message(self, format: str, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    httpd.block_on_close = False
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02})
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/jwks", phases
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


@pytest.mark.parametrize("phase", ["headers", "body"])
def test_timeout_bounds_the_whole_exchange(trickling: tuple[str, list[str]], phase: str) -> None:
    """PyJWT's timeout bounds each socket read, so a server sending a byte every 0.2 s held
    the caller for as long as it liked; here ``timeout`` is one deadline for the exchange."""
    url, phases = trickling
    phases.append(phase)
    client = jwt.PyJWKClient(url, timeout=1)
    started = time.monotonic()
    with pytest.raises(jwt.PyJWKClientConnectionError, match="timed out"):
        client.get_jwk_set()
    # Bounded by the 1 s deadline (with room for a shared machine), not by the 20 s trickle.
    assert time.monotonic() - started < 8
