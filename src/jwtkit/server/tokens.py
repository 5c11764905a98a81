"""Opaque refresh tokens (rotated, in families) and the access-token denylist.

Only the SHA-256 of a refresh token is stored, so a copy of the database does not hand out
working tokens. Each login starts a *family*; every refresh marks the presented token used and
issues its successor. Presenting a used token again is the signal of theft (RFC 6819 §5.2.2.3,
OAuth 2.0 Security BCP §4.14): the whole family is revoked. An optional grace window forgives
a retry with the immediate predecessor of the newest token, for clients that lost a response.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
from dataclasses import dataclass
from typing import Any

from jwtkit.server.store import Database, Transaction

__all__ = ["RefreshError", "RefreshGrant", "RefreshInfo", "TokenStore", "hash_token"]

logger = logging.getLogger("jwtkit.server")

_SELECT_ROW = (
    "SELECT t.family_id, t.expires_at, t.used_at, t.replaced_by, f.client_id, f.username,"
    " f.scope, f.revoked_at, t.issued_at"
    " FROM jwtkit_refresh_tokens t JOIN jwtkit_refresh_families f"
    " ON f.family_id = t.family_id WHERE t.token_hash = ?"
)


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
        self._db = db
        self._lifetime = lifetime
        self._grace = grace_seconds

    def issue(
        self, *, client_id: str, username: str, scope: tuple[str, ...], now: float
    ) -> RefreshGrant:
        """Start a new family and return its first refresh token."""
        family_id = secrets.token_hex(16)
        token = secrets.token_urlsafe(32)
        with self._db.transaction(write=True) as tx:
            tx.execute(
                "INSERT INTO jwtkit_refresh_families (family_id, client_id, username, scope,"
                " created_at) VALUES (?, ?, ?, ?, ?)",
                (family_id, client_id, username, " ".join(scope), now),
            )
            expires_at = self._insert(tx, token, family_id, None, now)
        return RefreshGrant(token, family_id, client_id, username, scope, expires_at)

    def rotate(
        self, token: str, *, client_id: str, now: float, scope: tuple[str, ...] | None = None
    ) -> RefreshGrant:
        """Use ``token`` once: mark it used and return its successor.

        Two concurrent calls with the same token serialise on the store's write lock (SQLite)
        or the row lock (PostgreSQL ``FOR UPDATE``): exactly one gets a successor; the other
        sees a used token, which is reuse unless the grace window applies.

        ``scope`` (RFC 6749 §6) narrows the access token; it must be within the family's
        scope, else nothing changes. The user's current roles are returned, and a family
        whose user was disabled or deleted is revoked.

        Raises:
            RefreshError: unknown, expired, revoked (family), reused (family now revoked),
                client (issued to another client), scope (wider than granted), user
                (disabled; family now revoked).
        """
        presented = hash_token(token)
        outcome: RefreshGrant | str
        with self._db.transaction(write=True) as tx:
            outcome = self._rotate_locked(tx, presented, client_id, now, scope)
        if isinstance(outcome, str):
            raise RefreshError(outcome)
        return outcome

    def _rotate_locked(
        self,
        tx: Transaction,
        presented: str,
        client_id: str,
        now: float,
        requested: tuple[str, ...] | None,
    ) -> RefreshGrant | str:
        row = self._lock(tx, presented)
        if row is None:
            return "unknown"
        family_id, expires_at, used_at, replaced_by, owner, username, scope, revoked_at = row[:8]
        if owner != client_id:
            return "client"
        if revoked_at is not None:
            return "revoked"
        if requested is not None and not set(requested) <= set(_split(scope)):
            return "scope"
        user = tx.one("SELECT roles, disabled FROM jwtkit_users WHERE username = ?", (username,))
        if user is None or user[1]:
            self._revoke_family(tx, family_id, now, "user disabled")
            return "user"
        if used_at is not None:
            if not self._in_grace(tx, used_at, replaced_by, now):
                self._revoke_family(tx, family_id, now, "reuse")
                # The family id identifies the incident without revealing any token.
                logger.warning(
                    "refresh token reuse detected: family %s of client %s and user %s revoked",
                    family_id,
                    owner,
                    username,
                )
                return "reused"
            # A retry within the grace window: the lost successor is superseded.
            tx.execute(
                "UPDATE jwtkit_refresh_tokens SET used_at = ? WHERE token_hash = ?",
                (now, replaced_by),
            )
        elif expires_at <= now:
            return "expired"
        token = secrets.token_urlsafe(32)
        new_hash = hash_token(token)
        new_expiry = self._insert(tx, token, family_id, presented, now)
        tx.execute(
            "UPDATE jwtkit_refresh_tokens SET used_at = COALESCE(used_at, ?), replaced_by = ?"
            " WHERE token_hash = ?",
            (now, new_hash, presented),
        )
        if replaced_by is not None:
            tx.execute(
                "UPDATE jwtkit_refresh_tokens SET replaced_by = ? WHERE token_hash = ?",
                (new_hash, replaced_by),
            )
        return RefreshGrant(
            token, family_id, owner, username, _split(scope), new_expiry, tuple(json.loads(user[0]))
        )

    @staticmethod
    def _lock(tx: Transaction, token_hash: str) -> tuple[Any, ...] | None:
        """Lock the token's family, then read the token with its family (or None if unknown).

        Every writer locks the family row first (PostgreSQL ``FOR UPDATE``; SQLite already
        holds the database write lock), so all changes to one family are serialised in one
        lock order (no deadlocks), and the read that follows the lock sees the latest
        committed state (READ COMMITTED takes a fresh snapshot per statement).
        """
        found = tx.one(
            "SELECT family_id FROM jwtkit_refresh_tokens WHERE token_hash = ?", (token_hash,)
        )
        if found is None:
            return None
        tx.execute(
            "SELECT 1 FROM jwtkit_refresh_families WHERE family_id = ?" + tx.for_update,  # noqa: S608
            (found[0],),
        )
        return tx.one(_SELECT_ROW, (token_hash,))

    def _in_grace(
        self, tx: Transaction, used_at: float, replaced_by: str | None, now: float
    ) -> bool:
        """True if the token was used within the grace window and its successor is unused."""
        if self._grace <= 0 or replaced_by is None or now - used_at > self._grace:
            return False
        successor = tx.one(
            "SELECT used_at, expires_at FROM jwtkit_refresh_tokens WHERE token_hash = ?",
            (replaced_by,),
        )
        return successor is not None and successor[0] is None and successor[1] > now

    def _insert(
        self, tx: Transaction, token: str, family_id: str, parent: str | None, now: float
    ) -> float:
        expires_at = now + self._lifetime
        tx.execute(
            "INSERT INTO jwtkit_refresh_tokens (token_hash, family_id, parent_hash, issued_at,"
            " expires_at) VALUES (?, ?, ?, ?, ?)",
            (hash_token(token), family_id, parent, now, expires_at),
        )
        return expires_at

    def inspect(self, token: str, *, now: float) -> RefreshInfo | None:
        """Return what is stored about a refresh token, or None if it is unknown."""
        with self._db.transaction() as tx:
            row = tx.one(_SELECT_ROW, (hash_token(token),))
        if row is None:
            return None
        active = row[2] is None and row[7] is None and row[1] > now
        return RefreshInfo(active, row[4], row[5], _split(row[6]), row[8], row[1])

    def revoke(self, token: str, *, client_id: str, now: float, reason: str = "revoked") -> bool:
        """Revoke the family of ``token`` if it belongs to ``client_id``; say if it did."""
        with self._db.transaction(write=True) as tx:
            row = self._lock(tx, hash_token(token))
            if row is None or row[4] != client_id:
                return False
            self._revoke_family(tx, row[0], now, reason)
        return True

    @staticmethod
    def _revoke_family(tx: Transaction, family_id: str, now: float, reason: str) -> None:
        tx.execute(
            "UPDATE jwtkit_refresh_families SET revoked_at = ?, revoke_reason = ?"
            " WHERE family_id = ? AND revoked_at IS NULL",
            (now, reason, family_id),
        )

    def deny(self, jti: str, expires_at: float) -> None:
        """Put an access token's ``jti`` on the denylist until its ``exp``."""
        with self._db.transaction(write=True) as tx:
            tx.execute(
                "INSERT INTO jwtkit_denylist (jti, expires_at) VALUES (?, ?)"
                " ON CONFLICT (jti) DO NOTHING",
                (jti, expires_at),
            )

    def is_denied(self, jti: str) -> bool:
        """Say whether an access token's ``jti`` has been revoked."""
        with self._db.transaction() as tx:
            return tx.one("SELECT 1 FROM jwtkit_denylist WHERE jti = ?", (jti,)) is not None

    def purge(self, *, now: float) -> None:
        """Delete expired refresh tokens, empty families and denylist entries past their exp."""
        with self._db.transaction(write=True) as tx:
            tx.execute("DELETE FROM jwtkit_denylist WHERE expires_at < ?", (now,))
            tx.execute("DELETE FROM jwtkit_refresh_tokens WHERE expires_at < ?", (now,))
            tx.execute(
                "DELETE FROM jwtkit_refresh_families WHERE NOT EXISTS (SELECT 1 FROM"
                " jwtkit_refresh_tokens t WHERE t.family_id = jwtkit_refresh_families.family_id)"
            )


def _split(scope: Any) -> tuple[str, ...]:
    return tuple(str(scope).split()) if scope else ()
