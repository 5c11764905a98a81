"""SQLite: one file shared by the service process and the CLI, or a private memory database.

The file is created with mode 0600 and ``O_EXCL`` *before* the first connection, and never
opened by jwtkit in any other way: POSIX locks belong to the process, and closing any
descriptor of the file would drop every lock the process's connections hold (issue 9: a
service then wrote into a WAL file that another process had already deleted). Connections use
WAL journaling, ``synchronous=FULL`` (each commit is fsynced to the WAL before it is
acknowledged, so it survives a crash of the process and of the machine), ``secure_delete``
(deleted and overwritten content is zeroed, so a revoked key's ciphertext does not stay in
free space; issue 12) and a busy timeout equal to the store timeout. Write transactions are
``BEGIN IMMEDIATE``: the write lock is taken before anything is read, so read-check-write
sequences never interleave.
"""

from __future__ import annotations

import os
import sqlite3
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar, Final

from jwtkit.errors import CorruptStoreError, KeyStoreError, StoreUnavailableError

from ._dialect import Connection, Dialect

__all__ = ["SQLiteDialect", "create_private_file"]

# Primary result codes that mean the file is damaged or not a database.
_SQLITE_CORRUPT: Final = 11
_SQLITE_NOTADB: Final = 26
_SQLITE_BUSY: Final = 5
_SQLITE_LOCKED: Final = 6


class SQLiteDialect(Dialect):
    """A SQLite file (``path``) or, with ``path=None``, one private in-memory database."""

    name = "sqlite"
    types: ClassVar[dict[str, str]] = {"blob": "BLOB", "timestamp": "TEXT"}

    def __init__(self, label: str, timeout: float, path: Path | None) -> None:
        super().__init__(label, timeout)
        self.path = path

    def prepare(self) -> Connection:
        """Create the file if needed and return a first connection, checked and in WAL mode.

        Raises:
            CorruptStoreError: the file is not a SQLite database or is damaged.
            KeyStoreError: the file cannot be created or opened.
        """
        if self.path is not None:
            create_private_file(self.path)
        conn = self.connect()
        try:
            if self.path is not None:
                check = conn.execute("PRAGMA quick_check").fetchall()
                if check != [("ok",)]:
                    raise CorruptStoreError(f"{self.label}: the database file is damaged")
                self._enable_wal(conn)
        except sqlite3.Error as exc:
            self.close(conn)
            raise self.map_error(exc, timed_out=False) from None
        except BaseException:
            self.close(conn)
            raise
        return conn

    def connect(self) -> Connection:
        """Open a connection with the busy timeout and durability settings."""
        target = ":memory:" if self.path is None else str(self.path)
        try:
            conn = sqlite3.connect(
                target, timeout=self.timeout, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as exc:
            raise self.map_error(exc, timed_out=False) from None
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(self.timeout * 1000)}")
            conn.execute("PRAGMA synchronous = FULL")
            conn.execute("PRAGMA secure_delete = ON")
        except sqlite3.Error as exc:
            self.close(conn)
            raise self.map_error(exc, timed_out=False) from None
        return conn

    def _enable_wal(self, conn: Connection) -> None:
        """Switch the file to WAL mode, waiting while another process does the same.

        Changing the journal mode needs an exclusive lock, and SQLite answers "database is
        locked" at once instead of calling the busy handler when two processes open a new
        store at the same moment, so retry for up to the store timeout.
        """
        deadline = time.monotonic() + max(self.timeout, 5.0)
        while True:
            try:
                mode = conn.execute("PRAGMA journal_mode").fetchone()
                if mode is None or str(mode[0]).lower() != "wal":
                    conn.execute("PRAGMA journal_mode = WAL")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.01)

    def checkpoint(self, conn: Connection) -> bool:
        """Copy the WAL into the file and truncate it, so no old page image stays behind.

        Returns False when a reader in another connection kept it from completing.
        """
        row = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        return row is None or int(row[0]) == 0

    def begin(self, *, write: bool) -> str:
        """``BEGIN IMMEDIATE`` for writes (take the write lock first), else ``BEGIN``."""
        return "BEGIN IMMEDIATE" if write else "BEGIN"

    def tables(self, execute: Any) -> set[str]:
        """Return the jwtkit tables listed in sqlite_master."""
        rows = execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'jwtkit\\_%'"
            " ESCAPE '\\'"
        )
        return {str(r[0]) for r in rows}

    def time_out(self, value: datetime | None) -> Any:
        """Store times as ISO 8601 text in UTC."""
        return None if value is None else value.astimezone(UTC).isoformat()

    def time_in(self, value: Any) -> datetime | None:
        """Parse ISO 8601 text; a naive timestamp is damage."""
        if value is None:
            return None
        parsed = datetime.fromisoformat(str(value))
        if parsed.utcoffset() is None:
            raise ValueError("naive timestamp in the store")
        return parsed.astimezone(UTC)

    def is_driver_error(self, exc: BaseException) -> bool:
        """Say whether ``exc`` is a sqlite3 error."""
        return isinstance(exc, sqlite3.Error)

    def is_connection_error(self, exc: BaseException) -> bool:
        """SQLite connections do not break; a failed statement leaves them usable."""
        return False

    def map_error(self, exc: BaseException, *, timed_out: bool) -> KeyStoreError:
        """Map damage to CorruptStoreError, a lock held too long to StoreUnavailableError."""
        code = getattr(exc, "sqlite_errorcode", 0) & 0xFF
        text = str(exc)
        if code in (_SQLITE_CORRUPT, _SQLITE_NOTADB) or text.startswith("no such"):
            return CorruptStoreError(
                f"{self.label}: the database is damaged or not a jwtkit store ({text})"
            )
        if code in (_SQLITE_BUSY, _SQLITE_LOCKED) or "locked" in text:
            return StoreUnavailableError(
                f"{self.label}: the database stayed locked for {self.timeout:g}s"
            )
        if "unable to open" in text:
            return KeyStoreError(f"{self.label}: cannot open the database file")
        return KeyStoreError(f"{self.label}: SQLite error: {text}")


def create_private_file(path: Path) -> None:
    """Create ``path`` with mode 0600 unless it exists; never open an existing file.

    ``O_EXCL`` fails on an existing file without opening it, so no descriptor of a database
    that a connection of this process may hold is ever opened and closed here.
    """
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        return
    except OSError as exc:
        raise KeyStoreError(f"cannot create the store file {str(path)!r}: {exc.strerror}") from None
    os.close(fd)
