"""Counters of failed authentications shared by every instance: in the store, or in Redis.

A counter is three numbers under a fixed-length key (the caller hashes names and addresses):
``hits``, ``until`` (a time whose meaning the caller's policy gives) and ``expires_at``, after
which the counter is gone. The one operation is :meth:`LimitStore.update`: read some counters,
let a pure function decide, write its changes, atomically, so that parallel attempts on any
number of instances are counted one by one. The policy lives with the caller
(``jwtkit.server._ratelimit``); this module only stores, so the SQL tables and Redis behave the
same. The function may run more than once (a retried transaction), so it must not have side
effects.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

from ._database import Database, Tx

__all__ = ["Counter", "LimitRows", "LimitStore", "Update", "limits_salt", "open_limit_store"]

T = TypeVar("T")


@dataclass(frozen=True)
class Counter:
    """One stored counter (see the module docstring)."""

    hits: int
    until: float
    expires_at: float


# current counters (None: absent or expired) -> (changes: None deletes, result)
Update = Callable[[Mapping[str, Counter | None]], tuple[Mapping[str, Counter | None], T]]


class LimitStore(Protocol):
    """Where the counters live: :class:`LimitRows` (the store) or ``RedisLimits``."""

    label: str

    def update(
        self, keys: Sequence[str], fn: Update[T], *, now: float, reads: Sequence[str] = ()
    ) -> T:
        """Apply ``fn`` to the counters under ``keys`` atomically and return its result.

        ``fn`` also sees the counters under ``reads``, which it must not change.

        Raises:
            StoreUnavailableError: the backend did not answer within its timeout.
        """
        ...  # pragma: no cover - protocol

    def purge(self, *, now: float) -> int:
        """Delete expired counters; return how many went (backends that expire by
        themselves return 0)."""
        ...  # pragma: no cover - protocol

    def close(self) -> None:
        """Release connections this object opened."""
        ...  # pragma: no cover - protocol


def limits_salt(db: Database) -> bytes:
    """Return the store's random salt for counter keys (made by migration 4)."""
    row = db.read(lambda tx: tx.one("SELECT value FROM jwtkit_meta WHERE name = 'limits_salt'"))
    return bytes.fromhex(str(row[0])) if row is not None else b""


class LimitRows:
    """Counters in the ``jwtkit_limits`` table of one :class:`Database`.

    An update inserts any missing rows as empty placeholders first (``ON CONFLICT DO
    NOTHING`` waits for a concurrent insert of the same key), then locks them all in key
    order (``FOR UPDATE``; SQLite holds the write lock already), so two instances counting
    the same key serialize and neither update is lost.
    """

    # An unused placeholder row lives this long before purge removes it.
    _PLACEHOLDER_LIFETIME = 60.0

    def __init__(self, db: Database) -> None:
        self.db = db
        self.label = db.label

    def update(
        self, keys: Sequence[str], fn: Update[T], *, now: float, reads: Sequence[str] = ()
    ) -> T:
        """See :meth:`LimitStore.update`."""
        names = sorted(set(keys))
        seen = sorted(set(names) | set(reads))
        marks = ", ".join("?" for _ in seen)
        values = ", ".join("(?, 0, 0, ?)" for _ in names)
        placeholder_expiry = now + self._PLACEHOLDER_LIFETIME

        def run(tx: Tx) -> T:
            params: list[object] = []
            for name in names:
                params += [name, placeholder_expiry]
            tx.execute(
                "INSERT INTO jwtkit_limits (limit_key, hits, until_at, expires_at)"  # noqa: S608
                f" VALUES {values} ON CONFLICT (limit_key) DO NOTHING",
                params,
            )
            rows = tx.execute(
                "SELECT limit_key, hits, until_at, expires_at FROM jwtkit_limits"  # noqa: S608
                f" WHERE limit_key IN ({marks}) ORDER BY limit_key{tx.for_update}",
                seen,
            )
            current: dict[str, Counter | None] = dict.fromkeys(seen)
            for name, hits, until, expires_at in rows:
                if float(expires_at) > now and (int(hits) or float(until)):
                    current[str(name)] = Counter(int(hits), float(until), float(expires_at))
            changes, result = fn(current)
            for name, counter in changes.items():
                if name not in names:
                    raise ValueError("an update may only change the counters it was given")
                if counter is None:
                    tx.execute("DELETE FROM jwtkit_limits WHERE limit_key = ?", (name,))
                else:
                    tx.execute(
                        "UPDATE jwtkit_limits SET hits = ?, until_at = ?, expires_at = ?"
                        " WHERE limit_key = ?",
                        (counter.hits, counter.until, counter.expires_at, name),
                    )
            return result

        return self.db.write(run)

    def purge(self, *, now: float) -> int:
        """See :meth:`LimitStore.purge`."""

        def run(tx: Tx) -> int:
            gone = tx.execute("SELECT COUNT(*) FROM jwtkit_limits WHERE expires_at <= ?", (now,))
            tx.execute("DELETE FROM jwtkit_limits WHERE expires_at <= ?", (now,))
            return int(gone[0][0])

        return self.db.write(run)

    def count(self) -> int:
        """Return how many counter rows exist (expired ones included), for operators."""
        row = self.db.read(lambda tx: tx.one("SELECT COUNT(*) FROM jwtkit_limits"))
        return int(row[0]) if row is not None else 0

    def close(self) -> None:
        """Nothing to release: the database belongs to the caller."""


def open_limit_store(
    db: Database, *, redis_url: str | None = None, redis_prefix: str = "jwtkit:"
) -> LimitStore:
    """Return the counters' backend: Redis when ``redis_url`` is given, else the store.

    Redis is pinged once, so a wrong URL or a Redis that is down fails now.

    Raises:
        StoreUnavailableError: Redis does not answer within the store timeout.
        KeyStoreError: the URL is unusable or the redis extra is missing.
    """
    if not redis_url:
        return LimitRows(db)
    from ._redis import RedisLimits

    store = RedisLimits(redis_url, prefix=redis_prefix, timeout=db.timeout)
    try:
        store.ping()
    except BaseException:
        store.close()
        raise
    return store
