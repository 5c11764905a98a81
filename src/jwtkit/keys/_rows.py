"""The key manager's view of its store: typed rows over :class:`jwtkit._storage.KeyRows`.

:class:`KeyStore` turns the storage layer's text and rows into what the manager works with
(:class:`StoreMeta` with the KDF parameters and check value decoded, :class:`StoredKey` with a
:class:`KeyRecord`), so the codecs live here once and the SQL lives in ``jwtkit._storage``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field

from jwtkit._storage import SCHEMA_VERSION, Database, KeyChange, KeyMeta, KeyRow, KeyRows
from jwtkit.errors import CorruptStoreError

from ._crypto import ScryptParams, b64d, b64e
from ._lifecycle import SIGNING_ALGS, KeyRecord

__all__ = ["SCHEMA_VERSION", "Change", "KeyStore", "StoreMeta", "StoredKey"]


@dataclass(frozen=True)
class StoredKey:
    """A key row: public bookkeeping plus the sealed (encrypted) private JWK."""

    record: KeyRecord
    sealed: bytes = field(repr=False)


@dataclass(frozen=True)
class StoreMeta:
    """The store's meta rows, decoded."""

    store_id: str
    kdf_salt: bytes
    kdf: ScryptParams
    check: bytes = field(repr=False)
    generation: int = 0
    # The algorithms with an active key each, in order; empty until the ring records them.
    signing_algs: tuple[str, ...] = ()


@dataclass(frozen=True)
class Change:
    """What an update function wants written: the new key rows, optionally a new check value
    and KDF salt (master key rewrap) or new signing algorithms."""

    keys: list[StoredKey]
    check: bytes | None = None
    kdf_salt: bytes | None = None
    signing_algs: tuple[str, ...] | None = None


Updater = Callable[[StoreMeta, list[StoredKey]], Change | None]


class KeyStore:
    """The key tables of one database; closes the database only if it opened it."""

    def __init__(self, db: Database, *, owns: bool) -> None:
        self.db = db
        self.rows = KeyRows(db)
        self.label = db.label
        self._owns = owns

    def schema_version(self) -> int:
        """Return the stored schema version (0 for an empty database)."""
        return self.db.schema_version()

    def migrate(self) -> None:
        """Bring the schema up to date."""
        self.db.migrate()

    def load_meta(self) -> StoreMeta | None:
        """Return the meta, or None for a ring not yet initialized; never writes."""
        meta = self.rows.load_meta()
        return None if meta is None else _meta_in(meta, self.label)

    def initialize(self, meta: StoreMeta) -> StoreMeta:
        """Write the meta unless another process did first; return the stored one."""
        stored = self.rows.initialize(
            KeyMeta(
                meta.store_id,
                meta.kdf.to_json(meta.kdf_salt),
                b64e(meta.check),
                signing_algs=_algs_out(meta.signing_algs) if meta.signing_algs else None,
            )
        )
        return _meta_in(stored, self.label)

    def read(self) -> tuple[StoreMeta, list[StoredKey]]:
        """Return the meta and every key from one snapshot."""
        meta, rows = self.rows.read()
        return _meta_in(meta, self.label), [_key_in(r) for r in rows]

    def generation(self) -> int:
        """Return the store's write counter."""
        return self.rows.generation()

    def update(self, fn: Updater) -> tuple[StoreMeta, list[StoredKey]]:
        """Run ``fn`` under the ring's write lock and write its change atomically."""

        def step(raw: KeyMeta, rows: list[KeyRow]) -> KeyChange | None:
            meta = _meta_in(raw, self.label)
            change = fn(meta, [_key_in(r) for r in rows])
            if change is None:
                return None
            kdf = None if change.kdf_salt is None else meta.kdf.to_json(change.kdf_salt)
            check = None if change.check is None else b64e(change.check)
            algs = None if change.signing_algs is None else _algs_out(change.signing_algs)
            return KeyChange(
                [_key_out(k) for k in change.keys], check=check, kdf=kdf, signing_algs=algs
            )

        meta, rows = self.rows.update(step)
        return _meta_in(meta, self.label), [_key_in(r) for r in rows]

    def close(self) -> None:
        """Close the database if this store opened it."""
        if self._owns:
            self.db.close()


def _meta_in(meta: KeyMeta, label: str) -> StoreMeta:
    try:
        salt, params = ScryptParams.from_json(meta.kdf)
        algs = _algs_in(meta.signing_algs)
        return StoreMeta(meta.store_id, salt, params, b64d(meta.check), meta.generation, algs)
    except ValueError as exc:
        raise CorruptStoreError(f"{label}: the store's meta rows are damaged ({exc})") from exc


def _algs_in(text: str | None) -> tuple[str, ...]:
    if text is None:
        return ()
    value = json.loads(text)
    if not isinstance(value, list) or not all(a in SIGNING_ALGS for a in value):
        raise ValueError("signing_algs is not a list of signing algorithms")
    return tuple(dict.fromkeys(value))


def _algs_out(algs: tuple[str, ...]) -> str:
    return json.dumps(list(algs))


def _key_in(row: KeyRow) -> StoredKey:
    record = KeyRecord(
        kid=row.kid,
        alg=row.alg,
        state=row.state,  # type: ignore[arg-type]  # KeyRecord checks the state itself.
        created_at=row.created_at,
        activated_at=row.activated_at,
        retired_at=row.retired_at,
        revoked_at=row.revoked_at,
    )
    return StoredKey(record, row.sealed)


def _key_out(key: StoredKey) -> KeyRow:
    r = key.record
    return KeyRow(
        r.kid, r.alg, r.state, r.created_at, r.activated_at, r.retired_at, r.revoked_at, key.sealed
    )
