"""The key ring's integrity: one MAC over every row, under a key derived from the master key.

Private keys were always sealed, but the rows around them were not authenticated: someone who
could write to the database, without the master key, restored a revoked key's old row (its
ciphertext was still in SQLite's WAL), made it active, and its leaked key signed tokens that
verified again (issue 12). Now the ring is authenticated as a whole:

- ``ring_mac`` (a meta row) is HMAC-SHA256, under a key derived from the master key, over the
  store id, the generation counter (bumped by every change), the signing algorithms and every
  row's kid, alg, state, times and a digest of its ciphertext. Every read and every change
  verifies it before anything is used, and every change writes a new one in its transaction.
- A process remembers the highest generation it has verified and refuses an older ring: a
  database rolled back under a running service is noticed there.
- The check value says whether a store is authenticated: version 2 (written with the first
  MAC) requires the MAC; version 1 is a store from before, which the first process opening it
  with the master key migrates.

What no MAC inside the database can show is a rollback of the *whole* database to an earlier
authenticated state, seen by a process that has not seen the newer one (docs/keys.md).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Final

from jwtkit.errors import CorruptStoreError, MasterKeyError

from ._lifecycle import KeyRecord
from ._masterkey import MasterKey

__all__ = ["RingAuth", "RingState"]

log = logging.getLogger("jwtkit.keys")

_DOMAIN: Final = b"jwtkit key ring v1\x00"
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND: Final = timedelta(microseconds=1)

# One key as the MAC sees it: its record and its sealed private key (b"" once destroyed).
Row = tuple[KeyRecord, bytes]


class RingState:
    """What the MAC covers: the ring's identity, generation, algorithms and rows."""

    def __init__(
        self, store_id: str, generation: int, signing_algs: Sequence[str], rows: Sequence[Row]
    ) -> None:
        self.store_id = store_id
        self.generation = generation
        self.signing_algs = tuple(signing_algs)
        self.rows = tuple(sorted(rows, key=lambda r: r[0].kid))

    def encode(self) -> bytes:
        """Return the one canonical byte string of this state."""
        rows = [
            [
                r.kid,
                r.alg,
                r.state,
                _micros(r.created_at),
                _micros(r.activated_at),
                _micros(r.retired_at),
                _micros(r.revoked_at),
                hashlib.sha256(sealed).hexdigest(),
            ]
            for r, sealed in self.rows
        ]
        body = [self.store_id, self.generation, list(self.signing_algs), rows]
        return _DOMAIN + json.dumps(body, separators=(",", ":")).encode()


def _micros(value: datetime | None) -> int | None:
    return None if value is None else (value - _EPOCH) // _MICROSECOND


class RingAuth:
    """Tag and verify ring states for one store and master key; remembers what it has seen."""

    def __init__(self, master: MasterKey, label: str) -> None:
        self._master = master
        self._label = label
        self._lock = threading.Lock()
        self._seen = -1

    @property
    def seen(self) -> int:
        """The highest generation this process has verified or written (-1: none yet)."""
        return self._seen

    def rekeyed(self, master: MasterKey) -> RingAuth:
        """Return the authenticator for a new master key (a rewrap), keeping what was seen."""
        other = RingAuth(master, self._label)
        other._seen = self._seen
        return other

    def check_master(self, check: bytes, store_id: str) -> None:
        """Refuse a store whose check value is not this master key's (before its MAC).

        Raises:
            MasterKeyError: the store was rewrapped (by another process) since opening.
        """
        if not self._master.check(check, store_id=store_id):
            raise MasterKeyError(
                "the store's master key changed (rewrapped elsewhere?): reopen with the new one"
            )

    def is_legacy(self, check: bytes, store_id: str) -> bool:
        """Say whether ``check`` is a version 1 check value: a store from before the MAC."""
        return self._master.check_version(check, store_id=store_id) == 1

    def tag(self, state: RingState) -> bytes:
        """Return the MAC of ``state``."""
        return self._master.ring_mac(state.encode())

    def verify(self, state: RingState, mac: bytes | None, *, floor: int) -> None:
        """Refuse a state whose MAC does not match, or older than ``floor``; remember it.

        ``floor`` is :attr:`seen` as it was before the state was read: a concurrent read
        that started earlier may legitimately return an older generation than a later one.

        Raises:
            CorruptStoreError: the ring was changed without the master key, or rolled back.
        """
        if mac is None or not hmac.compare_digest(mac, self.tag(state)):
            what = "has no integrity tag" if mac is None else "fails its integrity check"
            log.error(
                "jwtkit.keys: key ring integrity: the ring in %s (generation %d) %s; "
                "its rows were changed without the master key; refusing them",
                self._label,
                state.generation,
                what,
            )
            raise CorruptStoreError(
                f"{self._label}: the key ring {what}: a key row was changed, added or restored "
                "without the master key; nothing in it is used"
            )
        if state.generation < floor:
            log.error(
                "jwtkit.keys: key ring integrity: %s holds generation %d, older than "
                "generation %d this process has seen: the database was rolled back; refusing it",
                self._label,
                state.generation,
                floor,
            )
            raise CorruptStoreError(
                f"{self._label}: the key ring is at generation {state.generation}, older than "
                f"generation {floor} this process has seen (the database was rolled back); "
                "restart the process if the restore was intended"
            )
        self.saw(state.generation)

    def saw(self, generation: int) -> None:
        """Remember that ``generation`` was verified or written."""
        with self._lock:
            self._seen = max(self._seen, generation)
