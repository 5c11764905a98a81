"""``Database``: one store (SQLite file, PostgreSQL database or memory), its pool and schema.

Work is done in functions of one :class:`Tx` run by :meth:`Database.read` or
:meth:`Database.write`, so that a transaction can be run again: when a pooled connection turns
out to be dead (the database restarted, a partition healed) before the transaction committed,
it is discarded and the function runs once more on a fresh connection, so stale connections
never cost an error. Every call has one deadline (the store timeout) covering the wait for a
connection, connecting and the statements; overrunning it raises
:class:`~jwtkit.errors.StoreUnavailableError`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, Final, TypeVar

from jwtkit.errors import KeyStoreError, StoreUnavailableError

from . import _migrations
from ._dialect import Connection, Dialect
from ._pool import Pool, Watchdog
from ._url import parse_store_url

__all__ = ["DEFAULT_POOL_SIZE", "DEFAULT_TIMEOUT", "Database", "Tx"]

T = TypeVar("T")
DEFAULT_TIMEOUT: Final = 2.0
DEFAULT_POOL_SIZE: Final = 10


class Tx:
    """One open transaction: statements with ``?`` placeholders, rows as tuples."""

    def __init__(self, conn: Connection, dialect: Dialect) -> None:
        self._conn = conn
        self.dialect = dialect

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run one statement and return its rows (empty for statements without rows)."""
        return self.dialect.run(self._conn, sql, params)

    def one(self, sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...] | None:
        """Run a query expected to give at most one row and return it, or None."""
        rows = self.execute(sql, params)
        return rows[0] if rows else None

    def ddl(self, sql: str) -> None:
        """Run a DDL statement with the dialect's column types (``{blob}``, ``{timestamp}``)."""
        self.execute(self.dialect.ddl(sql))

    @property
    def for_update(self) -> str:
        """Return the row-lock suffix of a SELECT (SQLite already holds the write lock)."""
        return self.dialect.for_update


