"""``KeyRows``: the key ring's meta rows and key rows (what ``jwtkit.keys`` stores).

``jwtkit_meta(name, value)`` holds the store id, the KDF parameters (JSON, opaque here), the
master key check value (base64url text, opaque here), the signing algorithms (a JSON list,
opaque here), the ring's MAC (``ring_mac``, base64url text computed by the key manager over
what the transaction leaves), the schema version and a generation counter bumped by every
write;
``jwtkit_keys`` holds one row per key with its sealed private key. Every change goes through
:meth:`KeyRows.update`, which runs the caller's pure function inside one write transaction
after locking the meta rows, so concurrent writers serialize and a crash leaves either the old
ring or the new one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final

from jwtkit.errors import CorruptStoreError

from ._database import Database, Tx

__all__ = ["KeyChange", "KeyMeta", "KeyRow", "KeyRows"]

_COLUMNS: Final = "kid, alg, state, created_at, activated_at, retired_at, revoked_at, sealed"


@dataclass(frozen=True)
class KeyRow:
    """One stored key: its lifecycle fields and the sealed (encrypted) private JWK."""

    kid: str
    alg: str
    state: str
    created_at: datetime
    activated_at: datetime | None = None
    retired_at: datetime | None = None
    revoked_at: datetime | None = None
    sealed: bytes = field(default=b"", repr=False)


@dataclass(frozen=True)
class KeyMeta:
    """The ring's meta rows; ``kdf`` and ``check`` are text the key manager encodes."""

    store_id: str
    kdf: str
    check: str = field(repr=False)
    generation: int = 0
    signing_algs: str | None = None  # JSON list; None until the ring records it
    mac: str | None = field(default=None, repr=False)  # None until the ring is authenticated


# Computes the ring's MAC over the meta and rows a change leaves, inside its transaction.
Authenticator = Callable[[KeyMeta, list[KeyRow]], str]


@dataclass(frozen=True)
class KeyChange:
    """What an update function wants written: all key rows, optionally new kdf/check/algs,
    and the function that authenticates the result (``ring_mac``)."""

    rows: list[KeyRow]
    check: str | None = None
    kdf: str | None = None
    signing_algs: str | None = None
    authenticate: Authenticator | None = None


Updater = Callable[[KeyMeta, list[KeyRow]], "KeyChange | None"]
_READ_ATTEMPTS: Final = 5


