"""The token service's own tables, beside the keys, in the same SQLite file or PostgreSQL DB.

One small seam over two drivers: standard-library ``sqlite3`` and psycopg 3 (imported lazily).
SQL is written once with ``?`` placeholders and translated for psycopg. Write transactions
take the database lock first (SQLite ``BEGIN IMMEDIATE``; PostgreSQL row locks with
``SELECT ... FOR UPDATE`` in the callers), so read-check-write sequences such as refresh-token
rotation are atomic across threads and processes.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from typing import Any, Literal, Protocol
from urllib.parse import unquote, urlsplit

from jwtkit.errors import CorruptStoreError, KeyStoreError, SchemaVersionError

__all__ = ["Database", "Transaction"]

SCHEMA_VERSION = 1
_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS jwtkit_server_meta (
        name TEXT PRIMARY KEY, value TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS jwtkit_users (
        username TEXT PRIMARY KEY, password_hash TEXT NOT NULL, roles TEXT NOT NULL,
        disabled INTEGER NOT NULL DEFAULT 0, created_at DOUBLE PRECISION NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS jwtkit_clients (
        client_id TEXT PRIMARY KEY, secret_hash TEXT, scopes TEXT NOT NULL,
        grants TEXT NOT NULL, disabled INTEGER NOT NULL DEFAULT 0,
        created_at DOUBLE PRECISION NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS jwtkit_refresh_families (
        family_id TEXT PRIMARY KEY, client_id TEXT NOT NULL, username TEXT NOT NULL,
        scope TEXT NOT NULL, created_at DOUBLE PRECISION NOT NULL,
        revoked_at DOUBLE PRECISION, revoke_reason TEXT)""",
    """CREATE TABLE IF NOT EXISTS jwtkit_refresh_tokens (
        token_hash TEXT PRIMARY KEY, family_id TEXT NOT NULL, parent_hash TEXT,
        issued_at DOUBLE PRECISION NOT NULL, expires_at DOUBLE PRECISION NOT NULL,
        used_at DOUBLE PRECISION, replaced_by TEXT)""",
    """CREATE INDEX IF NOT EXISTS jwtkit_refresh_tokens_family
        ON jwtkit_refresh_tokens (family_id)""",
    """CREATE TABLE IF NOT EXISTS jwtkit_denylist (
        jti TEXT PRIMARY KEY, expires_at DOUBLE PRECISION NOT NULL)""",
)
# An arbitrary constant: serialises schema creation between processes on PostgreSQL.
_PG_SCHEMA_LOCK = 0x6A77746B


class _Connection(Protocol):
    def execute(self, sql: str, params: Sequence[Any] = ...) -> Any: ...
    def commit(self) -> None: ...
    def rollback(self) -> None: ...
    def close(self) -> None: ...