class Database:
    """An open store. Use :meth:`open`; share one per process and URL."""

    def __init__(self, dialect: Dialect, pool: Pool, watchdog: Watchdog | None) -> None:
        """Wire an opened dialect and pool; use :meth:`open`."""
        self.dialect = dialect
        self.label = dialect.label
        self.timeout = dialect.timeout
        self._pool = pool
        self._watchdog = watchdog
        self._closed = False
        self._close_lock = threading.Lock()
        # SQLite has one writer per file. Writers of this process wait their turn here, in
        # order, instead of in SQLite's busy handler, which sleeps and polls (up to 100 ms a
        # time): under load that turned refresh rotations into multi-second tails and 503s
        # (issue 18). Other processes still meet at the file lock (busy_timeout).
        self._write_turn = threading.Lock() if dialect.name == "sqlite" else None

    @classmethod
    def open(
        cls,
        url: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        pool_size: int = DEFAULT_POOL_SIZE,
        migrate: bool = True,
    ) -> Database:
        """Open the store at ``url`` and (unless ``migrate=False``) bring its schema up to date.

        ``timeout`` bounds every call (pool wait, connect, statements, SQLite lock waits).
        With ``migrate=False`` nothing is written: the caller checks what it must (the key
        manager checks the master key) and calls :meth:`migrate` itself.

        Raises:
            SchemaVersionError: the store was written by a newer jwtkit.
            CorruptStoreError: the store is damaged or not a jwtkit store.
            StoreUnavailableError: the database cannot be reached in time.
            KeyStoreError: anything else that keeps the store from opening.
        """
        if not timeout > 0:
            raise ValueError("the store timeout must be positive")
        parsed = parse_store_url(url)
        dialect: Dialect
        watchdog = None
        if parsed.kind == "postgresql":
            from ._postgres import PostgresDialect

            dialect = PostgresDialect(parsed.label, timeout, parsed.raw)
            watchdog = Watchdog(dialect.interrupt)
            pool = _pool(dialect, pool_size, watchdog)
        else:
            from ._sqlite import SQLiteDialect

            dialect = SQLiteDialect(parsed.label, timeout, parsed.path)
            first = dialect.prepare()
            # A memory database lives in its one connection, which is never closed early.
            pool = _pool(dialect, 1 if parsed.path is None else pool_size, None)
            pool.add(first)
        db = cls(dialect, pool, watchdog)
        try:
            version = db.schema_version()
            if migrate and version != _migrations.SCHEMA_VERSION:
                db.migrate()
        except BaseException:
            db.close()
            raise
        return db

    # -- running transactions ------------------------------------------------------------------

    def read(self, fn: Callable[[Tx], T]) -> T:
        """Run ``fn`` in a read transaction and return its result."""
        return self._run(fn, write=False)

    def write(self, fn: Callable[[Tx], T]) -> T:
        """Run ``fn`` in a write transaction (SQLite: the write lock first) and commit."""
        return self._run(fn, write=True)

    def _run(self, fn: Callable[[Tx], T], *, write: bool) -> T:
        deadline = time.monotonic() + self.timeout
        turn = self._write_turn if write else None
        if turn is None:
            return self._attempts(fn, write=write, deadline=deadline)
        if not turn.acquire(timeout=self.timeout):
            raise StoreUnavailableError(
                f"{self.label}: no write turn within {self.timeout:g}s (the store is busy)"
            )
        try:
            return self._attempts(fn, write=write, deadline=deadline)
        finally:
            turn.release()

    def _attempts(self, fn: Callable[[Tx], T], *, write: bool, deadline: float) -> T:
        for attempt in (1, 2):
            conn = self._pool.acquire(deadline)
            try:
                return self._once(conn, fn, write=write, deadline=deadline)
            except _RetryError as retry:
                if attempt == 2 or time.monotonic() >= deadline:
                    raise retry.error from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _once(self, conn: Connection, fn: Callable[[Tx], T], *, write: bool, deadline: float) -> T:
        """Run one attempt on ``conn`` and give the connection back (or discard it)."""
        dialect = self.dialect
        committing = False
        fired = False
        try:
            with self._watch(conn, deadline) as guard:
                try:
                    dialect.run(conn, dialect.begin(write=write))
                    result = fn(Tx(conn, dialect))
                    committing = True
                    dialect.run(conn, "COMMIT")
                except BaseException:
                    # Also after a failed COMMIT: a SQLite connection may still be inside the
                    # transaction, and must not go back to the pool that way.
                    _rollback(dialect, conn)
                    raise
                finally:
                    fired = guard is not None and guard.fired
        except BaseException as exc:
            if not dialect.is_driver_error(exc):
                self._give_back(conn, broken=fired)
                raise
            broken = fired or dialect.is_connection_error(exc)
            self._give_back(conn, broken=broken)
            error = dialect.map_error(exc, timed_out=fired)
            if broken and not fired and not committing:
                # The transaction never committed and the server rolled it back with the
                # connection: running it again on another connection is safe.
                raise _RetryError(error) from None
            raise error from None
        self._give_back(conn, broken=fired)
        return result

    def _watch(self, conn: Connection, deadline: float) -> Any:
        if self._watchdog is None:
            return _NoGuard()
        return self._watchdog.watch(conn, deadline)

    def _give_back(self, conn: Connection, *, broken: bool) -> None:
        if broken:
            self._pool.discard(conn)
        else:
            self._pool.release(conn)

    # -- schema --------------------------------------------------------------------------------

    def schema_version(self) -> int:
        """Return the stored schema version (0 for an empty database); never writes.

        Raises:
            SchemaVersionError: newer than this jwtkit understands.
            CorruptStoreError: the version cannot be read.
        """
        return self.read(_migrations.read_version)

    def migrate(self) -> None:
        """Apply every pending migration, in order, in one transaction."""
        self.write(_migrations.migrate)

    def ping(self) -> None:
        """Run one round trip (for health checks)."""
        self.read(lambda tx: tx.execute("SELECT 1"))

    def checkpoint(self) -> bool:
        """Leave nothing committed in SQLite's WAL file (``wal_checkpoint(TRUNCATE)``).

        With ``secure_delete`` this wipes what a transaction deleted from the store's files,
        unless a reader in another connection holds an older snapshot (then False). A no-op
        that returns True on PostgreSQL, whose residue is its own (dead tuples, WAL).

        Raises:
            StoreUnavailableError: no connection within the store timeout.
            KeyStoreError: the database failed.
        """
        conn = self._pool.acquire(time.monotonic() + self.timeout)
        try:
            done = self.dialect.checkpoint(conn)
        except BaseException as exc:
            driver = self.dialect.is_driver_error(exc)
            self._give_back(conn, broken=driver and self.dialect.is_connection_error(exc))
            if driver:
                raise self.dialect.map_error(exc, timed_out=False) from None
            raise
        self._give_back(conn, broken=False)
        return done

    def close(self) -> None:
        """Close the pool; later calls raise KeyStoreError."""
        with self._close_lock:
            if self._closed:
                return
            self._closed = True
        self._pool.close()
        if self._watchdog is not None:
            self._watchdog.stop()

    def __repr__(self) -> str:
        return f"Database({self.label!r})"


class _RetryError(Exception):
    def __init__(self, error: KeyStoreError) -> None:
        super().__init__(str(error))
        self.error = error


class _NoGuard:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def _rollback(dialect: Dialect, conn: Connection) -> None:
    try:
        dialect.run(conn, "ROLLBACK")
    except Exception:  # noqa: S110 - the connection is broken; the caller discards it.
        pass


def _pool(dialect: Dialect, size: int, watchdog: Watchdog | None) -> Pool:
    def check(conn: Connection, deadline: float) -> None:
        if watchdog is None:
            dialect.run(conn, "SELECT 1")
            return
        with watchdog.watch(conn, deadline):
            dialect.run(conn, "SELECT 1")

    return Pool(dialect.connect, dialect.close, check, max_size=size, label=dialect.label)
