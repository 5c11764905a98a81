"""A small bounded cache of store rows that expire after a few seconds (issue 18).

The token endpoint reads the same client record on every request. Serving it from memory for
``ttl`` seconds saves a database round trip per request; the price is that a change made by
another process (``jwtkit client disable``) takes effect here within ``ttl``. This process's
own changes drop the entry at once. Only rows that exist are kept, and at most
``max_entries`` of them, so unknown ids sent by an attacker cannot grow it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

__all__ = ["RowCache"]

T = TypeVar("T")


class RowCache(Generic[T]):
    """Rows by key, each usable for ``ttl`` seconds after it was read; ``ttl`` 0 keeps none."""

    def __init__(
        self,
        ttl: float,
        *,
        max_entries: int = 1024,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl = float(ttl)
        self._max = max_entries
        self._clock = clock
        self._rows: dict[str, tuple[float, T]] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> T | None:
        """Return the row read less than ``ttl`` seconds ago, else None (no store access)."""
        entry = self._rows.get(key)
        if entry is None or self._clock() - entry[0] >= self._ttl:
            return None
        return entry[1]

    def put(self, key: str, row: T, *, read_at: float) -> None:
        """Keep ``row``, read at ``read_at`` (a time of ``clock`` taken before the read, so
        that a change committed during the read is never hidden for longer than ``ttl``)."""
        if self._ttl <= 0:
            return
        with self._lock:
            self._rows.pop(key, None)
            while len(self._rows) >= self._max:
                del self._rows[next(iter(self._rows))]  # The oldest entry.
            self._rows[key] = (read_at, row)

    def now(self) -> float:
        """Return the cache's clock, to pass as ``read_at``."""
        return self._clock()

    def drop(self, key: str) -> None:
        """Forget ``key`` (this process changed the row)."""
        with self._lock:
            self._rows.pop(key, None)
