"""``Codes`` and ``Sessions``: authorization codes and browser sessions of the OIDC provider.

Both live in the shared store, so an authorization started on one instance finishes on another
(PostgreSQL). Only hashes of the secrets are stored: the SHA-256 of a code, of a session
cookie. A code is redeemed in one transaction that also starts its refresh family (the one
``start_family`` of ``families.py``), so a second use, whenever it comes, finds the family to
revoke, and with it every token issued from the code (their ``jwtkit_fid``; RFC 6749 §4.1.2).
The code row is locked first (``FOR UPDATE``; SQLite holds the write lock), so two
redemptions of one code give one success. A user's sessions and unused codes die with the
user's cut-off (``revoked_at``: disabled, logged out, password changed by an administrator).
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

from ._database import Database, Tx
from .families import FamilyStart, _revoke_family, revoke_families, start_family

__all__ = ["CodeGrant", "CodeRow", "Codes", "SessionRow", "Sessions"]

_CODE_COLUMNS: Final = (
    "client_id, username, redirect_uri, scope, nonce, code_challenge, sid, auth_time,"
    " expires_at, claims, created_at, used_at, family_id"
)


@dataclass(frozen=True)
class CodeRow:
    """An authorization code as issued: what it was granted for (no secret in it)."""

    client_id: str
    username: str
    redirect_uri: str
    scope: tuple[str, ...]
    nonce: str | None
    code_challenge: str = field(repr=False)
    sid: str
    auth_time: float
    expires_at: float
    claims: str = "{}"  # JSON object of further request details: {"resources": [...]}

    @property
    def resources(self) -> tuple[str, ...]:
        """Return the RFC 8707 resources the code was granted for (issue 14)."""
        value = json.loads(self.claims).get("resources", [])
        return tuple(str(v) for v in value)


@dataclass(frozen=True)
class CodeGrant:
    """The outcome of redeeming a code: the grant, or ``refused`` with the reason.

    Reasons: ``unknown``, ``expired``, ``client``, ``redirect_uri``, ``pkce``, ``target``
    (the token request named a resource the code was not granted), ``reused``
    (the family started by the first use is revoked), ``user`` (disabled, gone, or cut off
    since the login).
    """

    refused: str | None
    row: CodeRow | None = None
    roles: tuple[str, ...] = ()


def _split(scope: Any) -> tuple[str, ...]:
    return tuple(str(scope).split()) if scope else ()


def _user_alive(tx: Tx, username: str, since: float) -> tuple[Any, ...] | None:
    """Return the user's (roles, ...) row if the user is enabled and not cut off since
    ``since`` (a login at that time), else None."""
    user = tx.one(
        "SELECT roles, disabled, revoked_at FROM jwtkit_users WHERE username = ?", (username,)
    )
    if user is None or user[1] or (user[2] is not None and float(user[2]) >= since):
        return None
    return tuple(user)


class Codes:
    """The ``jwtkit_auth_codes`` table of one :class:`Database`."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def issue(self, code_hash: str, row: CodeRow, *, now: float) -> None:
        """Store a new code."""
        self.db.write(
            lambda tx: tx.execute(
                f"INSERT INTO jwtkit_auth_codes (code_hash, {_CODE_COLUMNS})"  # noqa: S608
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL)",
                (
                    code_hash, row.client_id, row.username, row.redirect_uri,
                    " ".join(row.scope), row.nonce, row.code_challenge, row.sid,
                    row.auth_time, row.expires_at, row.claims, now,
                ),
            )
        )  # fmt: skip

    def redeem(
        self,
        code_hash: str,
        *,
        client_id: str,
        redirect_uri: str | None,
        challenge_ok: Callable[[str], bool],
        now: float,
        family: FamilyStart,
        resources: tuple[str, ...] = (),
    ) -> CodeGrant:
        """Use a code once and start its refresh family, in one transaction.

        ``challenge_ok`` checks the PKCE verifier against the stored challenge; the token
        request's ``resources`` must be among the code's (RFC 8707 §2.2). The family
        (with the code's client, user, scope and browser session ``sid``) is recorded with
        the code, so that a later second use revokes it.
        """

        def run(tx: Tx) -> CodeGrant:
            found = tx.one(
                f"SELECT {_CODE_COLUMNS} FROM jwtkit_auth_codes WHERE code_hash = ?"  # noqa: S608
                + tx.for_update,
                (code_hash,),
            )
            if found is None:
                return CodeGrant("unknown")
            row = _code(found)
            created_at, used_at, family_id = float(found[10]), found[11], found[12]
            if used_at is not None:
                # RFC 6749 §4.1.2: a code used twice revokes what was issued from it.
                if family_id is not None:
                    _revoke_family(tx, str(family_id), now, "code reuse")
                return CodeGrant("reused", row)
            if row.client_id != client_id:
                return CodeGrant("client", row)
            if row.expires_at <= now:
                return CodeGrant("expired", row)
            if redirect_uri is None or not hmac.compare_digest(
                redirect_uri.encode("utf-8", "surrogatepass"), row.redirect_uri.encode()
            ):
                return CodeGrant("redirect_uri", row)
            if not challenge_ok(row.code_challenge):
                return CodeGrant("pkce", row)
            if not set(resources) <= set(row.resources):
                return CodeGrant("target", row)
            user = _user_alive(tx, row.username, created_at)
            if user is None:
                return CodeGrant("user", row)
            tx.execute(
                "UPDATE jwtkit_auth_codes SET used_at = ?, family_id = ? WHERE code_hash = ?",
                (now, family.family_id, code_hash),
            )
            start_family(
                tx, family_id=family.family_id, token_hash=family.token_hash,
                client_id=row.client_id, username=row.username, scope=row.scope, now=now,
                expires_at=family.expires_at, access_until=family.access_until, sid=row.sid,
                resources=row.resources,
            )  # fmt: skip
            return CodeGrant(None, row, tuple(json.loads(user[0])))

        result: CodeGrant = self.db.write(run)
        return result

    def purge(self, *, now: float, keep: float) -> None:
        """Delete codes that expired more than ``keep`` seconds ago (used ones are kept that
        long so that a late second use still revokes what the first one got)."""
        self.db.write(
            lambda tx: tx.execute(
                "DELETE FROM jwtkit_auth_codes WHERE expires_at < ?", (now - keep,)
            )
        )


