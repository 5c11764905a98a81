"""The slow-client guard (jwtkit.server._guard) on real uvicorn servers, with both of
uvicorn's HTTP implementations: header and body timeouts, and the connection limit.

Issue 10: partial-header connections were never timed out (300 of 300 open after 60 s).
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from starlette.applications import Starlette

from jwtkit.keys import KeyManager, generate_master_key
from jwtkit.server._guard import guarded_protocol
from tests.support.server import LiveServer, ServiceProcess, service_env

HEAD = b"GET /healthz HTTP/1.1\r\nHost: testserver\r\n"
TIMEOUT = 0.4


@contextmanager
def guarded_server(
    make_app: Callable[..., Starlette], http: str, **limits: float
) -> Iterator[tuple[str, int]]:
    protocol = guarded_protocol(
        header_timeout=limits.get("header_timeout", TIMEOUT),
        body_timeout=limits.get("body_timeout", TIMEOUT),
        max_connections=int(limits.get("max_connections", 1000)),
        http=http,
    )
    with LiveServer(make_app(), http=protocol) as server:
        host, port = server.url.removeprefix("http://").split(":")
        yield host, int(port)


def read_all(sock: socket.socket, timeout: float = 10.0) -> bytes:
    """Read until the server closes the connection (fails if it does not within timeout)."""
    sock.settimeout(timeout)
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


@pytest.fixture(params=["h11", "httptools"])
def http(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_a_partial_head_is_answered_408_and_closed(
    make_app: Callable[..., Starlette], http: str
) -> None:
    with guarded_server(make_app, http) as address:
        silent = socket.create_connection(address)
        partial = socket.create_connection(address)
        partial.sendall(HEAD)
        start = time.monotonic()
        answer = read_all(partial)
        assert answer.startswith(b"HTTP/1.1 408 Request Timeout\r\n")
        assert time.monotonic() - start >= TIMEOUT * 0.9
        assert read_all(silent).startswith(b"HTTP/1.1 408")
        partial.close()
        silent.close()


def test_a_slow_but_timely_head_and_keep_alive_work(
    make_app: Callable[..., Starlette], http: str
) -> None:
    with guarded_server(make_app, http, header_timeout=1.5) as address:
        sock = socket.create_connection(address)
        sock.settimeout(10)
        for piece in (b"GET /healthz HTTP/1.1\r\n", b"Host: testserver\r\n", b"\r\n"):
            sock.sendall(piece)
            time.sleep(0.1)
        assert sock.recv(65536).startswith(b"HTTP/1.1 200")
        # The next request on the connection gets the timeout afresh; a partial one ends.
        sock.sendall(HEAD + b"\r\n")
        assert sock.recv(65536).startswith(b"HTTP/1.1 200")
        sock.sendall(HEAD)
        assert b"408 Request Timeout" in read_all(sock)
        sock.close()


def test_a_body_that_does_not_arrive_in_time_closes_the_connection(
    make_app: Callable[..., Starlette], http: str
) -> None:
    with guarded_server(make_app, http, header_timeout=5.0) as address:
        sock = socket.create_connection(address)
        sock.sendall(
            b"POST /token HTTP/1.1\r\nHost: testserver\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\n"
            b"grant_type="
        )
        start = time.monotonic()
        read_all(sock)
        assert TIMEOUT * 0.9 <= time.monotonic() - start < 4.0
        sock.close()


def test_connections_past_the_limit_get_503_with_retry_after(
    make_app: Callable[..., Starlette], http: str
) -> None:
    with guarded_server(make_app, http, header_timeout=30.0, max_connections=5) as address:
        held = [socket.create_connection(address) for _ in range(5)]
        refused = socket.create_connection(address)
        answer = read_all(refused)
        assert answer.startswith(b"HTTP/1.1 503 Service Unavailable\r\n")
        assert b"\r\nretry-after: 1\r\n" in answer
        refused.close()
        held.pop().close()
        time.sleep(0.2)
        ok = socket.create_connection(address)
        ok.sendall(HEAD + b"\r\n")
        ok.settimeout(10)
        assert ok.recv(65536).startswith(b"HTTP/1.1 200")
        for sock in [*held, ok]:
            sock.close()


def test_many_partial_connections_are_all_closed(make_app: Callable[..., Starlette]) -> None:
    """A small version of benchmarks/slow_clients.py (300 connections, the default timeout)."""
    with guarded_server(make_app, "auto") as address:
        socks = [socket.create_connection(address) for _ in range(60)]
        for sock in socks:
            sock.sendall(HEAD)
        assert all(read_all(sock).startswith(b"HTTP/1.1 408") for sock in socks)
        for sock in socks:
            sock.close()


def test_jwtkit_serve_applies_the_configured_header_timeout(tmp_path: object) -> None:
    store = f"sqlite:///{tmp_path}/jwtkit.db"
    master_key = generate_master_key()
    with KeyManager.open(store, master_key=master_key) as km:
        km.active_key()
    env = service_env(store, master_key, "http://id.test", JWTKIT_HEADER_TIMEOUT="0.5")
    child = ServiceProcess(env)
    try:
        host, port = child.wait_ready().removeprefix("http://").split(":")
        sock = socket.create_connection((host, int(port)))
        sock.sendall(HEAD)
        assert read_all(sock).startswith(b"HTTP/1.1 408")
        sock.close()
    finally:
        child.stop()
