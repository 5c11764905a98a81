"""The small storage interface behind KeyManager, and the in-memory backend.

A store holds a meta table (store id, schema version, KDF salt, master key check value, a
generation counter bumped by every write) and one row per key (its :class:`KeyRecord` plus
the sealed private key). Every change goes through :meth:`Store.update`, which runs the
caller's pure function inside one exclusive transaction, so concurrent writers serialize and
a crash leaves either the old ring or the new one.
"""

from __future__ import annotations

import dataclasses
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final, Protocol
from urllib.parse import urlsplit, urlunsplit

from jwtkit.errors import KeyStoreError

from ._crypto import ScryptParams
from ._lifecycle import KeyRecord

__all__ = [
    "SCHEMA_VERSION",
    "Change",
    "MemoryStore",
    "Store",
    "StoreMeta",
    "StoredKey",
    "open_store",
    "redact_url",
]

SCHEMA_VERSION: Final = 2
"""Version 1 had no ``revoked_at`` column and no generation counter."""


@dataclass(frozen=True)
class StoredKey:
    """A key row: public bookkeeping plus the sealed (encrypted) private JWK."""

    record: KeyRecord
    sealed: bytes = field(repr=False)


@dataclass(frozen=True)
class StoreMeta:
    """The store's meta row set."""

    store_id: str
    schema_version: int
    kdf_salt: bytes
    kdf: ScryptParams
    check: bytes = field(repr=False)
    generation: int = 0


@dataclass(frozen=True)
class Change:
    """What an update function wants written: the new key rows, optionally a new check value
    and KDF salt (master key rewrap)."""

    keys: list[StoredKey]
    check: bytes | None = None
    kdf_salt: bytes | None = None


Updater = Callable[[StoreMeta, list[StoredKey]], Change | None]


class Store(Protocol):
    """One key store backend."""

    label: str

    def load_meta(self) -> StoreMeta | None:
        """Return the meta, or None for an uninitialized store; never writes.

        Raises SchemaVersionError for a newer schema and CorruptStoreError for damage.
        """

    def initialize(self, meta: StoreMeta) -> StoreMeta:
        """Create the schema with ``meta`` unless another process did first; return the
        meta actually stored."""

    def migrate(self) -> None:
        """Upgrade an older schema version in place, in one transaction."""

    def read(self) -> tuple[StoreMeta, list[StoredKey]]:
        """Return a consistent snapshot of the meta and every key row."""

    def update(self, fn: Updater) -> tuple[StoreMeta, list[StoredKey]]:
        """Run ``fn`` on the current rows under an exclusive lock and write its Change."""

    def close(self) -> None:
        """Release connections; further calls fail."""


class MemoryStore:
    """A process-local store for tests and single-process tools (``memory://``)."""

    label = "memory://"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._meta: StoreMeta | None = None
        self._keys: list[StoredKey] = []
        self._closed = False

    def _check_open(self) -> None:
        if self._closed:
            raise KeyStoreError("the key store is closed")

    def load_meta(self) -> StoreMeta | None:
        """Return the meta or None before initialization."""
        with self._lock:
            self._check_open()
            return self._meta

    def initialize(self, meta: StoreMeta) -> StoreMeta:
        """Set the meta unless already set."""
        with self._lock:
            self._check_open()
            if self._meta is None:
                self._meta = meta
            return self._meta

    def migrate(self) -> None:
        """Nothing to migrate: memory stores never outlive the process."""

    def read(self) -> tuple[StoreMeta, list[StoredKey]]:
        """Return the meta and a copy of the rows."""
        with self._lock:
            self._check_open()
            if self._meta is None:
                raise KeyStoreError("the key store is not initialized")
            return self._meta, list(self._keys)

    def update(self, fn: Updater) -> tuple[StoreMeta, list[StoredKey]]:
        """Apply ``fn`` atomically: the rows change only if ``fn`` returns normally."""
        with self._lock:
            self._check_open()
            if self._meta is None:
                raise KeyStoreError("the key store is not initialized")
            change = fn(self._meta, list(self._keys))
            if change is None:
                return self._meta, list(self._keys)
            meta = dataclasses.replace(self._meta, generation=self._meta.generation + 1)
            if change.check is not None:
                meta = dataclasses.replace(meta, check=change.check)
            if change.kdf_salt is not None:
                meta = dataclasses.replace(meta, kdf_salt=change.kdf_salt)
            self._meta, self._keys = meta, list(change.keys)
            return self._meta, list(self._keys)

    def close(self) -> None:
        """Mark the store closed."""
        with self._lock:
            self._closed = True


def redact_url(url: str) -> str:
    """Return ``url`` without its password (userinfo or ``password=`` query), for messages."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if parts.password is not None:
        host = parts.hostname or ""
        if parts.port is not None:
            host = f"{host}:{parts.port}"
        netloc = f"{parts.username or ''}:***@{host}"
    query = re.sub(r"(?i)(^|&)(password)=[^&]*", r"\1\2=***", parts.query)
    if netloc == parts.netloc and query == parts.query:
        return url
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def open_store(url: str) -> Store:
    """Open the backend named by ``url`` (memory://, sqlite:///path, postgresql://...).

    Raises:
        KeyStoreError: unknown scheme, unreachable server, unreadable file.
    """
    if not isinstance(url, str):
        raise TypeError("the store URL must be a str")
    scheme = url.split(":", 1)[0].lower() if ":" in url else ""
    if url == "memory://" or scheme == "memory":
        return MemoryStore()
    if scheme == "sqlite":
        from ._sqlite import SQLiteStore

        return SQLiteStore.from_url(url)
    if scheme in ("postgresql", "postgres"):
        from ._postgres import PostgresStore

        return PostgresStore.from_url(url)
    raise KeyStoreError(
        f"unsupported key store URL {redact_url(url)!r}: use memory://, sqlite:///PATH "
        "or postgresql://..."
    )
