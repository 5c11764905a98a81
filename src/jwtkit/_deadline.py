"""One total deadline for a blocking HTTP exchange (private; the sync JWKS and revocation
fetches, and the PyJWT drop-in's ``PyJWKClient``).

httpx's timeouts bound each network operation, not the exchange: a server that sends one
response-header line per second never trips a 5 s read timeout, and held four verifying
threads for 40 s (issue 12). asyncio can cancel a coroutine at a deadline; a blocked thread
cannot be cancelled, so this shuts its socket down instead. httpcore's documented ``trace``
extension reports each connection the exchange opens (``connect_tcp``, then ``start_tls``,
whose socket replaces the plain one); a timer shuts those sockets down when the deadline
passes, which wakes the blocked read with an error. The request asks for ``Connection:
close`` so that every fetch opens (and reports) its own connection rather than reusing one.
A transport without that extension (urllib) hands each socket to :meth:`SocketDeadline.watch`.
"""

from __future__ import annotations

import socket
import threading
import time
from typing import Any, Final, Self

__all__ = ["SocketDeadline"]

_CONNECTED: Final = frozenset({"connection.connect_tcp.complete", "connection.start_tls.complete"})


class SocketDeadline:
    """Shut down every socket of one exchange ``seconds`` after ``__enter__``.

    Pass :meth:`trace` as the request's ``trace`` extension and ``Connection: close`` as a
    header; :meth:`remaining` gives the time left for httpx's own per-operation timeouts.
    """

    def __init__(self, seconds: float) -> None:
        self._seconds = seconds
        self._deadline = time.monotonic() + seconds
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True
        self.fired = False

    def __enter__(self) -> Self:
        self._deadline = time.monotonic() + self._seconds
        self._timer.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._timer.cancel()

    def remaining(self) -> float:
        """Seconds left (at least a millisecond: httpx refuses a zero timeout)."""
        return max(0.001, self._deadline - time.monotonic())

    @property
    def expired(self) -> bool:
        """Whether the deadline has passed (fired or not)."""
        return self.fired or time.monotonic() >= self._deadline

    def trace(self, event: str, info: dict[str, Any]) -> None:
        """httpcore ``trace`` callback: remember each socket the exchange connects."""
        if event not in _CONNECTED:
            return
        stream = info.get("return_value")
        sock = stream.get_extra_info("socket") if stream is not None else None
        if isinstance(sock, socket.socket):
            self.watch(sock)

    def watch(self, sock: socket.socket) -> None:
        """Shut ``sock`` down at the deadline (at once if it has passed)."""
        with self._lock:
            self._sockets.append(sock)
            if self.fired:
                _shut(sock)

    def _fire(self) -> None:
        with self._lock:
            self.fired = True
            for sock in self._sockets:
                _shut(sock)


def _shut(sock: socket.socket) -> None:
    # socket.socket.shutdown, not SSLSocket's override: that one also drops the SSL object
    # under the thread that is reading. A plain socket wrapped by TLS is detached and fails.
    try:
        socket.socket.shutdown(sock, socket.SHUT_RDWR)
    except OSError:
        pass
