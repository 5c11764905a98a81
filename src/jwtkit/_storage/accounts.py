"""``AccountRows``: users and OAuth clients of the token service (hashes, never secrets).

Rows come back as :class:`UserRow` / :class:`ClientRow`; roles, scopes and grants are stored
as JSON lists, times as epoch seconds. The caller (``jwtkit.server.Accounts``) validates names
and hashes passwords; this module only reads and writes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Final

from ._database import Database, Tx

__all__ = ["AccountRows", "ClientRow", "UserRow"]

_USER_COLUMNS: Final = "username, roles, disabled, created_at, password_hash"
_CLIENT_COLUMNS: Final = "client_id, secret_hash, scopes, grants, disabled, created_at"


@dataclass(frozen=True)
class UserRow:
    """A stored user."""

    username: str
    roles: tuple[str, ...]
    disabled: bool
    created_at: float
    password_hash: str = field(repr=False)


@dataclass(frozen=True)
class ClientRow:
    """A stored client; ``secret_hash`` is None for a public client."""

    client_id: str
    secret_hash: str | None = field(repr=False)
    scopes: tuple[str, ...]
    grants: tuple[str, ...]
    disabled: bool
    created_at: float


def _user(r: tuple[Any, ...]) -> UserRow:
    return UserRow(str(r[0]), tuple(json.loads(r[1])), bool(r[2]), float(r[3]), str(r[4]))


def _client(r: tuple[Any, ...]) -> ClientRow:
    return ClientRow(
        str(r[0]),
        None if r[1] is None else str(r[1]),
        tuple(json.loads(r[2])),
        tuple(json.loads(r[3])),
        bool(r[4]),
        float(r[5]),
    )


class AccountRows:
    """The ``jwtkit_users`` and ``jwtkit_clients`` tables of one :class:`Database`."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # Users.

    def insert_user(self, row: UserRow) -> bool:
        """Insert a user; False (nothing written) when the name is taken."""

        def run(tx: Tx) -> bool:
            if tx.one("SELECT 1 FROM jwtkit_users WHERE username = ?", (row.username,)):
                return False
            tx.execute(
                "INSERT INTO jwtkit_users (username, password_hash, roles, disabled, created_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (
                    row.username,
                    row.password_hash,
                    json.dumps(list(row.roles)),
                    int(row.disabled),
                    row.created_at,
                ),
            )
            return True

        return self.db.write(run)

    def user(self, username: str) -> UserRow | None:
        """Return the user named ``username``, or None."""
        found = self.db.read(
            lambda tx: tx.one(
                f"SELECT {_USER_COLUMNS} FROM jwtkit_users WHERE username = ?",  # noqa: S608
                (username,),
            )
        )
        return None if found is None else _user(found)

    def users(self) -> list[UserRow]:
        """Return every user, sorted by name."""
        rows = self.db.read(
            lambda tx: tx.execute(
                f"SELECT {_USER_COLUMNS} FROM jwtkit_users ORDER BY username"  # noqa: S608
            )
        )
        return [_user(r) for r in rows]

    def set_password_hash(self, username: str, password_hash: str) -> bool:
        """Replace a user's password hash; False when there is no such user."""
        return self._update("jwtkit_users", "password_hash", password_hash, "username", username)

    def set_user_disabled(self, username: str, disabled: bool) -> bool:
        """Disable or enable a user; False when there is no such user."""
        return self._update("jwtkit_users", "disabled", int(disabled), "username", username)

    # Clients.

    def insert_client(self, row: ClientRow) -> bool:
        """Insert a client; False (nothing written) when the id is taken."""

        def run(tx: Tx) -> bool:
            if tx.one("SELECT 1 FROM jwtkit_clients WHERE client_id = ?", (row.client_id,)):
                return False
            tx.execute(
                f"INSERT INTO jwtkit_clients ({_CLIENT_COLUMNS})"  # noqa: S608 - fixed text
                " VALUES (?, ?, ?, ?, ?, ?)",
                (
                    row.client_id,
                    row.secret_hash,
                    json.dumps(list(row.scopes)),
                    json.dumps(list(row.grants)),
                    int(row.disabled),
                    row.created_at,
                ),
            )
            return True

        return self.db.write(run)

    def client(self, client_id: str) -> ClientRow | None:
        """Return the client with this id, or None."""
        found = self.db.read(
            lambda tx: tx.one(
                f"SELECT {_CLIENT_COLUMNS} FROM jwtkit_clients WHERE client_id = ?",  # noqa: S608
                (client_id,),
            )
        )
        return None if found is None else _client(found)

    def clients(self) -> list[ClientRow]:
        """Return every client, sorted by id."""
        rows = self.db.read(
            lambda tx: tx.execute(
                f"SELECT {_CLIENT_COLUMNS} FROM jwtkit_clients ORDER BY client_id"  # noqa: S608
            )
        )
        return [_client(r) for r in rows]

    def set_client_disabled(self, client_id: str, disabled: bool) -> bool:
        """Disable or enable a client; False when there is no such client."""
        return self._update("jwtkit_clients", "disabled", int(disabled), "client_id", client_id)

    def _update(self, table: str, column: str, value: object, key: str, name: str) -> bool:
        def run(tx: Tx) -> bool:
            if tx.one(f"SELECT 1 FROM {table} WHERE {key} = ?", (name,)) is None:  # noqa: S608
                return False
            tx.execute(f"UPDATE {table} SET {column} = ? WHERE {key} = ?", (value, name))  # noqa: S608
            return True

        return self.db.write(run)
