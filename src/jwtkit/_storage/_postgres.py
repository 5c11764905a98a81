"""PostgreSQL (psycopg 3, imported only when a ``postgresql://`` store is opened).

Every connection is opened with a ``connect_timeout``, TCP keepalives and a
``tcp_user_timeout``, then given a ``statement_timeout`` and an
``idle_in_transaction_session_timeout`` equal to the store timeout (the server ends what
the client gave up on and frees its locks). Transactions are started with the isolation level
written out, ``READ COMMITTED``, whatever the server's default: the locking protocol (lock a
row with ``FOR UPDATE``, then read) relies on each statement taking a fresh snapshot. A silent
network partition is the one thing no server-side timeout sees: :meth:`interrupt` shuts the
socket down when a transaction overruns its deadline, so the waiting call fails at once.
Tables live in the first schema of the connection's ``search_path`` (set it in the URL with
``?options=-csearch_path%3Dmyschema`` to keep several stores in one database).
"""

from __future__ import annotations

import math
import os
import socket
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, ClassVar, Final

from jwtkit.errors import CorruptStoreError, KeyStoreError, StoreUnavailableError

from ._dialect import Connection, Dialect

__all__ = ["PostgresDialect"]

# An arbitrary constant, mixed with the schema name: serializes schema changes.
_SCHEMA_LOCK: Final = "jwtkit:"
# TCP keepalives: an idle connection to a host that vanished is noticed within ~11 s.
_KEEPALIVES: Final = {"keepalives": 1, "keepalives_idle": 5, "keepalives_interval": 2,
                      "keepalives_count": 3}  # fmt: skip
# SQLSTATE classes that say the server is (temporarily) not able to serve.
_UNAVAILABLE_CLASSES: Final = ("08", "53", "57")


def _psycopg() -> Any:
    try:
        import psycopg
    except ImportError:
        raise KeyStoreError(
            "PostgreSQL stores need psycopg 3: pip install 'jwtkit[postgres]'"
        ) from None
    return psycopg


