"""A guard against slow and piled-up clients, in uvicorn's HTTP protocol (issue 10).

uvicorn has no request-header timeout (uvicorn issue #157): a client that opens a connection
and sends part of a request head holds it, and the memory behind it, for ever. 300 of 300
such connections were still open after 60 s. :func:`guarded_protocol` subclasses uvicorn's
protocol class (h11 or httptools, whichever uvicorn would pick) with three limits:

- **header timeout**: a request head must be complete within ``header_timeout`` seconds of
  the moment the connection was ready for it (opened, or the previous response sent);
  otherwise the guard answers ``408`` and closes the connection;
- **body timeout**: the body must then be complete within ``body_timeout`` seconds (unless
  the answer has already started); otherwise the connection is closed;
- **connection limit**: past ``max_connections`` open connections in this process a new one
  is answered ``503`` with ``Retry-After`` and closed at once.

It costs one timer per request on the event loop, so the server keeps its speed (uvloop,
httptools, several workers: each worker process guards its own connections). The guard
relies on two attributes both uvicorn protocols have kept for years: ``cycle`` (the current
request, with ``more_body``, ``response_started``, ``response_complete``) and
``connections``; ``tests/server/test_guard.py`` checks both implementations.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, Final

__all__ = ["ensure_file_limit", "guarded_protocol"]

logger = logging.getLogger("jwtkit.server")


def _canned(status: str, error: str, description: str, extra: str = "") -> bytes:
    body = f'{{"error":"{error}","error_description":"{description}"}}'.encode()
    head = (
        f"HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncache-control: no-store\r\n"
        f"{extra}connection: close\r\ncontent-length: {len(body)}\r\n\r\n"
    )
    return head.encode("ascii") + body


TIMED_OUT: Final = _canned(
    "408 Request Timeout", "invalid_request", "the request did not arrive in time"
)
TOO_MANY: Final = _canned(
    "503 Service Unavailable",
    "temporarily_unavailable",
    "too many connections; retry later",
    "retry-after: 1\r\n",
)
_WARN_EVERY: Final = 10.0


class _Guard:
    """Mixin over a uvicorn HTTP protocol class; see the module docstring."""

    header_timeout: float
    body_timeout: float
    max_connections: int
    _last_warning: float = float("-inf")

    # Attributes of the uvicorn protocol this is mixed into.
    cycle: Any
    connections: set[Any]
    loop: asyncio.AbstractEventLoop
    transport: asyncio.Transport

    _guard_timer: asyncio.TimerHandle | None = None
    _guard_phase: str | None = None
    _guard_cycle: Any = None
    _guard_refused = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)  # type: ignore[misc]
        if len(self.connections) > self.max_connections:
            self._guard_refused = True
            self._warn_full()
            self.transport.write(TOO_MANY)
            self.transport.close()
            return
        self._guard_arm("head", self.header_timeout)

    def data_received(self, data: bytes) -> None:
        if self._guard_refused:
            return
        super().data_received(data)  # type: ignore[misc]
        self._guard_progress()

    def on_response_complete(self) -> None:
        super().on_response_complete()  # type: ignore[misc]
        self._guard_progress()

    def connection_lost(self, exc: Exception | None) -> None:
        self._guard_arm(None, 0.0)
        super().connection_lost(exc)  # type: ignore[misc]

    def _guard_progress(self) -> None:
        """Move the timer along with the request: head, body, answer, next head."""
        if self.transport is None or self.transport.is_closing():
            self._guard_arm(None, 0.0)
            return
        cycle = self.cycle
        if cycle is not None and cycle is not self._guard_cycle:
            # A request head is complete: now its body, if one is still coming.
            self._guard_cycle = cycle
            if cycle.more_body:
                self._guard_arm("body", self.body_timeout)
            else:
                self._guard_arm(None, 0.0)
        elif self._guard_phase == "body" and cycle is not None and not cycle.more_body:
            self._guard_arm(None, 0.0)
        if self._guard_phase is None and (cycle is None or cycle.response_complete):
            # Answered: the next request's head has header_timeout to arrive.
            self._guard_arm("head", self.header_timeout)

    def _guard_arm(self, phase: str | None, seconds: float) -> None:
        if self._guard_timer is not None:
            self._guard_timer.cancel()
            self._guard_timer = None
        self._guard_phase = phase
        if phase is not None:
            self._guard_timer = self.loop.call_later(seconds, self._guard_expired)

    def _guard_expired(self) -> None:
        self._guard_timer = None
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        if self._guard_phase == "head":
            cycle = self.cycle
            if cycle is None or cycle.response_complete:
                transport.write(TIMED_OUT)
            transport.close()
        elif self._guard_phase == "body" and not self.cycle.response_started:
            transport.close()
        self._guard_phase = None

    def _warn_full(self) -> None:
        now = time.monotonic()
        if now - _Guard._last_warning >= _WARN_EVERY:
            _Guard._last_warning = now
            logger.warning(
                "connection limit (%d) reached: refusing new connections with 503",
                self.max_connections,
            )


def guarded_protocol(
    *,
    header_timeout: float,
    body_timeout: float,
    max_connections: int,
    http: str = "auto",
) -> type[asyncio.Protocol]:
    """Return uvicorn's HTTP protocol class ``http`` ("auto", "h11", "httptools") with the
    guard; pass it as ``uvicorn.Config(http=...)``.

    Raises:
        ValueError: ``http`` names no protocol uvicorn has, or httptools is not installed.
    """
    base: type[asyncio.Protocol]
    if http == "auto":
        from uvicorn.protocols.http.auto import AutoHTTPProtocol

        base = AutoHTTPProtocol
    elif http == "h11":
        from uvicorn.protocols.http.h11_impl import H11Protocol

        base = H11Protocol
    elif http == "httptools":
        try:
            from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
        except ImportError:
            raise ValueError("http='httptools' needs the httptools package") from None
        base = HttpToolsProtocol
    else:
        raise ValueError(f"unknown HTTP implementation {http!r} (auto, h11, httptools)")
    attributes = {
        "header_timeout": float(header_timeout),
        "body_timeout": float(body_timeout),
        "max_connections": int(max_connections),
    }
    return type(f"Guarded{base.__name__}", (_Guard, base), attributes)


def ensure_file_limit(max_connections: int, *, spare: int = 128) -> int:
    """Raise this process's open-file limit so ``max_connections`` fit; return how many do.

    Each connection is a file descriptor. When the hard limit is too low the connection limit
    would never be reached (``accept`` fails first), so the number that fits is returned and
    a warning logged.
    """
    try:
        import resource
    except ImportError:  # pragma: no cover - not on Windows
        return max_connections
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = max_connections + spare
    if soft != resource.RLIM_INFINITY and soft < need:
        target = need if hard == resource.RLIM_INFINITY else min(need, hard)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass
    if soft != resource.RLIM_INFINITY and soft < need:
        fits = max(1, soft - spare)
        logger.warning(
            "the open-file limit (%d) fits %d connections, not %d: the limit is %d",
            soft,
            fits,
            max_connections,
            fits,
        )
        return fits
    return max_connections