class KeyRows:
    """The key tables of one :class:`Database`."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.label = db.label

    def load_meta(self) -> KeyMeta | None:
        """Return the meta, or None while the ring is not initialized; never writes."""
        return self.db.read(lambda tx: _read_meta(tx, lock=False, required=False))

    def initialize(self, meta: KeyMeta) -> KeyMeta:
        """Write the meta rows unless another process did first; return the stored meta."""

        def init(tx: Tx) -> KeyMeta:
            # The schema lock serializes first opens; a statement after it sees the rows a
            # process that initialized first committed meanwhile.
            tx.dialect.lock_schema(tx.execute)
            current = _read_meta(tx, lock=True, required=False)
            if current is not None:
                return current
            values = [("store_id", meta.store_id), ("kdf", meta.kdf), ("check", meta.check)]
            if meta.signing_algs is not None:
                values.append(("signing_algs", meta.signing_algs))
            if meta.mac is not None:
                values.append(("ring_mac", meta.mac))
            for name, value in values:
                tx.execute(
                    "INSERT INTO jwtkit_meta (name, value) VALUES (?, ?)"
                    " ON CONFLICT (name) DO NOTHING",
                    (name, value),
                )
            tx.execute(
                "INSERT INTO jwtkit_meta (name, value) VALUES ('generation', ?)"
                " ON CONFLICT (name) DO NOTHING",
                (str(meta.generation),),
            )
            return _meta(tx, lock=False)

        result: KeyMeta = self.db.write(init)
        return result

    def read(self) -> tuple[KeyMeta, list[KeyRow]]:
        """Return the meta and every key row of one committed state.

        PostgreSQL reads in READ COMMITTED, where each statement has its own snapshot, so the
        rows could come from a later commit than the meta (and fail the ring's MAC): the
        generation is read again after the rows, and the read repeats if it moved.
        """

        def read(tx: Tx) -> tuple[KeyMeta, list[KeyRow]] | None:
            meta = _meta(tx, lock=False)
            rows = _rows(tx)
            return (meta, rows) if _meta(tx, lock=False).generation == meta.generation else None

        for _ in range(_READ_ATTEMPTS):
            result = self.db.read(read)
            if result is not None:
                return result
        # Writers kept committing between the statements: read under their lock instead.
        return self.db.write(lambda tx: (_meta(tx, lock=True), _rows(tx)))

    def generation(self) -> int:
        """Return the write counter (one cheap query: has anything changed?)."""

        return self.db.read(_generation)

    def update(self, fn: Updater) -> tuple[KeyMeta, list[KeyRow]]:
        """Run ``fn`` on the current rows under the ring's write lock; write its change.

        ``fn`` may run twice (a retry after a dead connection), so it must not keep state
        between calls other than what it rebuilds each time.
        """

        def run(tx: Tx) -> tuple[KeyMeta, list[KeyRow]]:
            meta = _meta(tx, lock=True)
            rows = _rows(tx)
            change = fn(meta, rows)
            if change is None:
                return meta, rows
            _apply(tx, rows, change.rows)
            updates = [("generation", str(meta.generation + 1))]
            if change.check is not None:
                updates.append(("check", change.check))
            if change.kdf is not None:
                updates.append(("kdf", change.kdf))
            if change.signing_algs is not None:
                updates.append(("signing_algs", change.signing_algs))
            for name, value in updates:
                _set_meta(tx, name, value)
            meta, rows = _meta(tx, lock=False), _rows(tx)
            if change.authenticate is not None:
                mac = change.authenticate(meta, rows)
                _set_meta(tx, "ring_mac", mac)
                meta = _meta(tx, lock=False)
            return meta, rows

        return self.db.write(run)


def _set_meta(tx: Tx, name: str, value: str) -> None:
    tx.execute(
        "INSERT INTO jwtkit_meta (name, value) VALUES (?, ?)"
        " ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        (name, value),
    )


def _generation(tx: Tx) -> int:
    row = tx.one("SELECT value FROM jwtkit_meta WHERE name = 'generation'")
    return int(row[0]) if row is not None and str(row[0]).isdigit() else -1


def _meta(tx: Tx, *, lock: bool) -> KeyMeta:
    meta = _read_meta(tx, lock=lock, required=True)
    assert meta is not None  # noqa: S101 - required=True raises instead
    return meta


def _read_meta(tx: Tx, *, lock: bool, required: bool) -> KeyMeta | None:
    suffix = tx.for_update if lock else ""
    rows = tx.execute("SELECT name, value FROM jwtkit_meta" + suffix)  # noqa: S608 - fixed text
    values = {str(name): str(value) for name, value in rows}
    if "store_id" not in values:
        if required:
            raise CorruptStoreError(f"{tx.dialect.label}: the key ring is not initialized")
        return None
    try:
        return KeyMeta(
            store_id=values["store_id"],
            kdf=values["kdf"],
            check=values["check"],
            generation=int(values.get("generation", "0")),
            signing_algs=values.get("signing_algs"),
            mac=values.get("ring_mac"),
        )
    except (KeyError, ValueError) as exc:
        raise CorruptStoreError(f"{tx.dialect.label}: the store's meta rows are damaged") from exc


def _rows(tx: Tx) -> list[KeyRow]:
    d = tx.dialect
    out = []
    rows = tx.execute(f"SELECT {_COLUMNS} FROM jwtkit_keys ORDER BY created_at, kid")  # noqa: S608
    for kid, alg, state, created, activated, retired, revoked, sealed in rows:
        try:
            created_at = d.time_in(created)
            if created_at is None:
                raise ValueError("created_at is NULL")
            out.append(
                KeyRow(
                    kid=str(kid),
                    alg=str(alg),
                    state=str(state),
                    created_at=created_at,
                    activated_at=d.time_in(activated),
                    retired_at=d.time_in(retired),
                    revoked_at=d.time_in(revoked),
                    sealed=bytes(sealed),
                )
            )
        except (ValueError, TypeError) as exc:
            raise CorruptStoreError(f"{d.label}: key {kid!r} has a damaged row") from exc
    return out


def _apply(tx: Tx, old: list[KeyRow], new: list[KeyRow]) -> None:
    """Write the difference between two complete sets of rows."""
    d = tx.dialect
    before = {r.kid: r for r in old}
    after = {r.kid: r for r in new}
    for kid in before.keys() - after.keys():
        tx.execute("DELETE FROM jwtkit_keys WHERE kid = ?", (kid,))
    for kid, row in after.items():
        prev = before.get(kid)
        if prev == row:
            continue
        if prev is not None:
            tx.execute("DELETE FROM jwtkit_keys WHERE kid = ?", (kid,))
        tx.execute(
            f"INSERT INTO jwtkit_keys ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",  # noqa: S608
            (
                row.kid,
                row.alg,
                row.state,
                d.time_out(row.created_at),
                d.time_out(row.activated_at),
                d.time_out(row.retired_at),
                d.time_out(row.revoked_at),
                row.sealed,
            ),
        )
