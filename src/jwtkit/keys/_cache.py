"""The in-process key cache behind a manager's Signer and Verifier (no DB trip per token).

A :class:`KeyView` is an immutable snapshot: the records, the active private key and the
public KeySet of every key that may verify. :class:`KeyCache` keeps the current view, reloads
it after ``refresh_interval`` seconds or on an unknown ``kid`` (at most once per second, by
the JWKS clients' :class:`jwtkit._jwks.Cooldown`), and keeps returning the *same* KeySet
object while the usable keys do not change, because ``Verifier`` caches prepared keys by
KeySet identity.

No caller ever waits for another caller's reload: one thread reloads while the others keep
using the current view (issue 9: a lock held across a reload that hung on the database stopped
every request, JWKS included). While reloads fail (database down), the next attempts run in
the background, so signing, verifying and the JWKS answer from memory; after ``MAX_STALE``
seconds without a successful reload the cache refuses to serve (revoked keys must not live on
forever). Explicit refreshes raise at once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final

from jwtkit import Key, KeySet
from jwtkit._jwks import Cooldown
from jwtkit.errors import KeyStateError, KeyStoreError, StoreUnavailableError

from ._lifecycle import KeyRecord

__all__ = ["KeyCache", "KeyView", "ManagerKeySource", "ManagerSigningSource"]

log = logging.getLogger("jwtkit.keys")

MAX_STALE: Final = 300.0
# The JWKS clients' unknown-kid rule (jwtkit._jwks), with a short cooldown: a reload is one
# database read, not a fetch from another service.
_MISS_COOLDOWN: Final = Cooldown(1.0)


@dataclass(frozen=True, eq=False)
class KeyView:
    """One consistent snapshot of the key ring, ready for signing and verifying.

    ``actives`` maps each signing algorithm to its active private key; ``signing_algs`` are
    the store's signing algorithms (empty until the ring records them).
    """

    generation: int
    records: tuple[KeyRecord, ...]
    actives: Mapping[str, Key]
    keyset: KeySet
    signing_algs: tuple[str, ...] = ()


Loader = Callable[["KeyView | None"], KeyView]


class KeyCache:
    """Thread-safe holder of the current :class:`KeyView`."""

    def __init__(self, loader: Loader, refresh_interval: float) -> None:
        if refresh_interval < 0:
            raise ValueError("refresh_interval must not be negative")
        self._loader = loader
        self._interval = refresh_interval
        self._lock = threading.Lock()  # guards the fields below; never held while loading
        self._loading = threading.Lock()  # held by the one thread that loads
        self._view: KeyView | None = None
        self._loaded_at = 0.0
        self._last_ok = 0.0
        self._failing = False
        self._last_miss = float("-inf")

    def peek(self) -> KeyView | None:
        """Return the current view without loading (None before the first load)."""
        return self._view

    def fresh(self) -> bool:
        """Say whether :meth:`current` would answer now without touching the store."""
        return (
            self._view is not None
            and not self._failing
            and time.monotonic() - self._loaded_at < self._interval
        )

    def install(self, view: KeyView) -> None:
        """Replace the view with one just written by this process."""
        self._set(view)

    def _set(self, view: KeyView) -> None:
        with self._lock:
            current = self._view
            # A reload that read the store before this process's own write must not undo it.
            if current is None or view.generation >= current.generation:
                self._view = view
            self._loaded_at = self._last_ok = time.monotonic()
            self._failing = False

    def refresh(self) -> KeyView:
        """Reload now (waiting for a reload in progress); errors propagate."""
        with self._loading:
            view = self._loader(self._view)
            self._set(view)
            return self._view or view

    def current(self, *, wait: bool = True) -> KeyView:
        """Return the view, reloading it when older than the refresh interval.

        With ``wait=False`` a due reload runs in the background and the current view is
        returned at once (the JWKS: publishing keys a moment late is harmless, making a
        request wait for the database is not).
        """
        view = self._view
        if view is None:
            with self._loading:
                if self._view is None:
                    self._set(self._loader(None))
            view = self._view
            assert view is not None  # noqa: S101 - set just above
            return view
        mono = time.monotonic()
        if mono - self._loaded_at < self._interval:
            return view
        if not self._loading.acquire(blocking=False):
            return self._usable(view, mono)  # another thread is reloading
        if self._failing or not wait:
            # During an outage nobody waits for the database: retry in the background.
            self._loaded_at = mono
            threading.Thread(target=self._reload_and_release, daemon=True).start()
            return self._usable(view, mono)
        try:
            return self._reload(view)
        finally:
            self._loading.release()

    def _reload_and_release(self) -> None:
        try:
            view = self._view
            if view is not None:
                self._reload(view)
        except KeyStoreError:
            pass  # logged by _reload; the cache keeps serving until MAX_STALE
        finally:
            self._loading.release()

    def _reload(self, view: KeyView) -> KeyView:
        """Load a fresh view; on failure log, remember it, and fall back to ``view``."""
        try:
            fresh = self._loader(view)
        except KeyStoreError as exc:
            with self._lock:
                self._loaded_at = time.monotonic()
                self._failing = True
            log.warning("jwtkit.keys: key refresh failed, serving cached keys: %s", exc)
            return self._usable(view, time.monotonic())
        self._set(fresh)
        return self._view or fresh

    def _usable(self, view: KeyView, mono: float) -> KeyView:
        if self._failing and mono - self._last_ok > MAX_STALE:
            raise StoreUnavailableError(
                f"the keys could not be refreshed for over {MAX_STALE:g}s; refusing stale keys"
            )
        return view

    def for_kid(self, kid: str | None) -> KeyView:
        """Return the view, reloading once (rate-limited) when ``kid`` is unknown to it."""
        view = self.current()
        # Known kids (every token but a forger's or a fresh key's) return here, lock-free.
        if kid is None or kid in view.keyset or self._failing:
            return view
        mono = time.monotonic()
        with self._lock:
            if not _MISS_COOLDOWN.ready(self._last_miss, mono):
                return view
            self._last_miss = mono
        if not self._loading.acquire(blocking=False):
            return view
        try:
            return self._reload(view)
        finally:
            self._loading.release()


class ManagerSigningSource:
    """A ``SigningKeySource`` returning the manager's active key of one algorithm."""

    def __init__(self, cache: KeyCache, alg: str) -> None:
        self._cache = cache
        self._alg = alg

    def signing_key(self) -> Key:
        """Return the active private key of the algorithm (the same object until it changes).

        Raises:
            KeyStateError: the store has no active key of this algorithm.
        """
        key = self._cache.current().actives.get(self._alg)
        if key is None:
            raise KeyStateError(
                f"the key store has no active {self._alg} key; call active_key() or rotate()"
            )
        return key


class ManagerKeySource:
    """A ``KeySource`` returning the public keys that may verify now, from the cache."""

    def __init__(self, cache: KeyCache) -> None:
        self._cache = cache

    def get_keyset(self, kid: str | None) -> KeySet:
        """Return the KeySet of usable public keys; an unknown ``kid`` triggers a reload."""
        return self._cache.for_kid(kid).keyset
