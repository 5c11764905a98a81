"""What differs between SQLite and PostgreSQL, behind one small interface.

Every SQL statement in jwtkit is written once, with ``?`` placeholders and ``{blob}`` /
``{timestamp}`` column types in DDL; a :class:`Dialect` turns it into what its driver takes,
opens and checks connections, and maps the driver's exceptions to :mod:`jwtkit.errors`. The
two implementations live in ``_sqlite.py`` and ``_postgres.py``; nothing else in jwtkit knows
which database it talks to.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from datetime import datetime
from typing import Any, ClassVar

from jwtkit.errors import KeyStoreError

__all__ = ["Connection", "Dialect"]

# A DB-API connection of either driver, in autocommit mode (transactions are explicit).
Connection = Any


class Dialect(ABC):
    """One database engine: connections, SQL spelling, error mapping."""

    name: ClassVar[str]
    # Column types substituted into DDL.
    types: ClassVar[dict[str, str]]
    # Appended to a SELECT that must lock the rows it reads until the transaction ends.
    for_update: ClassVar[str] = ""

    def __init__(self, label: str, timeout: float) -> None:
        self.label = label
        self.timeout = timeout

    # -- connections ---------------------------------------------------------------------------

    @abstractmethod
    def connect(self) -> Connection:
        """Open one connection, configured (timeouts, pragmas) and in autocommit mode."""

    @abstractmethod
    def begin(self, *, write: bool) -> str:
        """Return the statement that starts a transaction with the isolation jwtkit needs."""

    def interrupt(self, conn: Connection) -> None:  # noqa: B027 - optional hook
        """Make a statement that overran its deadline fail now (called from another thread)."""

    def lock_schema(self, execute: Any) -> None:  # noqa: B027 - optional hook
        """Serialize schema changes between processes inside the current transaction."""

    def checkpoint(self, conn: Connection) -> bool:
        """Flush the write-ahead log into the database files, outside a transaction; return
        whether it completed. Only SQLite keeps one in the store's own files."""
        return True

    @abstractmethod
    def tables(self, execute: Any) -> set[str]:
        """Return the names of the ``jwtkit_*`` tables in the store."""

    def close(self, conn: Connection) -> None:
        """Close a connection, ignoring errors (it may already be broken)."""
        try:
            conn.close()
        except Exception:  # noqa: S110 - a broken connection may fail to close; it is gone.
            pass

    # -- statements ----------------------------------------------------------------------------

    def sql(self, statement: str) -> str:
        """Return ``statement`` with the driver's placeholders."""
        return statement

    def ddl(self, statement: str) -> str:
        """Return a DDL statement with this dialect's column types filled in."""
        return statement.format(**self.types)

    def run(self, conn: Connection, statement: str, params: Sequence[Any] = ()) -> list[Any]:
        """Execute one statement on ``conn`` and return its rows as tuples."""
        cur = conn.execute(self.sql(statement), tuple(params))
        if cur.description is None:
            return []
        return [tuple(row) for row in cur.fetchall()]

    @abstractmethod
    def time_out(self, value: datetime | None) -> Any:
        """Convert an aware datetime into this dialect's timestamp column value."""

    @abstractmethod
    def time_in(self, value: Any) -> datetime | None:
        """Convert a timestamp column value into an aware UTC datetime."""

    # -- errors --------------------------------------------------------------------------------

    @abstractmethod
    def is_driver_error(self, exc: BaseException) -> bool:
        """Say whether ``exc`` came from the driver (and must be mapped)."""

    @abstractmethod
    def is_connection_error(self, exc: BaseException) -> bool:
        """Say whether ``exc`` means the connection is unusable (discard it; maybe retry)."""

    @abstractmethod
    def map_error(self, exc: BaseException, *, timed_out: bool) -> KeyStoreError:
        """Return the jwtkit error for a driver exception; no SQL or data in the message."""
