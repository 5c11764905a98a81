"""Fixtures for the jwtkit.client tests (real loopback servers, real keys)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from jwtkit import Key
from tests.support.client import FakeClock, HTTPTestServer


@pytest.fixture
def server() -> Iterator[HTTPTestServer]:
    """A fresh loopback HTTP server, stopped after the test."""
    srv = HTTPTestServer()
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture
def other_server() -> Iterator[HTTPTestServer]:
    """A second loopback server: another origin (another port)."""
    srv = HTTPTestServer()
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture
def clock() -> FakeClock:
    """A clock the test advances by hand."""
    return FakeClock()


@pytest.fixture(scope="session")
def key1() -> Key:
    """An ES256 signing key with kid k1."""
    return Key.generate("ES256", kid="k1")


@pytest.fixture(scope="session")
def key2() -> Key:
    """An ES256 signing key with kid k2 (the rotated-in key)."""
    return Key.generate("ES256", kid="k2")
