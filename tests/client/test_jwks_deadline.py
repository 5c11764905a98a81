"""One total deadline per JWKS fetch, and no decompression past the cap (issue 12, item 5).

The trickling issuer is a real socket server on 127.0.0.1 (plain and TLS): after one good
answer it sends a status line and then one header line per second, for as long as the client
stays. The gzip bomb is real gzip data that inflates to 256 MiB.
"""

from __future__ import annotations

import asyncio
import datetime
import gzip
import ipaddress
import json
import socket
import ssl
import threading
import time
import tracemalloc
import zlib
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from jwtkit import Key, Signer, Verifier
from jwtkit.client import AsyncJWKSClient, JWKSClient
from jwtkit.client._body import CappedBody
from jwtkit.errors import JWKSFetchError
from tests.support.client import ISSUER, FakeClock, HTTPTestServer, Reply, jwks_body


class TricklingIssuer:
    """Answer the first request with a JWKS, then trickle header lines forever."""

    def __init__(self, body: bytes, *, interval: float, tls: ssl.SSLContext | None = None):
        self.body = body
        self.interval = interval
        self.tls = tls
        self.requests = 0
        self.stop = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.1)
        self.port = self._listener.getsockname()[1]
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        try:
            if self.tls is not None:
                conn.settimeout(5)
                conn = self.tls.wrap_socket(conn, server_side=True)
            request = b""
            while b"\r\n\r\n" not in request:
                data = conn.recv(4096)
                if not data:
                    return
                request += data
            self.requests += 1
            if self.requests == 1:
                head = f"HTTP/1.1 200 OK\r\nContent-Length: {len(self.body)}\r\n\r\n"
                conn.sendall(head.encode() + self.body)
                return
            conn.sendall(b"HTTP/1.1 200 OK\r\n")
            line = 0
            while not self.stop.wait(self.interval):
                line += 1
                conn.sendall(f"X-Trickle-{line}: {'x' * 20}\r\n".encode())
        except (OSError, ssl.SSLError):
            return  # the client hung up: that is the point
        finally:
            conn.close()

    def close(self) -> None:
        self.stop.set()
        self._thread.join(timeout=5)
        self._listener.close()


@pytest.fixture
def token_and_body(key1: Key) -> tuple[str, bytes]:
    token = Signer(key1, issuer=ISSUER, audience="api").sign({"sub": "alice"})
    return token, jwks_body([key1])


