"""``RevocationRows``: what is revoked now, read for introspection and the revocation list.

Four kinds of revocation, each read from the table that owns it: access-token ``jti``s on the
denylist (until their ``exp``), revoked refresh families (until the last access token issued
under them expires, ``access_until``), and users and clients whose tokens were cut off
(``revoked_at``, with ``disabled``). :meth:`lookup` reads what concerns one token;
:meth:`snapshot` reads everything that still matters at a time.
"""

from __future__ import annotations

from dataclasses import dataclass

from ._database import Database, Tx

__all__ = ["CutOff", "RevocationRows", "RevocationSnapshot", "TokenRevocations"]


@dataclass(frozen=True)
class CutOff:
    """A user or client whose tokens were cut off at ``revoked_at``; maybe still disabled."""

    name: str
    disabled: bool
    revoked_at: float


@dataclass(frozen=True)
class TokenRevocations:
    """What revokes one token: its jti, its family, its user, its client (None: nothing)."""

    jti_until: float | None = None
    family_until: float | None = None
    user: CutOff | None = None
    client: CutOff | None = None


@dataclass(frozen=True)
class RevocationSnapshot:
    """Every revocation that still matters: (id, until) pairs and the cut-off subjects."""

    jtis: tuple[tuple[str, float], ...]
    families: tuple[tuple[str, float], ...]
    users: tuple[CutOff, ...]
    clients: tuple[CutOff, ...]


def _cut_off(tx: Tx, table: str, key: str, name: str | None) -> CutOff | None:
    if name is None:
        return None
    row = tx.one(
        f"SELECT disabled, revoked_at FROM {table} WHERE {key} = ?",  # noqa: S608 - fixed names
        (name,),
    )
    if row is None or (row[1] is None and not row[0]):
        return None
    return CutOff(name, bool(row[0]), float(row[1]) if row[1] is not None else 0.0)


class RevocationRows:
    """Read-only view of the revocation state of one :class:`Database`."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def lookup(
        self,
        *,
        jti: str | None,
        family_id: str | None,
        username: str | None,
        client_id: str | None,
    ) -> TokenRevocations:
        """Return what revokes a token with these claims, in one read transaction."""

        def run(tx: Tx) -> TokenRevocations:
            denied = None
            if jti is not None:
                row = tx.one("SELECT expires_at FROM jwtkit_denylist WHERE jti = ?", (jti,))
                denied = None if row is None else float(row[0])
            family = None
            if family_id is not None:
                row = tx.one(
                    "SELECT COALESCE(access_until, 0) FROM jwtkit_refresh_families"
                    " WHERE family_id = ? AND revoked_at IS NOT NULL",
                    (family_id,),
                )
                family = None if row is None else float(row[0])
            return TokenRevocations(
                denied,
                family,
                _cut_off(tx, "jwtkit_users", "username", username),
                _cut_off(tx, "jwtkit_clients", "client_id", client_id),
            )

        return self.db.read(run)

    def snapshot(self, *, now: float, horizon: float) -> RevocationSnapshot:
        """Return every revocation still in force at ``now``, sorted by id.

        A subject's cut-off matters for ``horizon`` seconds (the longest access-token
        lifetime): every token issued before it has expired by then.
        """

        def subjects(tx: Tx, table: str, key: str) -> tuple[CutOff, ...]:
            rows = tx.execute(
                f"SELECT {key}, disabled, revoked_at FROM {table}"  # noqa: S608 - fixed names
                f" WHERE revoked_at > ? ORDER BY {key}",
                (now - horizon,),
            )
            return tuple(CutOff(str(r[0]), bool(r[1]), float(r[2])) for r in rows)

        def run(tx: Tx) -> RevocationSnapshot:
            jtis = tx.execute(
                "SELECT jti, expires_at FROM jwtkit_denylist WHERE expires_at > ? ORDER BY jti",
                (now,),
            )
            families = tx.execute(
                "SELECT family_id, access_until FROM jwtkit_refresh_families"
                " WHERE revoked_at IS NOT NULL AND access_until > ? ORDER BY family_id",
                (now,),
            )
            return RevocationSnapshot(
                tuple((str(r[0]), float(r[1])) for r in jtis),
                tuple((str(r[0]), float(r[1])) for r in families),
                subjects(tx, "jwtkit_users", "username"),
                subjects(tx, "jwtkit_clients", "client_id"),
            )

        return self.db.read(run)
