"""Argon2id hashing of passwords and client secrets (argon2-cffi), tuned by settings.

Unknown names are verified against a dummy hash so that response time does not reveal which
usernames or client ids exist. Successful client-secret checks are remembered (client secrets
are presented on every request and are random, so there is nothing to slow down).
"""

from __future__ import annotations

import hashlib
import os
import secrets
import threading

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

__all__ = ["SecretChecker", "make_password_hasher"]

_MEMO_SIZE = 1024


def make_password_hasher(
    *, time_cost: int | None = None, memory_cost: int | None = None, parallelism: int | None = None
) -> PasswordHasher:
    """Return an Argon2id hasher; unset costs come from ``JWTKIT_ARGON2_*`` or RFC 9106 defaults.

    The environment fallback lets tests and the CLI lower the cost without code changes.
    """

    def pick(given: int | None, var: str, default: int) -> int:
        if given is not None:
            return given
        raw = os.environ.get(var, "")
        if raw.strip().isdigit():
            return int(raw)
        return default

    return PasswordHasher(
        time_cost=pick(time_cost, "JWTKIT_ARGON2_TIME_COST", 3),
        memory_cost=pick(memory_cost, "JWTKIT_ARGON2_MEMORY_COST", 65536),
        parallelism=pick(parallelism, "JWTKIT_ARGON2_PARALLELISM", 4),
    )


class SecretChecker:
    """Hash and verify secrets with one PasswordHasher; constant work for unknown accounts."""

    def __init__(self, hasher: PasswordHasher, *, max_concurrency: int | None = None) -> None:
        self.hasher = hasher
        self._dummy: str | None = None
        self._verified: set[bytes] = set()
        self._lock = threading.Lock()
        # Each Argon2 run holds memory_cost KiB (64 MiB by default): bound how many run at
        # once, so a burst of logins queues instead of exhausting memory.
        slots = max_concurrency if max_concurrency else max(2, os.cpu_count() or 2)
        self._slots = threading.BoundedSemaphore(slots)

    def hash(self, secret: str) -> str:
        """Return the Argon2id hash of ``secret`` with the configured costs."""
        with self._slots:
            return self.hasher.hash(secret)

    def verify(self, hashed: str | None, secret: str) -> bool:
        """Check ``secret`` against ``hashed``; with None, burn the same time and say False."""
        target = self._dummy_hash() if hashed is None else hashed
        try:
            with self._slots:
                return self.hasher.verify(target, secret) and hashed is not None
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def verify_remembered(self, name: str, hashed: str, secret: str) -> bool:
        """Like :meth:`verify`, remembering successes for this exact name, secret and hash.

        The memo key is a digest over all three, so a new secret or a changed hash is never
        answered from memory; the memo is bounded.
        """
        memo = hashlib.sha256(
            "\0".join((name, secret, hashed)).encode("utf-8", "surrogatepass")
        ).digest()
        if memo in self._verified:
            return True
        if not self.verify(hashed, secret):
            return False
        with self._lock:
            if len(self._verified) >= _MEMO_SIZE:
                self._verified.clear()
            self._verified.add(memo)
        return True

    def needs_rehash(self, hashed: str) -> bool:
        """Say whether ``hashed`` was made with other costs than the configured ones."""
        try:
            return self.hasher.check_needs_rehash(hashed)
        except (InvalidHashError, ValueError):
            return False

    def _dummy_hash(self) -> str:
        """Return a hash to verify against for unknown names (made on first use: it is slow)."""
        if self._dummy is None:
            self._dummy = self.hash(secrets.token_urlsafe(16))
        return self._dummy
