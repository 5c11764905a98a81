"""``ConsentRows`` and ``ResourceRows``: users' consents to clients, and registered resources.

A consent records what a user allowed a client (scopes, RFC 8707 resources), one row per
(user, client); a later grant adds to it. Withdrawing a consent ends the client's sessions
of that user in the same transaction (its refresh families, with their access tokens), so
"remove this application's access" takes effect at once. A resource is an API that access
tokens may be issued for (their ``aud``), with the scopes it understands and, per scope, the
words the consent page shows.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ._database import Database, Tx
from .families import revoke_families

__all__ = ["ConsentRow", "ConsentRows", "ResourceRow", "ResourceRows"]


@dataclass(frozen=True)
class ConsentRow:
    """What ``username`` allowed ``client_id``, and when it last did."""

    username: str
    client_id: str
    scope: tuple[str, ...]
    resources: tuple[str, ...]
    granted_at: float


def _consent(r: tuple[Any, ...]) -> ConsentRow:
    return ConsentRow(
        str(r[0]), str(r[1]), tuple(str(r[2]).split()), tuple(json.loads(r[3])), float(r[4])
    )


_CONSENT_COLUMNS = "username, client_id, scope, resources, granted_at"


class ConsentRows:
    """The ``jwtkit_consents`` table of one :class:`Database`."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def get(self, username: str, client_id: str) -> ConsentRow | None:
        """Return the user's consent to the client, or None."""
        found = self.db.read(
            lambda tx: tx.one(
                f"SELECT {_CONSENT_COLUMNS} FROM jwtkit_consents"  # noqa: S608
                " WHERE username = ? AND client_id = ?",
                (username, client_id),
            )
        )
        return None if found is None else _consent(found)

    def grant(
        self,
        username: str,
        client_id: str,
        scope: tuple[str, ...],
        resources: tuple[str, ...],
        *,
        now: float,
    ) -> ConsentRow:
        """Add ``scope`` and ``resources`` to the user's consent to the client."""

        def run(tx: Tx) -> ConsentRow:
            found = tx.one(
                f"SELECT {_CONSENT_COLUMNS} FROM jwtkit_consents"  # noqa: S608
                " WHERE username = ? AND client_id = ?" + tx.for_update,
                (username, client_id),
            )
            old = _consent(found) if found is not None else None
            merged = ConsentRow(
                username,
                client_id,
                tuple(dict.fromkeys((*(old.scope if old else ()), *scope))),
                tuple(dict.fromkeys((*(old.resources if old else ()), *resources))),
                now,
            )
            values = (" ".join(merged.scope), json.dumps(list(merged.resources)), now)
            if old is None:
                tx.execute(
                    f"INSERT INTO jwtkit_consents ({_CONSENT_COLUMNS})"  # noqa: S608
                    " VALUES (?, ?, ?, ?, ?)",
                    (username, client_id, *values),
                )
            else:
                tx.execute(
                    "UPDATE jwtkit_consents SET scope = ?, resources = ?, granted_at = ?"
                    " WHERE username = ? AND client_id = ?",
                    (*values, username, client_id),
                )
            return merged

        result: ConsentRow = self.db.write(run)
        return result

    def of_user(self, username: str) -> list[ConsentRow]:
        """Return the user's consents, sorted by client id."""
        rows = self.db.read(
            lambda tx: tx.execute(
                f"SELECT {_CONSENT_COLUMNS} FROM jwtkit_consents"  # noqa: S608
                " WHERE username = ? ORDER BY client_id",
                (username,),
            )
        )
        return [_consent(r) for r in rows]

    def revoke(self, username: str, client_id: str | None, *, now: float) -> tuple[int, int]:
        """Withdraw the user's consent to ``client_id`` (None: to every client) and end the
        sessions of those clients for the user; return (consents, sessions) removed."""

        def run(tx: Tx) -> tuple[int, int]:
            where = "username = ?"
            params: tuple[str, ...] = (username,)
            if client_id is not None:
                where, params = where + " AND client_id = ?", (username, client_id)
            clients = [
                str(r[0])
                for r in tx.execute(
                    f"SELECT client_id FROM jwtkit_consents WHERE {where}",  # noqa: S608
                    params,
                )
            ]
            tx.execute(f"DELETE FROM jwtkit_consents WHERE {where}", params)  # noqa: S608
            sessions = sum(
                revoke_families(
                    tx, "username", username, now=now, reason="consent revoked", client_id=c
                )
                for c in clients
            )
            return len(clients), sessions

        result: tuple[int, int] = self.db.write(run)
        return result


@dataclass(frozen=True)
class ResourceRow:
    """A registered resource: its URI (the tokens' ``aud``) and its scopes, each with the
    description the consent page shows (None: the scope's name is shown)."""

    uri: str
    scopes: tuple[tuple[str, str | None], ...]
    created_at: float

    @property
    def scope_names(self) -> tuple[str, ...]:
        """Return the names of the resource's scopes."""
        return tuple(name for name, _ in self.scopes)


def _resource(r: tuple[Any, ...]) -> ResourceRow:
    scopes = tuple((str(s["scope"]), s.get("description")) for s in json.loads(r[1]))
    return ResourceRow(str(r[0]), scopes, float(r[2]))


class ResourceRows:
    """The ``jwtkit_resources`` table of one :class:`Database`."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def insert(self, row: ResourceRow) -> bool:
        """Register a resource; False (nothing written) when the URI is taken."""
        scopes = json.dumps([{"scope": n, "description": d} for n, d in row.scopes])

        def run(tx: Tx) -> bool:
            if tx.one("SELECT 1 FROM jwtkit_resources WHERE uri = ?", (row.uri,)):
                return False
            tx.execute(
                "INSERT INTO jwtkit_resources (uri, scopes, created_at) VALUES (?, ?, ?)",
                (row.uri, scopes, row.created_at),
            )
            return True

        result: bool = self.db.write(run)
        return result

    def get(self, uri: str) -> ResourceRow | None:
        """Return the resource registered under ``uri`` (exactly), or None."""
        found = self.db.read(
            lambda tx: tx.one(
                "SELECT uri, scopes, created_at FROM jwtkit_resources WHERE uri = ?", (uri,)
            )
        )
        return None if found is None else _resource(found)

    def all(self) -> list[ResourceRow]:
        """Return every resource, sorted by URI."""
        rows = self.db.read(
            lambda tx: tx.execute(
                "SELECT uri, scopes, created_at FROM jwtkit_resources ORDER BY uri"
            )
        )
        return [_resource(r) for r in rows]

    def delete(self, uri: str) -> bool:
        """Remove a resource; False when none is registered under ``uri``."""

        def run(tx: Tx) -> bool:
            if tx.one("SELECT 1 FROM jwtkit_resources WHERE uri = ?", (uri,)) is None:
                return False
            tx.execute("DELETE FROM jwtkit_resources WHERE uri = ?", (uri,))
            return True

        result: bool = self.db.write(run)
        return result
