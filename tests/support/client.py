"""Test helpers for jwtkit.client: a real loopback HTTP server and a fake clock.

The server is a real ``ThreadingHTTPServer`` on 127.0.0.1; tests switch what it answers and
count what it receives, so the JWKS client is exercised over real sockets, never mocked.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from jwtkit import Key, KeySet

ISSUER = "https://issuer.test"
AUDIENCE = "api"


@dataclass
class Reply:
    """One canned HTTP answer."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    #: When set, the handler waits for this event before answering (a slow issuer).
    gate: threading.Event | None = None
    #: When > 0, stream this many bytes of filler without a Content-Length (an oversized body).
    stream_bytes: int = 0
    #: When > 0, send the body one byte at a time with this many seconds between bytes.
    trickle: float = 0.0


@dataclass(frozen=True)
class Request:
    """What the server received."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


Responder = Callable[[Request], Reply]


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        request = Request(
            self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body
        )
        reply = self.server.owner.record(request)
        if reply.gate is not None:
            reply.gate.wait(10)
        try:
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            if reply.stream_bytes:
                self.end_headers()
                chunk = b" " * 65536
                for _ in range(0, reply.stream_bytes, len(chunk)):
                    self.wfile.write(chunk)
                return
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            if reply.trickle:
                for index in range(len(reply.body)):
                    self.wfile.write(reply.body[index : index + 1])
                    self.wfile.flush()
                    time.sleep(reply.trickle)
                return
            self.wfile.write(reply.body)
        except (BrokenPipeError, ConnectionResetError):
            # The client stopped reading on purpose (size cap, timeout): nothing to do.
            return

    def do_GET(self) -> None:
        """Answer a GET with the server's current reply."""
        self._serve()

    def do_POST(self) -> None:
        """Answer a POST with the server's current reply."""
        self._serve()

    def log_message(self, format: str, *args: object) -> None:
        """Keep test output quiet."""
        return


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: HTTPTestServer


class HTTPTestServer:
    """A loopback HTTP server whose answers tests switch and whose requests tests count."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: list[Request] = []
        self.reply = Reply(status=404)
        self.responder: Responder | None = None
        self.first_request = threading.Event()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.owner = self
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()
        self.stopped = False

    @property
    def port(self) -> int:
        """The TCP port the server listens on."""
        return int(self._server.server_address[1])

    def url(self, path: str = "/jwks") -> str:
        """Return the http://127.0.0.1 URL of ``path`` on this server."""
        return f"http://127.0.0.1:{self.port}{path}"

    @property
    def count(self) -> int:
        """How many requests the server has received."""
        with self._lock:
            return len(self.requests)

    def record(self, request: Request) -> Reply:
        """Remember ``request`` and pick the reply for it."""
        with self._lock:
            self.requests.append(request)
            responder, reply = self.responder, self.reply
        self.first_request.set()
        return responder(request) if responder is not None else reply

    def serve_jwks(self, keys: Iterable[Key], **headers: str) -> None:
        """Answer every request with a JWKS of the public halves of ``keys``."""
        body = jwks_body(keys)
        self.reply = Reply(body=body, headers={"Content-Type": "application/json", **headers})

    def stop(self) -> None:
        """Stop listening (the port then refuses connections)."""
        if not self.stopped:
            self.stopped = True
            self._server.shutdown()
            self._server.server_close()


def jwks_body(keys: Iterable[Key]) -> bytes:
    """Return the JSON JWKS of the public halves of ``keys``."""
    return json.dumps(KeySet([key.public() for key in keys]).to_jwks()).encode()


class FakeClock:
    """A monotonic clock the test moves by hand (``JWKSClient(clock=...)``)."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move the clock forward by ``seconds``."""
        self.now += seconds
