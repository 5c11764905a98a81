"""SQLite backend (standard library ``sqlite3``): ``sqlite:///relative.db``, ``sqlite:////abs.db``.

The file is created with mode 0600 before SQLite opens it (SQLite gives its -wal and -shm
files the same mode). WAL journaling, ``synchronous=FULL``, and ``BEGIN IMMEDIATE`` for every
write: the write lock is taken before anything is read, so two processes rotating at once
serialize and the second sees the first one's result. A process killed mid-transaction leaves
the last committed state (SQLite's journal rolls the rest back on the next open).
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar, Final

from jwtkit.errors import CorruptStoreError, KeyStoreError

from ._sql import SQLStore

__all__ = ["SQLiteStore"]

_BUSY_TIMEOUT_MS: Final = 30_000
# Primary SQLite result codes that mean the file is damaged or not a database.
_SQLITE_CORRUPT: Final = 11
_SQLITE_NOTADB: Final = 26

_DDL_V2: Final = (
    "CREATE TABLE jwtkit_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE jwtkit_keys ("
    " kid TEXT PRIMARY KEY, alg TEXT NOT NULL, state TEXT NOT NULL,"
    " created_at TEXT NOT NULL, activated_at TEXT, retired_at TEXT, revoked_at TEXT,"
    " sealed BLOB NOT NULL)",
)


class SQLiteStore(SQLStore):
    """A key store in one SQLite file."""

    DDL: ClassVar[Sequence[str]] = _DDL_V2
    MIGRATIONS: ClassVar[dict[int, Sequence[str]]] = {
        1: (
            "ALTER TABLE jwtkit_keys ADD COLUMN revoked_at TEXT",
            "INSERT OR IGNORE INTO jwtkit_meta (name, value) VALUES ('generation', '0')",
        ),
    }

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path
        self.label = f"sqlite:///{path}"
        _create_private(path)
        try:
            self._conn = sqlite3.connect(
                str(path), isolation_level=None, check_same_thread=False, timeout=30.0
            )
        except sqlite3.Error as exc:
            raise KeyStoreError(f"{self.label}: cannot open the database: {exc}") from None
        try:
            with self._guard():
                self._conn.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
                check = self._conn.execute("PRAGMA quick_check").fetchall()
                if check != [("ok",)]:
                    raise CorruptStoreError(f"{self.label}: the database file is damaged")
                self._enable_wal()
                self._conn.execute("PRAGMA synchronous = FULL")
        except BaseException:
            self._conn.close()
            raise

    def _enable_wal(self) -> None:
        """Switch the file to WAL mode, waiting while another process does the same.

        Changing the journal mode needs an exclusive lock, and SQLite answers "database is
        locked" at once instead of calling the busy handler when two processes open a new
        store at the same moment, so retry for up to the busy timeout.
        """
        deadline = time.monotonic() + _BUSY_TIMEOUT_MS / 1000
        while True:
            try:
                mode = self._conn.execute("PRAGMA journal_mode").fetchone()
                if mode is None or str(mode[0]).lower() != "wal":
                    self._conn.execute("PRAGMA journal_mode = WAL")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.01)

    @classmethod
    def from_url(cls, url: str) -> SQLiteStore:
        """Open ``sqlite:///PATH`` (relative) or ``sqlite:////PATH`` (absolute)."""
        prefix = "sqlite:///"
        path = url[len(prefix) :].split("?", 1)[0] if url.startswith(prefix) else ""
        if not path or path == ":memory:":
            raise KeyStoreError("a SQLite key store URL looks like sqlite:///path/to/keys.db")
        return cls(Path(path))

    @contextmanager
    def _guard(self) -> Iterator[None]:
        try:
            yield
        except sqlite3.Error as exc:
            code = getattr(exc, "sqlite_errorcode", 0) & 0xFF
            text = str(exc)
            if code in (_SQLITE_CORRUPT, _SQLITE_NOTADB) or text.startswith("no such"):
                raise CorruptStoreError(
                    f"{self.label}: the database is damaged or not a jwtkit store ({text})"
                ) from None
            raise KeyStoreError(f"{self.label}: SQLite error: {text}") from None

    @contextmanager
    def _txn(self, begin: str) -> Iterator[None]:
        self._conn.execute(begin)
        try:
            yield
        except BaseException:
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

    @contextmanager
    def _read_txn(self) -> Iterator[None]:
        with self._txn("BEGIN"):
            yield

    @contextmanager
    def _write_txn(self, *, schema: bool) -> Iterator[None]:
        with self._txn("BEGIN IMMEDIATE"):
            yield

    def _exec(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self._conn.execute(sql, tuple(params)).fetchall()

    def _tables(self) -> set[str]:
        rows = self._exec(
            "SELECT name FROM sqlite_master WHERE type = 'table'"
            " AND name IN ('jwtkit_meta', 'jwtkit_keys')"
        )
        return {str(r[0]) for r in rows}

    def _time_out(self, value: datetime | None) -> Any:
        return None if value is None else value.astimezone(UTC).isoformat()

    def _time_in(self, value: Any) -> datetime | None:
        if value is None:
            return None
        parsed = datetime.fromisoformat(str(value))
        if parsed.utcoffset() is None:
            raise ValueError("naive timestamp in the store")
        return parsed.astimezone(UTC)

    def _disconnect(self) -> None:
        self._conn.close()


def _create_private(path: Path) -> None:
    """Create ``path`` with mode 0600 if it does not exist (never truncates)."""
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        return
    except OSError as exc:
        raise KeyStoreError(
            f"cannot create the key store file {str(path)!r}: {exc.strerror}"
        ) from None
    os.close(fd)
