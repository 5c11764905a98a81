"""Fixtures for jwtkit.keys tests: master keys, SQLite files in tmp_path, PostgreSQL schemas.

PostgreSQL tests use the real server at 127.0.0.1:5432 (database ``test``, user ``postgres``,
trust auth; override with ``JWTKIT_TEST_PG``). Each test gets its own schema, dropped
afterwards, selected through the URL's ``search_path`` option. When no server answers, those
tests are skipped with the reason shown by ``-ra``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.storage import pg_schema_or_skip


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
    yield from pg_schema_or_skip("jwtkit_keys_test")


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Each backend in turn."""
    if request.param == "memory":
        yield "memory://"
    elif request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'keys.db'}"
    else:
        yield from pg_schema_or_skip("jwtkit_keys_test")


@pytest.fixture(params=["sqlite", "postgres"])
def durable_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Each backend that outlives a manager (several managers may share it)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'keys.db'}"
    else:
        yield from pg_schema_or_skip("jwtkit_keys_test")
