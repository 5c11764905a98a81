"""``Families``: refresh-token families, their tokens (hashes only) and the access denylist.

Every writer of a family locks the family row first (PostgreSQL ``FOR UPDATE``; SQLite
already holds the database write lock from ``BEGIN IMMEDIATE``), so all changes to one family
are serialized in one lock order (no deadlocks), and the read that follows the lock sees the
latest committed state (READ COMMITTED takes a fresh snapshot per statement). Two refreshes of
one token therefore give exactly one successor.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Final

from ._database import Database, Tx

__all__ = ["Families", "Refused", "Rotated", "TokenRow"]

_SELECT_ROW: Final = (
    "SELECT t.family_id, t.expires_at, t.used_at, t.replaced_by, f.client_id, f.username,"
    " f.scope, f.revoked_at, t.issued_at"
    " FROM jwtkit_refresh_tokens t JOIN jwtkit_refresh_families f"
    " ON f.family_id = t.family_id WHERE t.token_hash = ?"
)


@dataclass(frozen=True)
class TokenRow:
    """A stored refresh token with its family."""

    family_id: str
    expires_at: float
    used_at: float | None
    client_id: str
    username: str
    scope: tuple[str, ...]
    revoked_at: float | None
    issued_at: float


@dataclass(frozen=True)
class Rotated:
    """The outcome of a successful rotation: the family and the user's current roles."""

    family_id: str
    client_id: str
    username: str
    scope: tuple[str, ...]
    expires_at: float
    roles: tuple[str, ...]


@dataclass(frozen=True)
class Refused:
    """Why a rotation was refused, with the family it concerned (for the audit log)."""

    reason: str
    family_id: str = ""
    username: str = ""


def _split(scope: Any) -> tuple[str, ...]:
    return tuple(str(scope).split()) if scope else ()


