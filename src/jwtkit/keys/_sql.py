"""Shared logic of the SQL backends (SQLite and PostgreSQL): schema, migrations, diffs.

Tables: ``jwtkit_meta(name, value)`` and ``jwtkit_keys(kid, alg, state, created_at,
activated_at, retired_at, revoked_at, sealed)``. Subclasses provide the connection, the
transaction and locking statements, and the error mapping.
"""

from __future__ import annotations

import json
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any, ClassVar

from jwtkit.errors import CorruptStoreError, KeyStoreError, SchemaVersionError

from ._crypto import ScryptParams, b64d, b64e
from ._lifecycle import KeyRecord
from ._store import SCHEMA_VERSION, Change, StoredKey, StoreMeta, Updater

__all__ = ["SQLStore"]

_INSERT_KEY = (
    "INSERT INTO jwtkit_keys"
    " (kid, alg, state, created_at, activated_at, retired_at, revoked_at, sealed)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
_SELECT_KEYS = (
    "SELECT kid, alg, state, created_at, activated_at, retired_at, revoked_at, sealed"
    " FROM jwtkit_keys ORDER BY created_at, kid"
)


class SQLStore(ABC):
    """A store over a DB-API connection; every public method runs in one transaction."""

    label: str
    # DDL of the current schema, run in order on an empty database.
    DDL: ClassVar[Sequence[str]]
    # Statements upgrading version N to N + 1 (the version row is updated separately).
    MIGRATIONS: ClassVar[dict[int, Sequence[str]]]
    PARAM: ClassVar[str] = "?"
    # The meta query of a write transaction; PostgreSQL adds FOR UPDATE to take row locks.
    SELECT_META_LOCKED: ClassVar[str] = "SELECT name, value FROM jwtkit_meta"

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._closed = False

    # -- hooks ------------------------------------------------------------------------------

    @abstractmethod
    def _guard(self) -> AbstractContextManager[None]:
        """Map driver exceptions to jwtkit errors."""

    @abstractmethod
    def _read_txn(self) -> AbstractContextManager[None]:
        """A read-only transaction giving a consistent view."""

    @abstractmethod
    def _write_txn(self, *, schema: bool) -> AbstractContextManager[None]:
        """An exclusive write transaction (``schema``: for init/migrate, tables may be absent)."""

    @abstractmethod
    def _exec(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run one statement and return its rows (empty for non-queries)."""

    @abstractmethod
    def _tables(self) -> set[str]:
        """Return which of jwtkit_meta / jwtkit_keys exist."""

    @abstractmethod
    def _time_out(self, value: datetime | None) -> Any:
        """Convert an aware datetime to the column value."""

    @abstractmethod
    def _time_in(self, value: Any) -> datetime | None:
        """Convert a column value to an aware UTC datetime."""

    @abstractmethod
    def _disconnect(self) -> None:
        """Close the connection."""

    # -- Store interface -----------------------------------------------------------------------

    def _q(self, sql: str) -> str:
        return sql.replace("?", self.PARAM)

    def _check_open(self) -> None:
        if self._closed:
            raise KeyStoreError("the key store is closed")

    def load_meta(self) -> StoreMeta | None:
        """Return the meta or None when the database holds no jwtkit tables (never writes)."""
        with self._lock, self._guard():
            self._check_open()
            with self._read_txn():
                tables = self._tables()
                if not tables:
                    return None
                if "jwtkit_meta" not in tables or "jwtkit_keys" not in tables:
                    raise CorruptStoreError(f"{self.label}: a jwtkit table is missing")
                return self._read_meta(lock=False, current=False)

    def initialize(self, meta: StoreMeta) -> StoreMeta:
        """Create the tables and meta rows unless they exist; return the stored meta."""
        with self._lock, self._guard():
            self._check_open()
            with self._write_txn(schema=True):
                if self._tables():
                    return self._read_meta(lock=False, current=False)
                for stmt in self.DDL:
                    self._exec(stmt)
                rows = [
                    ("store_id", meta.store_id),
                    ("schema_version", str(SCHEMA_VERSION)),
                    ("kdf", _kdf_json(meta.kdf_salt, meta.kdf)),
                    ("check", b64e(meta.check)),
                    ("generation", str(meta.generation)),
                ]
                for name, value in rows:
                    self._exec(
                        self._q("INSERT INTO jwtkit_meta (name, value) VALUES (?, ?)"),
                        (name, value),
                    )
                return self._read_meta(lock=False, current=True)

    def migrate(self) -> None:
        """Upgrade the schema step by step to SCHEMA_VERSION in one transaction."""
        with self._lock, self._guard():
            self._check_open()
            with self._write_txn(schema=True):
                version = self._read_meta(lock=True, current=False).schema_version
                while version < SCHEMA_VERSION:
                    steps = self.MIGRATIONS.get(version)
                    if steps is None:
                        raise SchemaVersionError(
                            f"{self.label}: no upgrade path from schema version {version}"
                        )
                    for stmt in steps:
                        self._exec(stmt)
                    version += 1
                self._exec(
                    self._q("UPDATE jwtkit_meta SET value = ? WHERE name = 'schema_version'"),
                    (str(version),),
                )

    def read(self) -> tuple[StoreMeta, list[StoredKey]]:
        """Return the meta and every key row from one snapshot."""
        with self._lock, self._guard():
            self._check_open()
            with self._read_txn():
                meta = self._read_meta(lock=False, current=True)
                return meta, self._read_keys()

    def update(self, fn: Updater) -> tuple[StoreMeta, list[StoredKey]]:
        """Run ``fn`` under the store's write lock and write its Change atomically."""
        with self._lock, self._guard():
            self._check_open()
            with self._write_txn(schema=False):
                meta = self._read_meta(lock=True, current=True)
                keys = self._read_keys()
                change = fn(meta, keys)
                if change is None:
                    return meta, keys
                self._apply(keys, change)
                self._exec(
                    self._q("UPDATE jwtkit_meta SET value = ? WHERE name = 'generation'"),
                    (str(meta.generation + 1),),
                )
                if change.check is not None:
                    self._exec(
                        self._q("UPDATE jwtkit_meta SET value = ? WHERE name = 'check'"),
                        (b64e(change.check),),
                    )
                if change.kdf_salt is not None:
                    self._exec(
                        self._q("UPDATE jwtkit_meta SET value = ? WHERE name = 'kdf'"),
                        (_kdf_json(change.kdf_salt, meta.kdf),),
                    )
                return self._read_meta(lock=False, current=True), self._read_keys()

    def close(self) -> None:
        """Close the connection (idempotent)."""
        with self._lock:
            if not self._closed:
                self._closed = True
                self._disconnect()

    # -- helpers ---------------------------------------------------------------------------------

    def _apply(self, old: list[StoredKey], change: Change) -> None:
        before = {k.record.kid: k for k in old}
        after = {k.record.kid: k for k in change.keys}
        for kid in before.keys() - after.keys():
            self._exec(self._q("DELETE FROM jwtkit_keys WHERE kid = ?"), (kid,))
        for kid, key in after.items():
            prev = before.get(kid)
            if prev == key:
                continue
            if prev is not None:
                self._exec(self._q("DELETE FROM jwtkit_keys WHERE kid = ?"), (kid,))
            self._exec(
                self._q(_INSERT_KEY),
                self._row(key),
            )

    def _row(self, key: StoredKey) -> tuple[Any, ...]:
        r = key.record
        return (
            r.kid,
            r.alg,
            r.state,
            self._time_out(r.created_at),
            self._time_out(r.activated_at),
            self._time_out(r.retired_at),
            self._time_out(r.revoked_at),
            key.sealed,
        )

    def _read_meta(self, *, lock: bool, current: bool) -> StoreMeta:
        rows = self._exec(
            self.SELECT_META_LOCKED if lock else "SELECT name, value FROM jwtkit_meta"
        )
        values = {str(name): str(value) for name, value in rows}
        try:
            version = int(values["schema_version"])
        except (KeyError, ValueError):
            raise CorruptStoreError(f"{self.label}: the schema version is missing") from None
        if version > SCHEMA_VERSION:
            raise SchemaVersionError(
                f"{self.label}: written by a newer jwtkit (schema version {version}; this "
                f"jwtkit understands up to {SCHEMA_VERSION}); upgrade jwtkit"
            )
        if current and version != SCHEMA_VERSION:
            raise SchemaVersionError(
                f"{self.label}: schema version {version} needs an upgrade; reopen the store"
            )
        try:
            kdf = json.loads(values["kdf"])
            return StoreMeta(
                store_id=values["store_id"],
                schema_version=version,
                kdf_salt=b64d(kdf["salt"]),
                kdf=ScryptParams(n=int(kdf["n"]), r=int(kdf["r"]), p=int(kdf["p"])),
                check=b64d(values["check"]),
                generation=int(values.get("generation", "0")),
            )
        except (KeyError, ValueError, TypeError) as exc:
            raise CorruptStoreError(f"{self.label}: the store's meta rows are damaged") from exc

    def _read_keys(self) -> list[StoredKey]:
        rows = self._exec(_SELECT_KEYS)
        return list(self._parse_rows(rows))

    def _parse_rows(self, rows: list[tuple[Any, ...]]) -> Iterator[StoredKey]:
        for kid, alg, state, created, activated, retired, revoked, sealed in rows:
            try:
                created_at = self._time_in(created)
                if created_at is None:
                    raise ValueError("created_at is NULL")
                record = KeyRecord(
                    kid=str(kid),
                    alg=str(alg),
                    state=state,
                    created_at=created_at,
                    activated_at=self._time_in(activated),
                    retired_at=self._time_in(retired),
                    revoked_at=self._time_in(revoked),
                )
            except (ValueError, TypeError) as exc:
                raise CorruptStoreError(f"{self.label}: key {kid!r} has a damaged row") from exc
            yield StoredKey(record=record, sealed=bytes(sealed))


def _kdf_json(salt: bytes, params: ScryptParams) -> str:
    return json.dumps(
        {"alg": "scrypt", "salt": b64e(salt), "n": params.n, "r": params.r, "p": params.p},
        sort_keys=True,
    )
