"""The in-process key cache behind a manager's Signer and Verifier (no DB trip per token).

A :class:`KeyView` is an immutable snapshot: the records, the active private key and the
public KeySet of every key that may verify. :class:`KeyCache` keeps the current view, reloads
it after ``refresh_interval`` seconds or on an unknown ``kid`` (at most once per second), and
keeps returning the *same* KeySet object while the usable keys do not change, because
``Verifier`` caches prepared keys by KeySet identity.

If a periodic reload fails (database down), the last view keeps serving for up to
``MAX_STALE`` seconds, so a short outage does not stop token issuance; explicit refreshes
raise at once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from jwtkit import Key, KeySet
from jwtkit.errors import KeyStateError, KeyStoreError

from ._lifecycle import KeyRecord

__all__ = ["KeyCache", "KeyView", "ManagerKeySource", "ManagerSigningSource"]

log = logging.getLogger("jwtkit.keys")

MAX_STALE: Final = 300.0
_MISS_COOLDOWN: Final = 1.0


@dataclass(frozen=True, eq=False)
class KeyView:
    """One consistent snapshot of the key ring, ready for signing and verifying."""

    generation: int
    records: tuple[KeyRecord, ...]
    active: Key | None
    keyset: KeySet


Loader = Callable[["KeyView | None"], KeyView]


class KeyCache:
    """Thread-safe holder of the current :class:`KeyView`."""

    def __init__(self, loader: Loader, refresh_interval: float) -> None:
        if refresh_interval < 0:
            raise ValueError("refresh_interval must not be negative")
        self._loader = loader
        self._interval = refresh_interval
        self._lock = threading.Lock()
        self._view: KeyView | None = None
        self._loaded_at = 0.0
        self._last_ok = 0.0
        self._last_miss = float("-inf")

    def peek(self) -> KeyView | None:
        """Return the current view without loading (None before the first load)."""
        return self._view

    def install(self, view: KeyView) -> None:
        """Replace the view with one just written by this process."""
        with self._lock:
            self._set(view)

    def _set(self, view: KeyView) -> None:
        self._view = view
        self._loaded_at = self._last_ok = time.monotonic()

    def refresh(self) -> KeyView:
        """Reload now; errors propagate."""
        with self._lock:
            view = self._loader(self._view)
            self._set(view)
            return view

    def current(self) -> KeyView:
        """Return the view, reloading it when older than the refresh interval."""
        with self._lock:
            return self._current(time.monotonic())

    def _current(self, mono: float) -> KeyView:
        view = self._view
        if view is None:
            view = self._loader(None)
            self._set(view)
            return view
        if mono - self._loaded_at >= self._interval:
            try:
                view = self._loader(view)
            except KeyStoreError as exc:
                if mono - self._last_ok > MAX_STALE:
                    raise
                # Serve the last good keys through a short outage, retrying each interval.
                self._loaded_at = mono
                log.warning("jwtkit.keys: key refresh failed, serving cached keys: %s", exc)
                return view
            self._set(view)
        return view

    def for_kid(self, kid: str | None) -> KeyView:
        """Return the view, reloading once (rate-limited) when ``kid`` is unknown to it."""
        with self._lock:
            mono = time.monotonic()
            view = self._current(mono)
            if kid is None or kid in view.keyset or mono - self._last_miss < _MISS_COOLDOWN:
                return view
            self._last_miss = mono
            try:
                fresh = self._loader(view)
            except KeyStoreError as exc:
                log.warning("jwtkit.keys: key refresh for an unknown kid failed: %s", exc)
                return view
            self._set(fresh)
            return fresh


class ManagerSigningSource:
    """A ``SigningKeySource`` returning the manager's active key from the cache."""

    def __init__(self, cache: KeyCache) -> None:
        self._cache = cache

    def signing_key(self) -> Key:
        """Return the active private key (the same object until it changes).

        Raises:
            KeyStateError: the store has no active key.
        """
        key = self._cache.current().active
        if key is None:
            raise KeyStateError("the key store has no active key; call active_key() or rotate()")
        return key


class ManagerKeySource:
    """A ``KeySource`` returning the public keys that may verify now, from the cache."""

    def __init__(self, cache: KeyCache) -> None:
        self._cache = cache

    def get_keyset(self, kid: str | None) -> KeySet:
        """Return the KeySet of usable public keys; an unknown ``kid`` triggers a reload."""
        return self._cache.for_kid(kid).keyset
