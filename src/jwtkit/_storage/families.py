"""``Families``: refresh-token families, their tokens (hashes only) and the access denylist.

A family is one login session: every access token issued under it carries its id, so
revoking the family ends the session everywhere. Every writer of a family locks the family row
first (PostgreSQL ``FOR UPDATE``; SQLite already holds the database write lock from ``BEGIN
IMMEDIATE``), so all changes to one family are serialized in one lock order (no deadlocks),
and the read that follows the lock sees the latest committed state (READ COMMITTED takes a
fresh snapshot per statement). Two refreshes of one token therefore give exactly one successor.

It is longer than most modules (about 400 lines) on purpose: every statement here relies on
that one lock order, which splitting the family and denylist SQL apart would hide.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Final

from ._database import Database, Tx

__all__ = [
    "Families",
    "FamilyStart",
    "Refused",
    "Rotated",
    "TokenRow",
    "revoke_families",
    "start_family",
]

_SELECT_ROW: Final = (
    "SELECT t.family_id, t.expires_at, t.used_at, t.replaced_by, f.client_id, f.username,"
    " f.scope, f.revoked_at, t.issued_at, f.created_at, t.successor_sealed, t.retried_at,"
    " t.parent_hash, f.resources"
    " FROM jwtkit_refresh_tokens t JOIN jwtkit_refresh_families f"
    " ON f.family_id = t.family_id WHERE t.token_hash = ?"
)


@dataclass(frozen=True)
class TokenRow:
    """A stored refresh token with its family (``created_at`` is the family's)."""

    family_id: str
    expires_at: float
    used_at: float | None
    client_id: str
    username: str
    scope: tuple[str, ...]
    revoked_at: float | None
    issued_at: float
    created_at: float = 0.0


@dataclass(frozen=True)
class FamilyStart:
    """A new family's id and first refresh token (``token_hash`` None: no refresh token)."""

    family_id: str
    token_hash: str | None = field(repr=False)
    expires_at: float
    access_until: float


@dataclass(frozen=True)
class Rotated:
    """The outcome of a successful rotation: the family and the user's current roles.

    ``retry_sealed`` is set when this was the one retry the grace window allows: the
    successor issued the first time, sealed by the caller, to be handed out again.
    """

    family_id: str
    client_id: str
    username: str
    scope: tuple[str, ...]
    expires_at: float
    roles: tuple[str, ...]
    retry_sealed: str | None = None
    resources: tuple[str, ...] = ()


@dataclass(frozen=True)
class Refused:
    """Why a rotation was refused, with the family it concerned (for the audit log)."""

    reason: str
    family_id: str = ""
    username: str = ""


def _split(scope: Any) -> tuple[str, ...]:
    return tuple(str(scope).split()) if scope else ()


def _resources(value: Any) -> tuple[str, ...]:
    return tuple(json.loads(value)) if value else ()


class Families:
    """The refresh-token and denylist tables of one :class:`Database`."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def start(
        self,
        *,
        family_id: str,
        token_hash: str | None,
        client_id: str,
        username: str,
        scope: tuple[str, ...],
        now: float,
        expires_at: float,
        access_until: float,
        sid: str | None = None,
        resources: tuple[str, ...] = (),
    ) -> None:
        """Create a family, with its first refresh token unless ``token_hash`` is None.

        ``sid`` is the browser session (OpenID Connect) the family was issued under;
        ``resources`` the RFC 8707 resources (access token audiences) it was granted.
        """
        self.db.write(
            lambda tx: start_family(
                tx, family_id=family_id, token_hash=token_hash, client_id=client_id,
                username=username, scope=scope, now=now, expires_at=expires_at,
                access_until=access_until, sid=sid, resources=resources,
            )
        )  # fmt: skip

    def rotate(
        self,
        presented: str,
        successor: str,
        *,
        client_id: str,
        now: float,
        expires_at: float,
        family_lifetime: float,
        access_until: float,
        requested: tuple[str, ...] | None,
        grace: float,
        sealed: str | None,
        resources: tuple[str, ...] = (),
    ) -> Rotated | Refused:
        """Use the token ``presented`` once and store ``successor`` in its place.

        The successor expires at ``expires_at`` or when the family's absolute lifetime
        (``family_lifetime`` seconds from its login) ends, whichever is first. ``sealed`` is
        kept with the presented token so that one retry within ``grace`` seconds can be
        given the same successor; any other use of a used token is reuse. ``resources``
        (RFC 8707) must be among the family's, else nothing changes.

        Returns the rotation, or why not (:class:`Refused`): ``unknown``, ``client``,
        ``revoked``, ``scope``, ``target`` (a resource the family was not granted), ``user``
        (disabled or gone: family revoked), ``reused`` (family revoked), ``expired``.
        """

        def run(tx: Tx) -> Rotated | Refused:
            row = _lock(tx, presented)
            if row is None:
                return Refused("unknown")
            family_id, token_expiry, used_at, _, owner, username, scope = row[:7]
            family_end = float(row[9]) + family_lifetime
            refused = _refusal(tx, row, client_id, requested, now)
            if refused is None and not set(resources) <= set(_resources(row[13])):
                refused = Refused("target", str(family_id), str(username))
            if refused is not None:
                return refused
            user = tx.one(
                "SELECT roles, disabled FROM jwtkit_users WHERE username = ?", (username,)
            )
            if user is None or user[1]:
                _revoke_family(tx, family_id, now, "user disabled")
                return Refused("user", str(family_id), str(username))
            roles = tuple(json.loads(user[0]))
            if used_at is not None:
                retry = _retry(tx, row, now, grace)
                if retry is None:
                    _revoke_family(tx, family_id, now, "reuse")
                    return Refused("reused", str(family_id), str(username))
                tx.execute(
                    "UPDATE jwtkit_refresh_tokens SET retried_at = ? WHERE token_hash = ?",
                    (now, presented),
                )
                _extend_access(tx, family_id, access_until)
                return Rotated(
                    str(family_id), str(owner), str(username), _split(scope), retry, roles,
                    str(row[10]), _resources(row[13]),
                )  # fmt: skip
            if token_expiry <= now or family_end <= now:
                return Refused("expired", str(family_id), str(username))
            successor_expiry = min(expires_at, family_end)
            _insert(tx, successor, family_id, presented, now, successor_expiry)
            tx.execute(
                "UPDATE jwtkit_refresh_tokens SET used_at = ?, replaced_by = ?,"
                " successor_sealed = ? WHERE token_hash = ?",
                (now, successor, sealed, presented),
            )
            _extend_access(tx, family_id, access_until)
            return Rotated(
                str(family_id), str(owner), str(username), _split(scope), successor_expiry, roles,
                None, _resources(row[13]),
            )  # fmt: skip

        return self.db.write(run)

    def find(self, token_hash: str) -> TokenRow | None:
        """Return a stored token with its family, or None."""
        row = self.db.read(lambda tx: tx.one(_SELECT_ROW, (token_hash,)))
        if row is None:
            return None
        return TokenRow(
            str(row[0]), row[1], row[2], str(row[4]), str(row[5]), _split(row[6]), row[7],
            row[8], float(row[9]),
        )  # fmt: skip

    def revoke(self, token_hash: str, *, client_id: str, now: float, reason: str) -> bool:
        """Revoke the family of a token if it belongs to ``client_id``; say if it did."""

        def run(tx: Tx) -> bool:
            row = _lock(tx, token_hash)
            if row is None or row[4] != client_id:
                return False
            _revoke_family(tx, row[0], now, reason)
            return True

        return self.db.write(run)

    def revoke_family(self, family_id: str, *, now: float, reason: str) -> bool:
        """Revoke a family by its id (``jwtkit_fid``); say whether it was live before."""

        def run(tx: Tx) -> bool:
            return _revoke_family(tx, family_id, now, reason) > 0

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
        """Delete expired tokens, denylist entries past their exp, and families that have
        neither a refresh token left nor an access token that may still be valid."""

        def run(tx: Tx) -> None:
            tx.execute("DELETE FROM jwtkit_denylist WHERE expires_at < ?", (now,))
            tx.execute("DELETE FROM jwtkit_refresh_tokens WHERE expires_at < ?", (now,))
            tx.execute(
                "DELETE FROM jwtkit_refresh_families WHERE COALESCE(access_until, 0) < ?"
                " AND NOT EXISTS (SELECT 1 FROM jwtkit_refresh_tokens t"
                " WHERE t.family_id = jwtkit_refresh_families.family_id)",
                (now,),
            )

        self.db.write(run)


def start_family(
    tx: Tx,
    *,
    family_id: str,
    token_hash: str | None,
    client_id: str,
    username: str,
    scope: tuple[str, ...],
    now: float,
    expires_at: float,
    access_until: float,
    sid: str | None,
    resources: tuple[str, ...] = (),
) -> None:
    """Insert a family and its first token (runs inside the caller's write transaction, so
    that redeeming an authorization code and starting its family are one commit)."""
    tx.execute(
        "INSERT INTO jwtkit_refresh_families (family_id, client_id, username, scope,"
        " created_at, access_until, sid, resources) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (family_id, client_id, username, " ".join(scope), now, access_until, sid,
         json.dumps(list(resources))),
    )  # fmt: skip
    if token_hash is not None:
        _insert(tx, token_hash, family_id, None, now, expires_at)


def revoke_families(
    tx: Tx,
    column: str,
    value: str,
    *,
    now: float,
    reason: str,
    keep: str | None = None,
    client_id: str | None = None,
) -> int:
    """Revoke every live family whose ``column`` (username, client_id or the browser
    session's sid) is ``value``, except ``keep`` and only of ``client_id`` when given;
    return how many (runs inside the caller's write transaction)."""
    if column not in ("username", "client_id", "sid"):
        raise ValueError(f"families are not revoked by {column!r}")
    where = f"{column} = ? AND revoked_at IS NULL"
    params: tuple[Any, ...] = (value,)
    if client_id is not None:
        where += " AND client_id = ?"
        params += (client_id,)
    if keep is not None:
        where += " AND family_id <> ?"
        params += (keep,)
    count = tx.one(f"SELECT COUNT(*) FROM jwtkit_refresh_families WHERE {where}", params)  # noqa: S608
    tx.execute(
        f"UPDATE jwtkit_refresh_families SET revoked_at = ?, revoke_reason = ? WHERE {where}",  # noqa: S608
        (now, reason, *params),
    )
    return int(count[0]) if count else 0


def _refusal(
    tx: Tx, row: tuple[Any, ...], client_id: str, requested: tuple[str, ...] | None, now: float
) -> Refused | None:
    """Return why a locked token cannot be rotated by ``client_id`` (before any user check)."""
    family_id, username = str(row[0]), str(row[5])
    if row[4] != client_id:
        return Refused("client", family_id, username)
    if row[7] is not None:
        return Refused("revoked", family_id, username)
    if requested is not None and not set(requested) <= set(_split(row[6])):
        return Refused("scope", family_id, username)
    return None


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


def _retry(tx: Tx, row: tuple[Any, ...], now: float, grace: float) -> float | None:
    """Return the successor's expiry if this use of a used token is the one allowed retry.

    Allowed once, within ``grace`` seconds of the first use, while the successor issued then
    is unused and unexpired, and not for a token that was itself handed out twice (by a
    retry): two parties may hold that one, and a thief replaying the victim's previous token
    after each refresh is exactly that pattern (issue 11: the grace window let a used token
    be replayed over and over, and hid a thief alternating with the victim for 20 rounds).
    """
    used_at, replaced_by, sealed, retried_at, parent = row[2], row[3], row[10], row[11], row[12]
    if grace <= 0 or retried_at is not None or sealed is None or replaced_by is None:
        return None
    if now - float(used_at) > grace:
        return None
    if parent is not None:
        handed_twice = tx.one(
            "SELECT retried_at FROM jwtkit_refresh_tokens WHERE token_hash = ?", (parent,)
        )
        if handed_twice is not None and handed_twice[0] is not None:
            return None
    successor = tx.one(
        "SELECT used_at, expires_at FROM jwtkit_refresh_tokens WHERE token_hash = ?",
        (replaced_by,),
    )
    if successor is None or successor[0] is not None or successor[1] <= now:
        return None
    return float(successor[1])


def _extend_access(tx: Tx, family_id: str, access_until: float) -> None:
    tx.execute(
        "UPDATE jwtkit_refresh_families SET access_until = ? WHERE family_id = ?"
        " AND (access_until IS NULL OR access_until < ?)",
        (access_until, family_id, access_until),
    )


def _insert(
    tx: Tx, token_hash: str, family_id: str, parent: str | None, now: float, expires_at: float
) -> None:
    tx.execute(
        "INSERT INTO jwtkit_refresh_tokens (token_hash, family_id, parent_hash, issued_at,"
        " expires_at) VALUES (?, ?, ?, ?, ?)",
        (token_hash, family_id, parent, now, expires_at),
    )


def _revoke_family(tx: Tx, family_id: str, now: float, reason: str) -> int:
    rows = tx.one(
        "SELECT COUNT(*) FROM jwtkit_refresh_families WHERE family_id = ? AND revoked_at IS NULL",
        (family_id,),
    )
    tx.execute(
        "UPDATE jwtkit_refresh_families SET revoked_at = ?, revoke_reason = ?"
        " WHERE family_id = ? AND revoked_at IS NULL",
        (now, reason, family_id),
    )
    return int(rows[0]) if rows else 0
