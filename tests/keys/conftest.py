"""Fixtures for jwtkit.keys tests: master keys, SQLite files in tmp_path, PostgreSQL schemas.

PostgreSQL tests use the real server at 127.0.0.1:5432 (database ``test``, user ``postgres``,
trust auth; override with ``JWTKIT_TEST_PG``). Each test gets its own schema, dropped
afterwards, selected through the URL's ``search_path`` option. When no server answers, those
tests are skipped with the reason shown by ``-ra``.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    import psycopg

PG_BASE = os.environ.get("JWTKIT_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


def _pg_admin() -> psycopg.Connection[tuple[object, ...]]:
    try:
        import psycopg
    except ImportError:  # pragma: no cover - psycopg is a test dependency.
        pytest.skip("PostgreSQL tests need psycopg (pip install 'jwtkit[postgres]')")
    try:
        return psycopg.connect(PG_BASE, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else "no answer"
        pytest.skip(f"PostgreSQL not reachable at {PG_BASE}: {first}")


@pytest.fixture
def master_key() -> str:
    """A fresh base64url master key."""
    from jwtkit.keys import generate_master_key

    return generate_master_key()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A SQLite key store URL in tmp_path (absolute path: four slashes)."""
    return f"sqlite:///{tmp_path / 'keys.db'}"


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a fresh schema, dropped after the test."""
    yield from _pg_schema_url()


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Each backend in turn."""
    if request.param == "memory":
        yield "memory://"
    elif request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'keys.db'}"
    else:
        yield from _pg_schema_url()


@pytest.fixture(params=["sqlite", "postgres"])
def durable_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Each backend that outlives a manager (several managers may share it)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'keys.db'}"
    else:
        yield from _pg_schema_url()


def _pg_schema_url() -> Iterator[str]:
    conn = _pg_admin()
    # The name is generated here, never user input, so interpolating it is safe.
    schema = f"jwtkit_keys_test_{uuid.uuid4().hex[:12]}"
    conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield f"{PG_BASE}?options=-csearch_path%3D{schema}"
    finally:
        conn.execute(f"DROP SCHEMA {schema} CASCADE")
        conn.close()
