"""Fixtures shared by the whole jwtkit suite: keys generated once per session.

Tests never patch time: they pass ``now`` (the :data:`tests.support.vectors.NOW` constant) to
jwtkit. Key generation is cached per session because RSA generation is slow and 2 CPU cores are
shared. jwtkit itself is imported lazily inside the fixtures, so a broken core shows up as
failing tests rather than as an import error that hides every other test directory.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from jwtkit import Key


@functools.cache
def _rsa_key() -> Key:
    """One 2048-bit RSA key for every RS*/PS* test (generation is the slowest step we have)."""
    from jwtkit import Key

    return Key.generate("RS256")


@functools.cache
def cached_key(alg: str) -> Key:
    """Return a private key bound to ``alg``, generated once per session."""
    from jwtkit import Key

    if alg[:2] in ("RS", "PS"):
        return _rsa_key().with_alg(alg)
    return Key.generate(alg)


@pytest.fixture(scope="session")
def key_for() -> Callable[[str], Key]:
    """A function returning the session's private key for an algorithm name."""
    return cached_key
