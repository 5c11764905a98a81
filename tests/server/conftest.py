"""Fixtures for the token-service tests; the helpers they use live in tests/support/server.py."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.server import (
    app,
    client,
    clock,
    make_app,
    make_settings,
    master_key,
    svc,
    template_store,
)
from tests.support.storage import pg_schema_or_skip

__all__ = [
    "app",
    "client",
    "clock",
    "make_app",
    "make_settings",
    "master_key",
    "pg_store",
    "svc",
    "template_store",
]


@pytest.fixture
def pg_store() -> Iterator[str]:
    """The URL of a fresh PostgreSQL schema, dropped after the test (skips without a server)."""
    yield from pg_schema_or_skip("jwtkit_server")
