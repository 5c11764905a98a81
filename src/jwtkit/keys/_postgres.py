"""PostgreSQL backend (psycopg 3, imported only when a ``postgresql://`` URL is opened).

For several token-service instances sharing one key ring. Every write transaction locks the
meta rows with ``SELECT ... FOR UPDATE`` before reading the keys, so concurrent rotations
serialize and each sees the previous one's result (READ COMMITTED takes a fresh snapshot per
statement). Creating and upgrading the schema take a transaction-scoped advisory lock. The
tables live in the first schema of the connection's ``search_path`` (set it with
``?options=-csearch_path%3Dmyschema`` in the URL to keep several rings in one database).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar, Final

from jwtkit.errors import CorruptStoreError, KeyStoreError

from ._sql import SQLStore
from ._store import redact_url

if TYPE_CHECKING:
    import psycopg

__all__ = ["PostgresStore"]

_CONNECT_TIMEOUT: Final = 10


def _psycopg() -> Any:
    try:
        import psycopg
    except ImportError:
        raise KeyStoreError(
            "PostgreSQL key stores need psycopg 3: pip install 'jwtkit[postgres]'"
        ) from None
    return psycopg


class PostgresStore(SQLStore):
    """A key store in two tables of a PostgreSQL database."""

    PARAM: ClassVar[str] = "%s"
    SELECT_META_LOCKED: ClassVar[str] = "SELECT name, value FROM jwtkit_meta FOR UPDATE"
    DDL: ClassVar[Sequence[str]] = (
        "CREATE TABLE jwtkit_meta (name text PRIMARY KEY, value text NOT NULL)",
        "CREATE TABLE jwtkit_keys ("
        " kid text PRIMARY KEY, alg text NOT NULL, state text NOT NULL,"
        " created_at timestamptz NOT NULL, activated_at timestamptz, retired_at timestamptz,"
        " revoked_at timestamptz, sealed bytea NOT NULL)",
    )
    MIGRATIONS: ClassVar[dict[int, Sequence[str]]] = {
        1: (
            "ALTER TABLE jwtkit_keys ADD COLUMN IF NOT EXISTS revoked_at timestamptz",
            "INSERT INTO jwtkit_meta (name, value) VALUES ('generation', '0')"
            " ON CONFLICT (name) DO NOTHING",
        ),
    }

    def __init__(self, url: str) -> None:
        super().__init__()
        self._url = url
        self.label = redact_url(url)
        self._psycopg = _psycopg()
        self._conn: psycopg.Connection[tuple[Any, ...]] | None = None
        with self._guard():
            pass

    @classmethod
    def from_url(cls, url: str) -> PostgresStore:
        """Connect to ``postgresql://user@host:port/dbname?...`` (libpq URL syntax)."""
        return cls(url)

    def _connection(self) -> psycopg.Connection[tuple[Any, ...]]:
        conn = self._conn
        if conn is None or conn.closed or conn.broken:
            if conn is not None:
                conn.close()
            self._conn = None
            options: dict[str, Any] = {}
            if "connect_timeout" not in self._url:
                options["connect_timeout"] = _CONNECT_TIMEOUT
            conn = self._psycopg.connect(self._url, autocommit=True, **options)
            # The locking protocol (FOR UPDATE, then read the keys) relies on READ COMMITTED
            # taking a fresh snapshot per statement, whatever the server's default is.
            conn.isolation_level = self._psycopg.IsolationLevel.READ_COMMITTED
            self._conn = conn
        return conn

    @contextmanager
    def _guard(self) -> Iterator[None]:
        errors = self._psycopg.errors
        try:
            self._connection()
            yield
        except (errors.UndefinedTable, errors.UndefinedColumn) as exc:
            raise CorruptStoreError(
                f"{self.label}: a jwtkit table or column is missing ({exc.sqlstate})"
            ) from None
        except self._psycopg.OperationalError as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise KeyStoreError(f"{self.label}: PostgreSQL unavailable: {first}") from None
        except self._psycopg.Error as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise KeyStoreError(f"{self.label}: PostgreSQL error: {first}") from None

    @contextmanager
    def _read_txn(self) -> Iterator[None]:
        with self._connection().transaction():
            yield

    @contextmanager
    def _write_txn(self, *, schema: bool) -> Iterator[None]:
        conn = self._connection()
        with conn.transaction():
            if schema:
                conn.execute(
                    "SELECT pg_advisory_xact_lock("
                    "hashtext('jwtkit:' || coalesce(current_schema(), '')))"
                )
            yield

    def _exec(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        cur = self._connection().execute(sql, tuple(params) if params else None)
        return cur.fetchall() if cur.description is not None else []

    def _tables(self) -> set[str]:
        # A plain query on pg_class reads with this statement's snapshot, so it sees tables
        # another process committed while we waited for the schema lock; to_regclass goes
        # through the catalog cache, which need not have been refreshed by then.
        rows = self._exec(
            "SELECT c.relname FROM pg_catalog.pg_class c"
            " JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = current_schema()"
            " AND c.relname IN ('jwtkit_meta', 'jwtkit_keys')"
        )
        return {str(name) for (name,) in rows}

    def _time_out(self, value: datetime | None) -> Any:
        return None if value is None else value.astimezone(UTC)

    def _time_in(self, value: Any) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime) or value.utcoffset() is None:
            raise ValueError("bad timestamp in the store")
        return value.astimezone(UTC)

    def _disconnect(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
