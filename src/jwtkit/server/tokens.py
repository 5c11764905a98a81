"""Opaque refresh tokens (rotated, in families) and the access-token denylist.

Only the SHA-256 of a refresh token is stored, so a copy of the database does not hand out
working tokens. Each login starts a *family*; every refresh marks the presented token used and
issues its successor. Presenting a used token again is the signal of theft (RFC 6819 §5.2.2.3,
OAuth 2.0 Security BCP §4.14): the whole family is revoked. An optional grace window forgives
a retry with the immediate predecessor of the newest token, for clients that lost a response.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass

from jwtkit._storage import Database, Families, Refused, Rotated

__all__ = ["RefreshError", "RefreshGrant", "RefreshInfo", "TokenStore", "hash_token"]

logger = logging.getLogger("jwtkit.server")


def hash_token(token: str) -> str:
    """Return the stored form of an opaque token: hex SHA-256 of its UTF-8 bytes."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


class RefreshError(Exception):
    """A refresh token cannot be used; ``reason`` is unknown, expired, revoked, reused, client."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class RefreshGrant:
    """A newly issued refresh token (shown once) and the grant it carries."""

    token: str = ""
    family_id: str = ""
    client_id: str = ""
    username: str = ""
    scope: tuple[str, ...] = ()
    expires_at: float = 0.0
    roles: tuple[str, ...] = ()

    def __repr__(self) -> str:
        return f"RefreshGrant(family_id={self.family_id!r}, client_id={self.client_id!r})"


@dataclass(frozen=True)
class RefreshInfo:
    """What introspection reveals about a stored refresh token."""

    active: bool
    client_id: str
    username: str
    scope: tuple[str, ...]
    issued_at: float
    expires_at: float


class TokenStore:
    """Refresh-token families and the access-token denylist in the service tables."""

    def __init__(self, db: Database, *, lifetime: int, grace_seconds: int = 0) -> None:
        self._families = Families(db)
        self._lifetime = lifetime
        self._grace = grace_seconds

    def issue(
        self, *, client_id: str, username: str, scope: tuple[str, ...], now: float
    ) -> RefreshGrant:
        """Start a new family and return its first refresh token."""
        family_id = secrets.token_hex(16)
        token = secrets.token_urlsafe(32)
        expires_at = now + self._lifetime
        self._families.start(
            family_id=family_id,
            token_hash=hash_token(token),
            client_id=client_id,
            username=username,
            scope=scope,
            now=now,
            expires_at=expires_at,
        )
        return RefreshGrant(token, family_id, client_id, username, scope, expires_at)

    def rotate(
        self, token: str, *, client_id: str, now: float, scope: tuple[str, ...] | None = None
    ) -> RefreshGrant:
        """Use ``token`` once: mark it used and return its successor.

        Two concurrent calls with the same token serialise on the store's write lock (SQLite)
        or the family's row lock (PostgreSQL ``FOR UPDATE``): exactly one gets a successor;
        the other sees a used token, which is reuse unless the grace window applies.

        ``scope`` (RFC 6749 §6) narrows the access token; it must be within the family's
        scope, else nothing changes. The user's current roles are returned, and a family
        whose user was disabled or deleted is revoked.

        Raises:
            RefreshError: unknown, expired, revoked (family), reused (family now revoked),
                client (issued to another client), scope (wider than granted), user
                (disabled; family now revoked).
        """
        successor = secrets.token_urlsafe(32)
        outcome = self._families.rotate(
            hash_token(token),
            hash_token(successor),
            client_id=client_id,
            now=now,
            expires_at=now + self._lifetime,
            requested=scope,
            grace=self._grace,
        )
        if isinstance(outcome, Refused):
            if outcome.reason == "reused":
                # The family id identifies the incident without revealing any token.
                logger.warning(
                    "refresh token reuse detected: family %s of client %s and user %s revoked",
                    outcome.family_id,
                    client_id,
                    outcome.username,
                )
            raise RefreshError(outcome.reason)
        return _grant(successor, outcome)

    def inspect(self, token: str, *, now: float) -> RefreshInfo | None:
        """Return what is stored about a refresh token, or None if it is unknown."""
        row = self._families.find(hash_token(token))
        if row is None:
            return None
        active = row.used_at is None and row.revoked_at is None and row.expires_at > now
        return RefreshInfo(
            active, row.client_id, row.username, row.scope, row.issued_at, row.expires_at
        )

    def revoke(self, token: str, *, client_id: str, now: float, reason: str = "revoked") -> bool:
        """Revoke the family of ``token`` if it belongs to ``client_id``; say if it did."""
        return self._families.revoke(hash_token(token), client_id=client_id, now=now, reason=reason)

    def deny(self, jti: str, expires_at: float) -> None:
        """Put an access token's ``jti`` on the denylist until its ``exp``."""
        self._families.deny(jti, expires_at)

    def is_denied(self, jti: str) -> bool:
        """Say whether an access token's ``jti`` has been revoked."""
        return self._families.is_denied(jti)

    def purge(self, *, now: float) -> None:
        """Delete expired refresh tokens, empty families and denylist entries past their exp."""
        self._families.purge(now=now)


def _grant(token: str, r: Rotated) -> RefreshGrant:
    return RefreshGrant(token, r.family_id, r.client_id, r.username, r.scope, r.expires_at, r.roles)