class PostgresDialect(Dialect):
    """A libpq URL, connected to with bounded waits everywhere."""

    name = "postgresql"
    types: ClassVar[dict[str, str]] = {"blob": "bytea", "timestamp": "timestamptz"}
    for_update: ClassVar[str] = " FOR UPDATE"

    def __init__(self, label: str, timeout: float, url: str) -> None:
        super().__init__(label, timeout)
        self._psycopg = _psycopg()
        self._url = url
        given = self._psycopg.conninfo.conninfo_to_dict(url)
        # libpq's connect_timeout is whole seconds, at least 2; the pool waits for at most
        # the store timeout whatever this is, and a late connection is kept for later use.
        options: dict[str, Any] = {
            "connect_timeout": max(2, math.ceil(timeout)),
            "tcp_user_timeout": max(1000, int(timeout * 1000)),
            **_KEEPALIVES,
        }
        self._options = {k: v for k, v in options.items() if k not in given}

    def connect(self) -> Connection:
        """Open a configured autocommit connection."""
        psycopg = self._psycopg
        try:
            conn = psycopg.connect(self._url, autocommit=True, **self._options)
        except psycopg.Error as exc:
            raise self.map_error(exc, timed_out=False) from None
        try:
            ms = max(1, int(self.timeout * 1000))
            conn.execute(f"SET statement_timeout = {ms}")
            conn.execute(f"SET idle_in_transaction_session_timeout = {max(ms, 5000)}")
        except psycopg.Error as exc:
            self.close(conn)
            raise self.map_error(exc, timed_out=False) from None
        return conn

    def begin(self, *, write: bool) -> str:
        """Start a transaction with the isolation level pinned."""
        return "BEGIN ISOLATION LEVEL READ COMMITTED" + ("" if write else " READ ONLY")

    def interrupt(self, conn: Connection) -> None:
        """Shut the connection's socket down so that a blocked call returns with an error.

        ``shutdown`` acts on the socket itself (a duplicate descriptor is enough) and wakes
        the thread waiting on it; the connection is then broken and gets discarded.
        """
        try:
            fd = conn.pgconn.socket
            dup = socket.socket(fileno=os.dup(fd))
        except Exception:
            return
        try:
            dup.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        finally:
            dup.close()

    def lock_schema(self, execute: Any) -> None:
        """Take a transaction-scoped advisory lock named after the current schema."""
        execute(
            "SELECT pg_advisory_xact_lock(hashtext(? || coalesce(current_schema(), '')))",
            (_SCHEMA_LOCK,),
        )

    def tables(self, execute: Any) -> set[str]:
        """Return the jwtkit tables in the current schema.

        A plain query on pg_class reads with this statement's snapshot, so it sees tables
        another process committed while we waited for the schema lock; ``to_regclass`` goes
        through the catalog cache, which need not have been refreshed by then.
        """
        rows = execute(
            "SELECT c.relname FROM pg_catalog.pg_class c"
            " JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = current_schema() AND c.relkind = 'r'"
            " AND c.relname LIKE 'jwtkit\\_%'"
        )
        return {str(r[0]) for r in rows}

    def sql(self, statement: str) -> str:
        """Use psycopg's ``%s`` placeholders (a literal ``%`` is doubled)."""
        return statement.replace("%", "%%").replace("?", "%s")

    def run(self, conn: Connection, statement: str, params: Sequence[Any] = ()) -> list[Any]:
        """Execute one statement; without parameters the text is sent as it is."""
        if params:
            cur = conn.execute(self.sql(statement), tuple(params))
        else:
            cur = conn.execute(statement.encode())
        if cur.description is None:
            return []
        return [tuple(row) for row in cur.fetchall()]

    def time_out(self, value: datetime | None) -> Any:
        """Pass aware datetimes to timestamptz columns."""
        return None if value is None else value.astimezone(UTC)

    def time_in(self, value: Any) -> datetime | None:
        """Accept only aware datetimes from timestamptz columns."""
        if value is None:
            return None
        if not isinstance(value, datetime) or value.utcoffset() is None:
            raise ValueError("bad timestamp in the store")
        return value.astimezone(UTC)

    def is_driver_error(self, exc: BaseException) -> bool:
        """Say whether ``exc`` is a psycopg error."""
        return isinstance(exc, self._psycopg.Error)

    def is_connection_error(self, exc: BaseException) -> bool:
        """A connection-level failure: no SQLSTATE (socket gone) or an 08/57 class one."""
        if not isinstance(exc, self._psycopg.OperationalError):
            return False
        state = getattr(exc, "sqlstate", None)
        return state is None or state[:2] in ("08", "57")

    def map_error(self, exc: BaseException, *, timed_out: bool) -> KeyStoreError:
        """Map a psycopg error without repeating the driver's text (it may echo the URL)."""
        errors = self._psycopg.errors
        state = getattr(exc, "sqlstate", None) or ""
        if timed_out or isinstance(exc, errors.QueryCanceled):
            return StoreUnavailableError(
                f"{self.label}: PostgreSQL did not answer within {self.timeout:g}s"
            )
        if isinstance(exc, errors.UndefinedTable | errors.UndefinedColumn):
            return CorruptStoreError(f"{self.label}: a jwtkit table or column is missing ({state})")
        if isinstance(exc, self._psycopg.OperationalError) and (
            not state or state[:2] in _UNAVAILABLE_CLASSES
        ):
            reason = _first_line(exc) if not state else state
            return StoreUnavailableError(f"{self.label}: PostgreSQL unavailable: {reason}")
        return KeyStoreError(f"{self.label}: PostgreSQL error {state or type(exc).__name__}")


def _first_line(exc: BaseException) -> str:
    """Return the first line of a connection failure, which names no SQL and no data."""
    text = str(exc).strip()
    first = text.splitlines()[0] if text else type(exc).__name__
    # libpq repeats the host and port, never the password; keep it short.
    return first[:200]