def _code(r: tuple[Any, ...]) -> CodeRow:
    return CodeRow(
        client_id=str(r[0]), username=str(r[1]), redirect_uri=str(r[2]), scope=_split(r[3]),
        nonce=None if r[4] is None else str(r[4]), code_challenge=str(r[5]), sid=str(r[6]),
        auth_time=float(r[7]), expires_at=float(r[8]), claims=str(r[9] or "{}"),
    )  # fmt: skip


@dataclass(frozen=True)
class SessionRow:
    """A logged-in browser session: ``sid`` is public (it goes into ID tokens)."""

    sid: str
    username: str
    auth_time: float
    created_at: float
    last_seen: float
    expires_at: float


_SESSION_COLUMNS: Final = "sid, username, auth_time, created_at, last_seen, expires_at"


class Sessions:
    """The ``jwtkit_sessions`` table of one :class:`Database`, keyed by the cookie's hash."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def start(self, token_hash: str, row: SessionRow, *, replaces: str | None = None) -> None:
        """Store a new session, ending the one ``replaces`` names (login rotates the cookie,
        so a cookie planted before the login never names the logged-in session)."""

        def run(tx: Tx) -> None:
            if replaces is not None:
                tx.execute("DELETE FROM jwtkit_sessions WHERE token_hash = ?", (replaces,))
            tx.execute(
                f"INSERT INTO jwtkit_sessions (token_hash, {_SESSION_COLUMNS})"  # noqa: S608
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (token_hash, row.sid, row.username, row.auth_time, row.created_at,
                 row.last_seen, row.expires_at),
            )  # fmt: skip

        self.db.write(run)

    def touch(self, token_hash: str, *, now: float, idle: float) -> SessionRow | None:
        """Return the live session of a cookie and record this use, or None.

        A session is live until its absolute expiry and while it was used within ``idle``
        seconds; a session found dead is deleted. The user must still exist, be enabled and
        not have been cut off since the login (``jwtkit user logout``, disable).
        """

        def run(tx: Tx) -> SessionRow | None:
            found = tx.one(
                f"SELECT {_SESSION_COLUMNS} FROM jwtkit_sessions"  # noqa: S608
                " WHERE token_hash = ?" + tx.for_update,
                (token_hash,),
            )
            if found is None:
                return None
            row = SessionRow(str(found[0]), str(found[1]), *(float(v) for v in found[2:]))
            alive = _user_alive(tx, row.username, row.created_at)
            if row.expires_at <= now or row.last_seen + idle <= now or alive is None:
                tx.execute("DELETE FROM jwtkit_sessions WHERE token_hash = ?", (token_hash,))
                return None
            tx.execute(
                "UPDATE jwtkit_sessions SET last_seen = ? WHERE token_hash = ?", (now, token_hash)
            )
            return SessionRow(
                row.sid, row.username, row.auth_time, row.created_at, now, row.expires_at
            )

        result: SessionRow | None = self.db.write(run)
        return result

    def end(self, sid: str, *, now: float) -> int:
        """End the browser session ``sid`` (RP-Initiated Logout): delete it and revoke every
        refresh family issued under it, with their access tokens, in one transaction.

        Returns the number of families revoked (the session may already be gone: its
        families are revoked all the same).
        """

        def run(tx: Tx) -> int:
            tx.execute("DELETE FROM jwtkit_sessions WHERE sid = ?", (sid,))
            return revoke_families(tx, "sid", sid, now=now, reason="logout")

        result: int = self.db.write(run)
        return result

    def purge(self, *, now: float, idle: float) -> None:
        """Delete sessions past their absolute expiry or idle for longer than ``idle``."""
        self.db.write(
            lambda tx: tx.execute(
                "DELETE FROM jwtkit_sessions WHERE expires_at < ? OR last_seen < ?",
                (now, now - idle),
            )
        )
