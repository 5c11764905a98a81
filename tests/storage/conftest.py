"""Fixtures of the storage tests: each durable backend in turn (SQLite file, PostgreSQL schema).

PostgreSQL tests use the shared server at 127.0.0.1:5432 (override with ``JWTKIT_TEST_PG``)
in a schema of their own, dropped afterwards; without a server they are skipped with the
reason shown by ``-ra``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.storage import PostgresMissingError, pg_schema, pg_schema_or_skip


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh store of each durable backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'jwtkit.db'}"
    else:
        yield from pg_schema_or_skip("jwtkit_storage")


@pytest.fixture
def pg_store() -> Iterator[tuple[str, str]]:
    """(schema, URL) of a fresh PostgreSQL schema."""
    try:
        with pg_schema() as pair:
            yield pair
    except PostgresMissingError as exc:
        pytest.skip(str(exc))
