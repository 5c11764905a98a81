"""``RedisLimits``: the failed-authentication counters in Redis (``JWTKIT_REDIS_URL``).

Redis is optional: the counters live in the store by default (``LimitRows``). With many
instances Redis takes the counter traffic off the database. Each counter is one string key
``<prefix>limit:<digest>`` holding ``"hits until expires_at"``, with a Redis expiry, so Redis
forgets counters by itself. An update is an optimistic transaction (``WATCH``, read, ``MULTI``,
write, ``EXEC``; retried when another instance changed a watched key meanwhile), so the
caller's policy function runs in Python for Redis as for SQL. Needs ``pip install
'jwtkit[redis]'``; the driver is imported here only.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Any, TypeVar

from jwtkit.errors import KeyStoreError, StoreUnavailableError

from ._url import redact_url
from .limits import Counter, Update

__all__ = ["RedisLimits"]

T = TypeVar("T")


class RedisLimits:
    """Counters under ``prefix`` in the Redis at ``url``; every call bounded by ``timeout``."""

    def __init__(self, url: str, *, prefix: str, timeout: float) -> None:
        try:
            import redis
        except ImportError:
            raise KeyStoreError(
                "JWTKIT_REDIS_URL needs the redis extra: pip install 'jwtkit[redis]'"
            ) from None
        self.label = redact_url(url)
        self._prefix = prefix + "limit:"
        self._timeout = timeout
        self._errors: tuple[type[BaseException], ...] = (redis.RedisError, OSError)
        self._watch_error: type[BaseException] = redis.WatchError
        try:
            self._client: Any = redis.Redis.from_url(
                url,
                socket_timeout=timeout,
                socket_connect_timeout=timeout,
                health_check_interval=30,
            )
        except ValueError:
            raise KeyStoreError(f"unusable Redis URL {self.label!r}") from None

    def ping(self) -> None:
        """Check that Redis answers (at start, so a wrong URL fails before serving)."""
        try:
            self._client.ping()
        except self._errors as exc:
            raise self._unavailable(exc) from None

    def update(
        self, keys: Sequence[str], fn: Update[T], *, now: float, reads: Sequence[str] = ()
    ) -> T:
        """See :meth:`jwtkit._storage.limits.LimitStore.update`."""
        writable = set(keys)
        names = sorted(writable | set(reads))
        full = [self._prefix + name for name in names]
        deadline = time.monotonic() + self._timeout
        while True:
            try:
                with self._client.pipeline() as pipe:
                    pipe.watch(*full)
                    current = {
                        name: _decode(raw, now)
                        for name, raw in zip(names, pipe.mget(full), strict=True)
                    }
                    changes, result = fn(current)
                    if not changes:
                        pipe.unwatch()
                        return result
                    pipe.multi()
                    for name, counter in changes.items():
                        if name not in writable:
                            raise ValueError("an update may only change the counters it was given")
                        key = self._prefix + name
                        if counter is None:
                            pipe.delete(key)
                        else:
                            ttl = max(1, math.ceil((counter.expires_at - now) * 1000))
                            pipe.set(key, _encode(counter), px=ttl)
                    pipe.execute()
                    return result
            except self._watch_error:
                # Another instance changed one of these counters between our read and write.
                if time.monotonic() >= deadline:
                    raise StoreUnavailableError(
                        f"{self.label}: too much contention on a rate-limit counter"
                    ) from None
            except self._errors as exc:
                raise self._unavailable(exc) from None

    def purge(self, *, now: float) -> int:
        """Nothing to do: Redis expires the counters itself."""
        return 0

    def delete_all(self) -> int:
        """Delete every counter under this prefix (for tests and operators); return how many."""
        gone = 0
        try:
            for key in self._client.scan_iter(match=self._prefix + "*", count=500):
                gone += int(self._client.delete(key))
        except self._errors as exc:
            raise self._unavailable(exc) from None
        return gone

    def close(self) -> None:
        """Close the connection pool."""
        try:
            self._client.close()
        except self._errors:  # pragma: no cover - closing a broken pool
            pass

    def _unavailable(self, exc: BaseException) -> StoreUnavailableError:
        # The driver's message may hold the URL; say only what kind of failure it was.
        return StoreUnavailableError(f"{self.label}: Redis unavailable ({type(exc).__name__})")


def _encode(counter: Counter) -> str:
    return f"{counter.hits} {counter.until!r} {counter.expires_at!r}"


def _decode(raw: bytes | None, now: float) -> Counter | None:
    if raw is None:
        return None
    try:
        hits, until, expires_at = raw.decode("ascii").split()
        counter = Counter(int(hits), float(until), float(expires_at))
    except (UnicodeDecodeError, ValueError):
        return None  # Not ours or damaged: start that counter afresh.
    return counter if counter.expires_at > now else None
