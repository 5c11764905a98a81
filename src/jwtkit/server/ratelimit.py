"""Failed-login limits per username and per client address (sliding window, in memory).

Once a username or an address has ``max_failures`` failed password logins inside the window,
further password logins for it are refused with HTTP 429 and ``Retry-After`` until the oldest
failure leaves the window, without checking the password (so guessing cannot continue and no
Argon2 work is spent). A successful login clears the username's failures, not the address's,
so one valid account cannot be used to reset an attacker's address budget.

The counters live in each process: with N instances behind a load balancer an attacker gets
at most N times the budget, which still bounds online guessing.
"""

from __future__ import annotations

import contextlib
import math
import threading
from collections import deque

__all__ = ["LoginLimiter"]

_MAX_TRACKED = 100_000


class LoginLimiter:
    """Sliding-window counters of failed logins, keyed by ``user:NAME`` and ``addr:IP``."""

    def __init__(self, *, per_user: int, per_address: int, window: float) -> None:
        self._limits = {"user": per_user, "addr": per_address}
        self._window = window
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def acquire(self, username: str, address: str | None, *, now: float) -> int:
        """Start a login attempt: return seconds to wait if locked out, else 0.

        A granted attempt is counted as a failure at once, in the same critical section as
        the check, so parallel guesses cannot all pass the check before any failure is
        recorded; :meth:`succeeded` takes it back.
        """
        with self._lock:
            wait = 0.0
            for key, limit in self._keys(username, address):
                times = self._prune(key, now)
                if times is not None and len(times) >= limit:
                    wait = max(wait, times[len(times) - limit] + self._window - now)
            if wait > 0:
                return max(1, math.ceil(wait))
            if len(self._failures) >= _MAX_TRACKED:
                self._sweep(now)
            for key, limit in self._keys(username, address):
                times = self._failures.setdefault(key, deque())
                times.append(now)
                while len(times) > limit:
                    times.popleft()
            return 0

    def succeeded(self, username: str, address: str | None, *, started: float) -> None:
        """Undo the attempt begun at ``started`` and forget the user's earlier failures."""
        with self._lock:
            self._failures.pop("user:" + username, None)
            times = self._failures.get("addr:" + address) if address else None
            if times is not None:
                with contextlib.suppress(ValueError):
                    times.remove(started)
                if not times and address:
                    del self._failures["addr:" + address]

    def _keys(self, username: str, address: str | None) -> list[tuple[str, int]]:
        keys = [("user:" + username, self._limits["user"])]
        if address:
            keys.append(("addr:" + address, self._limits["addr"]))
        return keys

    def _prune(self, key: str, now: float) -> deque[float] | None:
        times = self._failures.get(key)
        if times is None:
            return None
        while times and times[0] <= now - self._window:
            times.popleft()
        if not times:
            del self._failures[key]
            return None
        return times

    def _sweep(self, now: float) -> None:
        """Drop expired entries so memory stays bounded under a spray of names."""
        for key in list(self._failures):
            self._prune(key, now)
        while len(self._failures) >= _MAX_TRACKED:
            self._failures.pop(next(iter(self._failures)))