class Transaction:
    """One open transaction; ``execute`` returns every row as a tuple."""

    def __init__(self, conn: _Connection, dialect: Literal["sqlite", "postgres"]) -> None:
        self._conn = conn
        self.dialect = dialect

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run one statement and return its rows (empty for statements without rows)."""
        if self.dialect == "postgres":
            sql = sql.replace("?", "%s")
        cur = self._conn.execute(sql, tuple(params))
        if cur.description is None:
            return []
        return [tuple(row) for row in cur.fetchall()]

    def one(self, sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...] | None:
        """Run a query expected to give at most one row and return it, or None."""
        rows = self.execute(sql, params)
        return rows[0] if rows else None

    @property
    def for_update(self) -> str:
        """Return the row-lock suffix for a SELECT (SQLite already holds the write lock)."""
        return " FOR UPDATE" if self.dialect == "postgres" else ""


class Database:
    """A small pool of connections to the store named by a jwtkit store URL.

    ``sqlite:///relative.db``, ``sqlite:////absolute.db``, ``postgresql://...`` and
    ``memory://`` (a private in-memory SQLite database that lives as long as this object).
    A new SQLite file is created with mode 0600, since it also holds the wrapped keys.
    """

    _memory_ids = itertools.count(1)

    def __init__(self, url: str) -> None:
        self.url = url
        self._lock = threading.Lock()
        self._idle: list[_Connection] = []
        self._closed = False
        self._keepalive: _Connection | None = None
        self._memory_lock = threading.Lock()
        if url.startswith("memory://"):
            self.dialect: Literal["sqlite", "postgres"] = "sqlite"
            self._sqlite_target = (
                f"file:jwtkit-server-{os.getpid()}-{next(self._memory_ids)}"
                "?mode=memory&cache=shared"
            )
            self._sqlite_uri = True
            self._keepalive = self._connect()
        elif url.startswith("sqlite://"):
            self.dialect = "sqlite"
            self._sqlite_target = _sqlite_path(url)
            self._sqlite_uri = False
            _create_private_file(self._sqlite_target)
        elif url.startswith(("postgresql://", "postgres://")):
            self.dialect = "postgres"
        else:
            raise KeyStoreError(
                "unsupported store URL scheme (sqlite://, postgresql://, memory://)"
            )
        self._create_schema()

    def _connect(self) -> _Connection:
        """Open one new driver connection, mapping driver failures to KeyStoreError."""
        if self.dialect == "sqlite":
            try:
                conn = sqlite3.connect(
                    self._sqlite_target,
                    timeout=30,
                    isolation_level=None,
                    check_same_thread=False,
                    uri=self._sqlite_uri,
                )
                conn.execute("PRAGMA busy_timeout = 30000")
            except sqlite3.Error as exc:
                raise KeyStoreError(f"cannot open the SQLite store: {exc}") from None
            return conn
        try:
            import psycopg
        except ImportError:  # pragma: no cover - depends on the installed extras
            raise KeyStoreError(
                "PostgreSQL stores need psycopg: pip install 'jwtkit[postgres]'"
            ) from None
        try:
            return psycopg.connect(self.url, connect_timeout=10)
        except psycopg.Error:
            # The driver's message may echo the URL with its password: do not repeat it.
            raise KeyStoreError("cannot connect to the PostgreSQL store") from None

    @contextlib.contextmanager
    def transaction(self, *, write: bool = False) -> Iterator[Transaction]:
        """Run a block in one transaction; commit on success, roll back on any exception.

        ``write=True`` takes SQLite's write lock at the start (``BEGIN IMMEDIATE``) so that
        a read-check-write sequence cannot interleave with another writer.
        """
        conn = self._acquire()
        ok = False
        try:
            try:
                if self.dialect == "sqlite":
                    conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
                tx = Transaction(conn, self.dialect)
                yield tx
                conn.commit()
                ok = True
            except BaseException as exc:
                with contextlib.suppress(Exception):
                    conn.rollback()
                mapped = _map_driver_error(exc)
                if mapped is None:
                    raise
                raise mapped from None
        finally:
            self._release(conn, healthy=ok)

    def _acquire(self) -> _Connection:
        if self._keepalive is not None:
            # An in-memory database has one connection, used by one thread at a time.
            self._memory_lock.acquire()
            return self._keepalive
        with self._lock:
            if self._closed:
                raise KeyStoreError("the store is closed")
            while self._idle:
                conn = self._idle.pop()
                # psycopg marks a connection broken when the server went away; SQLite never.
                if getattr(conn, "broken", False) or getattr(conn, "closed", False):
                    with contextlib.suppress(Exception):
                        conn.close()
                    continue
                return conn
        return self._connect()

    def _release(self, conn: _Connection, *, healthy: bool) -> None:
        if conn is self._keepalive:
            self._memory_lock.release()
            return
        with self._lock:
            if healthy and not self._closed and len(self._idle) < 8:
                self._idle.append(conn)
                return
        with contextlib.suppress(Exception):
            conn.close()

    def close(self) -> None:
        """Close every pooled connection; later transactions raise KeyStoreError."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for conn in idle:
            with contextlib.suppress(Exception):
                conn.close()
        if self._keepalive is not None:
            self._keepalive.close()
            self._keepalive = None

    def _create_schema(self) -> None:
        """Create the tables if needed and refuse a store written by a newer jwtkit."""
        with self.transaction(write=True) as tx:
            if tx.dialect == "postgres":
                tx.execute("SELECT pg_advisory_xact_lock(?)", (_PG_SCHEMA_LOCK,))
            for statement in _SCHEMA:
                tx.execute(statement)
            row = tx.one("SELECT value FROM jwtkit_server_meta WHERE name = 'schema_version'")
            if row is None:
                tx.execute(
                    "INSERT INTO jwtkit_server_meta (name, value) VALUES ('schema_version', ?)",
                    (str(SCHEMA_VERSION),),
                )
            elif not str(row[0]).isdigit():
                raise CorruptStoreError("the service schema version is unreadable")
            elif int(row[0]) > SCHEMA_VERSION:
                raise SchemaVersionError(
                    f"the store's service tables have schema version {row[0]}; this jwtkit "
                    f"understands up to {SCHEMA_VERSION}: upgrade jwtkit"
                )


def _sqlite_path(url: str) -> str:
    """Return the file path of ``sqlite:///rel`` or ``sqlite:////abs`` (SQLAlchemy style)."""
    parts = urlsplit(url)
    if parts.netloc not in ("", "localhost"):
        raise KeyStoreError("a sqlite:// URL has no host: use sqlite:///path/to/file.db")
    path = unquote(parts.path)
    path = path[1:] if path.startswith("/") else path
    if not path:
        raise KeyStoreError("the sqlite:// URL names no file")
    return path


def _create_private_file(path: str) -> None:
    """Create the SQLite file with mode 0600 if it does not exist yet."""
    try:
        fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
    except OSError as exc:
        raise KeyStoreError(f"cannot create the SQLite store: {exc.strerror}") from None
    os.close(fd)


def _map_driver_error(exc: BaseException) -> KeyStoreError | None:
    """Turn a driver error into a jwtkit error (no SQL or data in the message), else None."""
    if isinstance(exc, sqlite3.Error):
        text = str(exc)
        if "file is not a database" in text or "malformed" in text:
            return CorruptStoreError("the SQLite store is corrupted or not a database")
        return KeyStoreError(f"SQLite store error: {text}")
    if type(exc).__module__.startswith("psycopg"):
        return KeyStoreError(f"PostgreSQL store error: {type(exc).__name__}")
    return None
