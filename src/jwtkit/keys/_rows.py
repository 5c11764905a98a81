"""The key manager's view of its store: typed rows over :class:`jwtkit._storage.KeyRows`.

:class:`KeyStore` turns the storage layer's text and rows into what the manager works with
(:class:`StoreMeta` with the KDF parameters and check value decoded, :class:`StoredKey` with a
:class:`KeyRecord`), so the codecs live here once and the SQL lives in ``jwtkit._storage``.

Once the manager has attached its :class:`~jwtkit.keys._integrity.RingAuth` (``auth``), every
read and every change verifies the ring's MAC before anything is returned or changed, and every
change writes the MAC of what it leaves, in its own transaction (issue 12).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field

from jwtkit._b64 import b64decode, b64encode
from jwtkit._storage import SCHEMA_VERSION, Database, KeyChange, KeyMeta, KeyRow, KeyRows
from jwtkit.errors import CorruptStoreError

from ._integrity import RingAuth, RingState
from ._lifecycle import SIGNING_ALGS, KeyRecord
from ._masterkey import ScryptParams

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
    # The ring's MAC (None in a store from before issue 12, until it is migrated).
    mac: bytes | None = field(default=None, repr=False)

    def ring(self, keys: list[StoredKey]) -> RingState:
        """Return what the ring's MAC covers, with these keys."""
        rows = [(k.record, k.sealed) for k in keys]
        return RingState(self.store_id, self.generation, self.signing_algs, rows)


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
        self.auth: RingAuth | None = None

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
                b64encode(meta.check).decode("ascii"),
                signing_algs=_algs_out(meta.signing_algs) if meta.signing_algs else None,
                mac=None if meta.mac is None else b64encode(meta.mac).decode("ascii"),
            )
        )
        return _meta_in(stored, self.label)

    def read(self) -> tuple[StoreMeta, list[StoredKey]]:
        """Return the meta and every key of one committed state, authenticated.

        Raises:
            CorruptStoreError: the ring fails its MAC or is older than one already seen.
        """
        floor = -1 if self.auth is None else self.auth.seen
        raw, rows = self.rows.read()
        meta, keys = _meta_in(raw, self.label), [_key_in(r) for r in rows]
        if self.auth is not None:
            self.auth.check_master(meta.check, meta.store_id)
            self.auth.verify(meta.ring(keys), meta.mac, floor=floor)
        return meta, keys

    def generation(self) -> int:
        """Return the store's write counter."""
        return self.rows.generation()

    def update(
        self, fn: Updater, *, auth: RingAuth | None = None, legacy: bool = False
    ) -> tuple[StoreMeta, list[StoredKey]]:
        """Run ``fn`` under the ring's write lock and write its change atomically.

        The current ring is verified first (``legacy``: a store without a MAC yet is let
        through, for its migration); the change is authenticated with ``auth`` (a rewrap's
        new key) or the store's own authenticator.

        Raises:
            CorruptStoreError: the ring fails its MAC or is older than one already seen.
        """
        sign = auth or self.auth
        floor = -1 if self.auth is None else self.auth.seen

        def authenticate(raw: KeyMeta, rows: list[KeyRow]) -> str:
            assert sign is not None  # noqa: S101 - only passed when there is one
            meta = _meta_in(raw, self.label)
            return b64encode(sign.tag(meta.ring([_key_in(r) for r in rows]))).decode("ascii")

        def step(raw: KeyMeta, rows: list[KeyRow]) -> KeyChange | None:
            meta, keys = _meta_in(raw, self.label), [_key_in(r) for r in rows]
            if self.auth is not None:
                self.auth.check_master(meta.check, meta.store_id)
                unmigrated = legacy and meta.mac is None and self._unmigrated(meta)
                if not unmigrated:
                    self.auth.verify(meta.ring(keys), meta.mac, floor=floor)
            change = fn(meta, keys)
            if change is None:
                return None
            kdf = None if change.kdf_salt is None else meta.kdf.to_json(change.kdf_salt)
            check = None if change.check is None else b64encode(change.check).decode("ascii")
            algs = None if change.signing_algs is None else _algs_out(change.signing_algs)
            return KeyChange(
                [_key_out(k) for k in change.keys],
                check=check,
                kdf=kdf,
                signing_algs=algs,
                authenticate=None if sign is None else authenticate,
            )

        raw, rows = self.rows.update(step)
        meta = _meta_in(raw, self.label)
        if sign is not None:
            sign.saw(meta.generation)
        return meta, [_key_in(r) for r in rows]

    def _unmigrated(self, meta: StoreMeta) -> bool:
        """Say whether the store is from before the ring MAC (its check value is version 1)."""
        return self.auth is not None and self.auth.is_legacy(meta.check, meta.store_id)

    def close(self) -> None:
        """Close the database if this store opened it."""
        if self._owns:
            self.db.close()


def _meta_in(meta: KeyMeta, label: str) -> StoreMeta:
    try:
        salt, params = ScryptParams.from_json(meta.kdf)
        algs = _algs_in(meta.signing_algs)
        mac = None if meta.mac is None else b64decode(meta.mac.encode("ascii"))
        check = b64decode(meta.check.encode("ascii"))
        return StoreMeta(meta.store_id, salt, params, check, meta.generation, algs, mac)
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