class Families:
    """The refresh-token and denylist tables of one :class:`Database`."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def start(
        self,
        *,
        family_id: str,
        token_hash: str,
        client_id: str,
        username: str,
        scope: tuple[str, ...],
        now: float,
        expires_at: float,
    ) -> None:
        """Create a family with its first token."""

        def run(tx: Tx) -> None:
            tx.execute(
                "INSERT INTO jwtkit_refresh_families (family_id, client_id, username, scope,"
                " created_at) VALUES (?, ?, ?, ?, ?)",
                (family_id, client_id, username, " ".join(scope), now),
            )
            _insert(tx, token_hash, family_id, None, now, expires_at)

        self.db.write(run)

    def rotate(
        self,
        presented: str,
        successor: str,
        *,
        client_id: str,
        now: float,
        expires_at: float,
        requested: tuple[str, ...] | None,
        grace: float,
    ) -> Rotated | Refused:
        """Use the token ``presented`` once and store ``successor`` in its place.

        Returns the rotation, or why not (:class:`Refused`): ``unknown``, ``client``,
        ``revoked``, ``scope``, ``user`` (disabled or gone: family revoked), ``reused``
        (family revoked), ``expired``.
        """

        def run(tx: Tx) -> Rotated | Refused:
            row = _lock(tx, presented)
            if row is None:
                return Refused("unknown")
            family_id, token_expiry, used_at, replaced_by, owner, username, scope, revoked_at = row[
                :8
            ]
            if owner != client_id:
                return Refused("client", str(family_id), str(username))
            if revoked_at is not None:
                return Refused("revoked", str(family_id), str(username))
            if requested is not None and not set(requested) <= set(_split(scope)):
                return Refused("scope", str(family_id), str(username))
            user = tx.one(
                "SELECT roles, disabled FROM jwtkit_users WHERE username = ?", (username,)
            )
            if user is None or user[1]:
                _revoke_family(tx, family_id, now, "user disabled")
                return Refused("user", str(family_id), str(username))
            if used_at is not None:
                if not _in_grace(tx, used_at, replaced_by, now, grace):
                    _revoke_family(tx, family_id, now, "reuse")
                    return Refused("reused", str(family_id), str(username))
                # A retry within the grace window: the lost successor is superseded.
                tx.execute(
                    "UPDATE jwtkit_refresh_tokens SET used_at = ? WHERE token_hash = ?",
                    (now, replaced_by),
                )
            elif token_expiry <= now:
                return Refused("expired", str(family_id), str(username))
            _insert(tx, successor, family_id, presented, now, expires_at)
            tx.execute(
                "UPDATE jwtkit_refresh_tokens SET used_at = COALESCE(used_at, ?), replaced_by = ?"
                " WHERE token_hash = ?",
                (now, successor, presented),
            )
            if replaced_by is not None:
                tx.execute(
                    "UPDATE jwtkit_refresh_tokens SET replaced_by = ? WHERE token_hash = ?",
                    (successor, replaced_by),
                )
            return Rotated(
                str(family_id), str(owner), str(username), _split(scope), expires_at,
                tuple(json.loads(user[0])),
            )  # fmt: skip

        return self.db.write(run)

    def find(self, token_hash: str) -> TokenRow | None:
        """Return a stored token with its family, or None."""
        row = self.db.read(lambda tx: tx.one(_SELECT_ROW, (token_hash,)))
        if row is None:
            return None
        return TokenRow(
            str(row[0]), row[1], row[2], str(row[4]), str(row[5]), _split(row[6]), row[7], row[8]
        )

    def revoke(self, token_hash: str, *, client_id: str, now: float, reason: str) -> bool:
        """Revoke the family of a token if it belongs to ``client_id``; say if it did."""

        def run(tx: Tx) -> bool:
            row = _lock(tx, token_hash)
            if row is None or row[4] != client_id:
                return False
            _revoke_family(tx, row[0], now, reason)
            return True

        return self.db.write(run)

    def deny(self, jti: str, expires_at: float) -> None:
        """Put an access token's ``jti`` on the denylist until ``expires_at``."""
        self.db.write(
            lambda tx: tx.execute(
                "INSERT INTO jwtkit_denylist (jti, expires_at) VALUES (?, ?)"
                " ON CONFLICT (jti) DO NOTHING",
                (jti, expires_at),
            )
        )

    def is_denied(self, jti: str) -> bool:
        """Say whether an access token's ``jti`` is on the denylist."""
        found = self.db.read(
            lambda tx: tx.one("SELECT 1 FROM jwtkit_denylist WHERE jti = ?", (jti,))
        )
        return found is not None

    def purge(self, *, now: float) -> None:
        """Delete expired tokens, families left empty, and denylist entries past their exp."""

        def run(tx: Tx) -> None:
            tx.execute("DELETE FROM jwtkit_denylist WHERE expires_at < ?", (now,))
            tx.execute("DELETE FROM jwtkit_refresh_tokens WHERE expires_at < ?", (now,))
            tx.execute(
                "DELETE FROM jwtkit_refresh_families WHERE NOT EXISTS (SELECT 1 FROM"
                " jwtkit_refresh_tokens t WHERE t.family_id = jwtkit_refresh_families.family_id)"
            )

        self.db.write(run)


def _lock(tx: Tx, token_hash: str) -> tuple[Any, ...] | None:
    """Lock the token's family, then read the token with its family (None if unknown)."""
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


def _in_grace(tx: Tx, used_at: float, replaced_by: str | None, now: float, grace: float) -> bool:
    """True if the token was used within the grace window and its successor is unused."""
    if grace <= 0 or replaced_by is None or now - used_at > grace:
        return False
    successor = tx.one(
        "SELECT used_at, expires_at FROM jwtkit_refresh_tokens WHERE token_hash = ?",
        (replaced_by,),
    )
    return successor is not None and successor[0] is None and successor[1] > now


def _insert(
    tx: Tx, token_hash: str, family_id: str, parent: str | None, now: float, expires_at: float
) -> None:
    tx.execute(
        "INSERT INTO jwtkit_refresh_tokens (token_hash, family_id, parent_hash, issued_at,"
        " expires_at) VALUES (?, ?, ?, ?, ?)",
        (token_hash, family_id, parent, now, expires_at),
    )


def _revoke_family(tx: Tx, family_id: str, now: float, reason: str) -> None:
    tx.execute(
        "UPDATE jwtkit_refresh_families SET revoked_at = ?, revoke_reason = ?"
        " WHERE family_id = ? AND revoked_at IS NULL",
        (now, reason, family_id),
    )