def _four_verifying_threads(verifier: Verifier, token: str) -> list[float]:
    """Verify ``token`` from four threads at once; return each one's duration."""
    durations: list[float] = []
    lock = threading.Lock()

    def verify() -> None:
        started = time.monotonic()
        assert verifier.verify(token)["sub"] == "alice"
        with lock:
            durations.append(time.monotonic() - started)

    threads = [threading.Thread(target=verify, daemon=True) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return durations


def test_trickled_headers_end_at_the_deadline_and_threads_get_the_stale_keys(
    token_and_body: tuple[str, bytes], clock: FakeClock
) -> None:
    # Issue 12: one header line per second held four verifying threads for 38-40 s.
    token, body = token_and_body
    issuer = TricklingIssuer(body, interval=1.0)
    try:
        url = f"http://127.0.0.1:{issuer.port}/jwks"
        with JWKSClient(url, allow_http_loopback=True, clock=clock, timeout=1.5) as jwks:
            verifier = Verifier(jwks, algorithms=["ES256"], issuer=ISSUER, audience="api")
            assert verifier.verify(token)["sub"] == "alice"
            clock.advance(301)  # the cached keys expired: the next verify refetches
            durations = _four_verifying_threads(verifier, token)
        assert len(durations) == 4  # every thread verified with the stale keys
        # Bounded by the 1.5 s deadline (with room for a shared machine), not by the server,
        # which would trickle for as long as the client listened.
        assert max(durations) < 10, durations
        assert issuer.requests == 2  # one fetch in flight, the other threads waited for it
    finally:
        issuer.close()


def _self_signed(tmp_path: Path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(cert_path, key_path)
    client = ssl.create_default_context(cafile=str(cert_path))
    return server, client


def test_the_deadline_holds_over_tls_with_the_callers_http_client(
    token_and_body: tuple[str, bytes], clock: FakeClock, tmp_path: Path
) -> None:
    token, body = token_and_body
    server_tls, client_tls = _self_signed(tmp_path)
    issuer = TricklingIssuer(body, interval=1.0, tls=server_tls)
    try:
        with httpx.Client(verify=client_tls, timeout=30) as http:
            url = f"https://127.0.0.1:{issuer.port}/jwks"
            jwks = JWKSClient(url, clock=clock, timeout=1.5, http_client=http)
            verifier = Verifier(jwks, algorithms=["ES256"], issuer=ISSUER, audience="api")
            assert verifier.verify(token)["sub"] == "alice"
            clock.advance(301)
            started = time.monotonic()
            keys = jwks.get_keyset(None)  # stale keys, after the deadline
            assert max(_four_verifying_threads(verifier, token), default=99) < 10
        assert time.monotonic() - started < 10
        assert keys.kids == ("k1",)
    finally:
        issuer.close()


def test_async_client_trickled_headers_end_at_the_deadline(
    token_and_body: tuple[str, bytes], clock: FakeClock
) -> None:
    _, body = token_and_body
    issuer = TricklingIssuer(body, interval=0.2)

    async def scenario() -> None:
        url = f"http://127.0.0.1:{issuer.port}/jwks"
        async with AsyncJWKSClient(url, allow_http_loopback=True, clock=clock, timeout=0.6) as c:
            await c.get_keyset_async(None)
            clock.advance(301)
            started = time.monotonic()
            assert (await c.get_keyset_async(None)).kids == ("k1",)
            assert time.monotonic() - started < 10

    try:
        asyncio.run(scenario())
    finally:
        issuer.close()


# -- Content-Encoding -----------------------------------------------------------------------

BOMB_SIZE = 256 * 1024 * 1024


@pytest.fixture(scope="module")
def gzip_bomb() -> bytes:
    """Real gzip data (about 250 KB, under the raw cap) that inflates to 256 MiB of spaces."""
    packer = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    block = b" " * (1024 * 1024)
    parts = [packer.compress(block) for _ in range(BOMB_SIZE // len(block))]
    return b"".join(parts) + packer.flush()


def _client(server: HTTPTestServer, clock: FakeClock) -> JWKSClient:
    return JWKSClient(server.url(), allow_http_loopback=True, clock=clock, timeout=10)


def test_a_gzip_bomb_is_refused_without_inflating_past_the_cap(
    server: HTTPTestServer, clock: FakeClock, gzip_bomb: bytes
) -> None:
    # Issue 12: a 204 KB gzip response raised memory by 129 MiB before the cap was checked.
    assert len(gzip_bomb) < 512 * 1024
    server.reply = Reply(body=gzip_bomb, headers={"Content-Encoding": "gzip"})
    with _client(server, clock) as client:
        tracemalloc.start()
        try:
            with pytest.raises(JWKSFetchError, match="larger than max_response_bytes"):
                client.get_keyset(None)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    # The cap is 512 KiB of decoded bytes; a few MiB covers buffers and the test server.
    assert peak < 8 * 1024 * 1024, peak


def test_async_client_refuses_the_gzip_bomb_too(
    server: HTTPTestServer, clock: FakeClock, gzip_bomb: bytes
) -> None:
    server.reply = Reply(body=gzip_bomb, headers={"Content-Encoding": "gzip"})

    async def scenario() -> int:
        async with AsyncJWKSClient(server.url(), allow_http_loopback=True, clock=clock) as c:
            tracemalloc.start()
            try:
                with pytest.raises(JWKSFetchError, match="larger than max_response_bytes"):
                    await c.get_keyset_async(None)
                return tracemalloc.get_traced_memory()[1]
            finally:
                tracemalloc.stop()

    assert asyncio.run(scenario()) < 8 * 1024 * 1024


@pytest.mark.parametrize(
    ("name", "encode"),
    [("gzip", gzip.compress), ("x-gzip", gzip.compress), ("deflate", zlib.compress),
     ("identity", bytes), ("", bytes)],
)  # fmt: skip
def test_compressed_jwks_within_the_cap_is_read(
    server: HTTPTestServer, clock: FakeClock, key1: Key, name: str, encode: Callable[[bytes], bytes]
) -> None:
    # Some stores (S3 objects uploaded pre-compressed) send gzip whatever was asked for.
    headers = {"Content-Encoding": name} if name else {}
    server.reply = Reply(body=encode(jwks_body([key1])), headers=headers)
    with _client(server, clock) as client:
        assert client.get_keyset(None).kids == ("k1",)
    assert server.requests[0].headers["accept-encoding"] == "identity"


@pytest.mark.parametrize(
    ("encoding", "body", "message"),
    [
        ("br", b"\x8b\x02\x80{}\x03", "Content-Encoding 'br', which is not decoded"),
        ("gzip, gzip", gzip.compress(gzip.compress(b"{}")), "'gzip, gzip', which is not"),
        ("compress", b"x", "'compress', which is not decoded"),
        ("gzip", b"not gzip at all", "not valid compressed data"),
        ("gzip", gzip.compress(json.dumps({"keys": []}).encode())[:-12], "ends inside"),
    ],
    ids=["br", "stacked", "compress", "garbage", "truncated"],
)
def test_foreign_or_broken_encodings_are_refused(
    server: HTTPTestServer, clock: FakeClock, encoding: str, body: bytes, message: str
) -> None:
    server.reply = Reply(body=body, headers={"Content-Encoding": encoding})
    with _client(server, clock) as client:
        with pytest.raises(JWKSFetchError, match=message):
            client.get_keyset(None)


def test_compressed_input_is_capped_on_its_raw_size_too() -> None:
    # Empty deflate blocks inflate to nothing: without a cap on the raw bytes they could
    # stream for as long as the deadline allows.
    packer = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    header = packer.compress(b"") + packer.flush(zlib.Z_FULL_FLUSH)
    empty_block = b"\x00\x00\x00\xff\xff"  # a stored block of no bytes (RFC 1951 §3.2.4)
    reader = CappedBody("gzip", 1000, what="JWKS response")
    reader.feed(header)
    with pytest.raises(JWKSFetchError, match="larger than max_response_bytes"):
        for _ in range(1000):
            reader.feed(empty_block * 10)
    with pytest.raises(JWKSFetchError, match="ends inside"):
        CappedBody("gzip", 1000, what="JWKS response").finish()  # no data at all


def test_the_revocation_checks_refuse_the_gzip_bomb_too(
    server: HTTPTestServer, clock: FakeClock, gzip_bomb: bytes
) -> None:
    # The introspection and revocation-list fetchers read bodies the same way (one core).
    from jwtkit.client import IntrospectionRevocationCheck, RevocationListCheck

    server.reply = Reply(body=gzip_bomb, headers={"Content-Encoding": "gzip"})
    listing = RevocationListCheck(
        server.url(),
        "rs",
        "secret",
        allow_http_loopback=True,
        clock=clock,
        autostart=False,
        max_response_bytes=1 << 20,  # its default cap is 16 MiB: big lists are legitimate
    )
    introspection = IntrospectionRevocationCheck(
        server.url(), "rs", "secret", allow_http_loopback=True, clock=clock
    )
    tracemalloc.start()
    try:
        with pytest.raises(JWKSFetchError, match="larger than max_response_bytes"):
            listing.refresh()
        with pytest.raises(JWKSFetchError, match="larger than max_response_bytes"):
            asyncio.run(introspection({"jti": "j"}, "a.b.c"))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
        listing.close()
        asyncio.run(introspection.aclose())
    assert peak < 8 * 1024 * 1024, peak
