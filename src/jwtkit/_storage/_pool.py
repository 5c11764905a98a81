"""A bounded connection pool that queues, and a watchdog that enforces deadlines.

The pool never holds more than ``max_size`` connections (open or being opened). A caller that
finds none idle starts at most one new connection and waits for *any* connection to come back,
up to its deadline; connections are opened in a helper thread, so a connect that hangs (a
silent partition) never holds a caller past its deadline, and one that succeeds late joins the
pool. When a connection attempt fails, the callers that came before it began fail at once
instead of each waiting out its deadline (a refused connection answers fast); an attempt begun
during an outage that ends meanwhile fails nobody who came later. After any connection
error the pool's epoch moves on, and every idle connection from an older epoch is checked with
a round trip before it is handed out again.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from jwtkit.errors import KeyStoreError, StoreUnavailableError

from ._dialect import Connection

__all__ = ["Pool", "Watchdog"]

log = logging.getLogger("jwtkit.storage")


@dataclass
class _Idle:
    conn: Connection
    epoch: int


class Pool:
    """Connections made by ``connect``; ``check`` raises if a connection is unusable."""

    def __init__(
        self,
        connect: Callable[[], Connection],
        close: Callable[[Connection], None],
        check: Callable[[Connection, float], None],
        *,
        max_size: int,
        label: str,
    ) -> None:
        if max_size < 1:
            raise ValueError("the pool size must be at least 1")
        self._connect = connect
        self._close = close
        self._check = check
        self._max = max_size
        self._label = label
        self._cond = threading.Condition()
        self._idle: list[_Idle] = []
        self._size = 0
        self._epoch = 0
        self._failures = 0
        self._failed_start = 0.0  # when the attempt that failed last had started
        self._last_error: BaseException | None = None
        self._closed = False

    def add(self, conn: Connection) -> None:
        """Put an already opened connection into the pool (counts against the size)."""
        with self._cond:
            self._size += 1
            self._idle.append(_Idle(conn, self._epoch))
            self._cond.notify()

    def acquire(self, deadline: float) -> Connection:
        """Return a connection, waiting until ``deadline`` (``time.monotonic()``) at most.

        Raises:
            StoreUnavailableError: none became free in time, or connecting failed.
            KeyStoreError: the pool is closed.
        """
        while True:
            item = self._take(deadline)
            if item.epoch == self._epoch:
                return item.conn
            # An error happened since this connection was last used: check it first.
            try:
                self._check(item.conn, min(deadline, time.monotonic() + 1.0))
            except Exception:
                self.discard(item.conn)
                continue
            return item.conn

    def _take(self, deadline: float) -> _Idle:
        with self._cond:
            failures = self._failures
            since = time.monotonic()
            while True:
                if self._closed:
                    raise KeyStoreError(f"{self._label}: the store is closed")
                if self._idle:
                    return self._idle.pop()
                # Fail fast on a connection attempt that failed after this caller came, but
                # not on one begun earlier (during an outage that may be over by now).
                if (
                    self._failures != failures
                    and self._failed_start >= since
                    and self._last_error is not None
                ):
                    raise _unavailable(self._last_error, self._label)
                if self._size < self._max:
                    self._size += 1
                    threading.Thread(target=self._open, name="jwtkit-connect", daemon=True).start()
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise StoreUnavailableError(
                        f"{self._label}: no database connection became free in time"
                    )
                self._cond.wait(remaining)

    def _open(self) -> None:
        started = time.monotonic()
        try:
            conn = self._connect()
        except BaseException as exc:
            with self._cond:
                self._size -= 1
                self._failures += 1
                self._failed_start = started
                self._last_error = exc
                self._cond.notify_all()
            return
        self.release(conn)

    def release(self, conn: Connection) -> None:
        """Give a healthy connection back."""
        with self._cond:
            if self._closed:
                self._size -= 1
                self._close(conn)
                return
            self._idle.append(_Idle(conn, self._epoch))
            self._cond.notify()

    def discard(self, conn: Connection) -> None:
        """Close a broken connection and make every idle one suspect."""
        self._close(conn)
        with self._cond:
            self._size -= 1
            self._epoch += 1
            self._cond.notify()

    def close(self) -> None:
        """Close the idle connections; busy ones are closed when they come back."""
        with self._cond:
            self._closed = True
            idle, self._idle = self._idle, []
            self._size -= len(idle)
            self._cond.notify_all()
        for item in idle:
            self._close(item.conn)


def _unavailable(exc: BaseException, label: str) -> KeyStoreError:
    if isinstance(exc, KeyStoreError):
        return exc
    return StoreUnavailableError(f"{label}: cannot connect ({type(exc).__name__})")


@dataclass
class Guard:
    """One watched operation; ``fired`` is set when its deadline passed."""

    conn: Connection
    deadline: float
    fired: bool = False


class Watchdog:
    """One thread that interrupts operations still running at their deadline."""

    def __init__(self, interrupt: Callable[[Connection], None]) -> None:
        self._interrupt = interrupt
        self._cond = threading.Condition()
        self._items: dict[int, Guard] = {}
        self._thread: threading.Thread | None = None
        self._stopped = False

    @contextlib.contextmanager
    def watch(self, conn: Connection, deadline: float) -> Iterator[Guard]:
        """Watch the block: at ``deadline`` the connection is interrupted (``fired``)."""
        guard = Guard(conn, deadline)
        with self._cond:
            self._items[id(guard)] = guard
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="jwtkit-store-watchdog", daemon=True
                )
                self._thread.start()
            self._cond.notify()
        try:
            yield guard
        finally:
            with self._cond:
                self._items.pop(id(guard), None)

    def stop(self) -> None:
        """End the watchdog thread (the store is closed)."""
        with self._cond:
            self._stopped = True
            self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                if self._stopped and not self._items:
                    self._thread = None
                    return
                now = time.monotonic()
                for key, guard in list(self._items.items()):
                    if guard.deadline <= now:
                        del self._items[key]
                        guard.fired = True
                        # Under the lock: the owner cannot release the connection meanwhile.
                        self._interrupt(guard.conn)
                        log.warning("jwtkit.storage: a store operation overran its deadline")
                nxt = min((g.deadline for g in self._items.values()), default=now + 60.0)
                self._cond.wait(max(0.0, nxt - now))
