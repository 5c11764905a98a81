"""``AccountRows``: users and OAuth clients of the token service (hashes, never secrets).

Rows come back as :class:`UserRow` / :class:`ClientRow`; roles, scopes and grants are stored
as JSON lists, times as epoch seconds. The caller (``jwtkit.server.Accounts``) validates names
and hashes passwords; this module only reads and writes. ``revoked_at`` is when a subject's
tokens were last cut off (disabled, re-enabled, logged out, password changed); the changes
that cut tokens off revoke the subject's refresh families in the same transaction.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Final

from ._database import Database, Tx
from .families import revoke_families

__all__ = ["AccountRows", "ClientRow", "UserRow"]

_USER_COLUMNS: Final = (
    "username, roles, disabled, created_at, password_hash, name, email, revoked_at, email_verified"
)
_PROFILE: Final = frozenset({"name", "email", "email_verified"})
_CLIENT_COLUMNS: Final = (
    "client_id, secret_hash, scopes, grants, disabled, created_at, resource_server,"
    " old_secret_hash, old_secret_until, revoked_at, origins, redirect_uris, first_party,"
    " id_token_alg, post_logout_redirect_uris"
)


@dataclass(frozen=True)
class UserRow:
    """A stored user."""

    username: str
    roles: tuple[str, ...]
    disabled: bool
    created_at: float
    password_hash: str = field(repr=False)
    name: str | None = None
    email: str | None = None
    revoked_at: float | None = None
    email_verified: bool = False


@dataclass(frozen=True)
class ClientRow:
    """A stored client; ``secret_hash`` is None for a public client.

    ``old_secret_hash`` is the secret replaced by the last rotation, valid until
    ``old_secret_until``. ``redirect_uris``, ``first_party``, ``id_token_alg`` (None: the
    default) and ``post_logout_redirect_uris`` are its OpenID Connect registration.
    """

    client_id: str
    secret_hash: str | None = field(repr=False)
    scopes: tuple[str, ...]
    grants: tuple[str, ...]
    disabled: bool
    created_at: float
    resource_server: bool = False
    old_secret_hash: str | None = field(default=None, repr=False)
    old_secret_until: float | None = None
    revoked_at: float | None = None
    origins: tuple[str, ...] = ()
    redirect_uris: tuple[str, ...] = ()
    first_party: bool = False
    id_token_alg: str | None = None
    post_logout_redirect_uris: tuple[str, ...] = ()


def _opt(value: Any, kind: type) -> Any:
    return None if value is None else kind(value)


def _user(r: tuple[Any, ...]) -> UserRow:
    return UserRow(
        str(r[0]), tuple(json.loads(r[1])), bool(r[2]), float(r[3]), str(r[4]),
        _opt(r[5], str), _opt(r[6], str), _opt(r[7], float), bool(r[8]),
    )  # fmt: skip


def _client(r: tuple[Any, ...]) -> ClientRow:
    return ClientRow(
        str(r[0]), _opt(r[1], str), tuple(json.loads(r[2])), tuple(json.loads(r[3])),
        bool(r[4]), float(r[5]), bool(r[6]), _opt(r[7], str), _opt(r[8], float),
        _opt(r[9], float), tuple(json.loads(r[10])), tuple(json.loads(r[11])), bool(r[12]),
        _opt(r[13], str), tuple(json.loads(r[14])),
    )  # fmt: skip


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
                "INSERT INTO jwtkit_users (username, password_hash, roles, disabled, created_at,"
                " name, email, email_verified) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    row.username,
                    row.password_hash,
                    json.dumps(list(row.roles)),
                    int(row.disabled),
                    row.created_at,
                    row.name,
                    row.email,
                    int(row.email_verified),
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
        """Replace a user's password hash (a rehash: sessions stay); False without the user."""
        return self._update("jwtkit_users", "username", username, {"password_hash": password_hash})

    def change_password(
        self, username: str, password_hash: str, *, now: float, keep_family: str | None
    ) -> int | None:
        """Set a new password and end the user's other sessions; None without the user.

        Every refresh family of the user except ``keep_family`` is revoked. Without a family
        to keep (an administrator's change), every token issued to the user before ``now`` is
        cut off too. Returns the number of families revoked.
        """

        def run(tx: Tx) -> int | None:
            if not _exists(tx, "jwtkit_users", "username", username):
                return None
            values: dict[str, Any] = {"password_hash": password_hash}
            if keep_family is None:
                values["revoked_at"] = now
            _set(tx, "jwtkit_users", "username", username, values)
            return revoke_families(
                tx, "username", username, now=now, reason="password changed", keep=keep_family
            )

        return self.db.write(run)

    def log_out(self, username: str, *, now: float) -> int | None:
        """Revoke every session of a user and cut off its tokens; None without the user."""

        def run(tx: Tx) -> int | None:
            if not _exists(tx, "jwtkit_users", "username", username):
                return None
            _set(tx, "jwtkit_users", "username", username, {"revoked_at": now})
            return revoke_families(tx, "username", username, now=now, reason="logout")

        return self.db.write(run)

    def set_user_disabled(self, username: str, disabled: bool, *, now: float) -> bool:
        """Disable (revoking every session) or enable a user; False without the user.

        Both cut off the tokens issued before ``now``: re-enabling never brings back a token
        that was dead while the user was disabled.
        """
        return self._set_disabled("jwtkit_users", "username", username, disabled, now)

    def update_user(self, username: str, values: dict[str, str | bool | None]) -> bool:
        """Set profile columns (``name``, ``email``, ``email_verified``); False when there is
        no such user."""
        unknown = set(values) - _PROFILE
        if unknown:
            raise ValueError(f"not a profile column: {sorted(unknown)[0]}")
        stored = {k: int(v) if isinstance(v, bool) else v for k, v in values.items()}
        return self._update("jwtkit_users", "username", username, stored)

    # Clients.

    def insert_client(self, row: ClientRow) -> bool:
        """Insert a client; False (nothing written) when the id is taken."""

        def run(tx: Tx) -> bool:
            if tx.one("SELECT 1 FROM jwtkit_clients WHERE client_id = ?", (row.client_id,)):
                return False
            tx.execute(
                "INSERT INTO jwtkit_clients (client_id, secret_hash, scopes, grants, disabled,"
                " created_at, resource_server, origins, redirect_uris, first_party,"
                " id_token_alg, post_logout_redirect_uris)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    row.client_id,
                    row.secret_hash,
                    json.dumps(list(row.scopes)),
                    json.dumps(list(row.grants)),
                    int(row.disabled),
                    row.created_at,
                    int(row.resource_server),
                    json.dumps(list(row.origins)),
                    json.dumps(list(row.redirect_uris)),
                    int(row.first_party),
                    row.id_token_alg,
                    json.dumps(list(row.post_logout_redirect_uris)),
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

    def origin_registered(self, origin: str) -> bool:
        """Say whether an enabled client registered the browser ``origin`` (normalized).

        The JSON lists are searched with LIKE for the quoted origin, then parsed, so a
        near-miss never matches (CORS, issue 14).
        """
        escaped = origin.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        rows = self.db.read(
            lambda tx: tx.execute(
                "SELECT origins FROM jwtkit_clients WHERE disabled = 0"
                " AND origins LIKE ? ESCAPE '\\'",
                (f'%"{escaped}"%',),
            )
        )
        return any(origin in json.loads(r[0]) for r in rows)

    def set_client_disabled(self, client_id: str, disabled: bool, *, now: float) -> bool:
        """Disable (revoking its families) or enable a client; False without the client."""
        return self._set_disabled("jwtkit_clients", "client_id", client_id, disabled, now)

    def update_client(
        self,
        client_id: str,
        *,
        scopes: tuple[str, ...] | None = None,
        grants: tuple[str, ...] | None = None,
        resource_server: bool | None = None,
        origins: tuple[str, ...] | None = None,
        redirect_uris: tuple[str, ...] | None = None,
        first_party: bool | None = None,
        id_token_alg: str | None = None,
        post_logout_redirect_uris: tuple[str, ...] | None = None,
    ) -> bool:
        """Change what a client may do (None leaves a field, ``id_token_alg`` "" clears it);
        False without the client."""
        values: dict[str, Any] = {}
        if post_logout_redirect_uris is not None:
            values["post_logout_redirect_uris"] = json.dumps(list(post_logout_redirect_uris))
        if origins is not None:
            values["origins"] = json.dumps(list(origins))
        if redirect_uris is not None:
            values["redirect_uris"] = json.dumps(list(redirect_uris))
        if first_party is not None:
            values["first_party"] = int(first_party)
        if id_token_alg is not None:
            values["id_token_alg"] = id_token_alg or None
        if scopes is not None:
            values["scopes"] = json.dumps(list(scopes))
        if grants is not None:
            values["grants"] = json.dumps(list(grants))
        if resource_server is not None:
            values["resource_server"] = int(resource_server)
        return self._update("jwtkit_clients", "client_id", client_id, values)

    def rotate_secret(self, client_id: str, secret_hash: str, *, old_until: float) -> bool:
        """Store a new secret hash; the current one stays valid until ``old_until``.

        False when there is no such client or it is public (it has no secret to rotate).
        """

        def run(tx: Tx) -> bool:
            row = tx.one(
                "SELECT secret_hash FROM jwtkit_clients WHERE client_id = ?"  # noqa: S608
                + tx.for_update,
                (client_id,),
            )
            if row is None or row[0] is None:
                return False
            values = {"secret_hash": secret_hash, "old_secret_hash": row[0]}
            _set(
                tx,
                "jwtkit_clients",
                "client_id",
                client_id,
                {**values, "old_secret_until": old_until},
            )
            return True

        return self.db.write(run)

    # Shared.

    def _set_disabled(self, table: str, key: str, name: str, disabled: bool, now: float) -> bool:
        def run(tx: Tx) -> bool:
            if not _exists(tx, table, key, name):
                return False
            _set(tx, table, key, name, {"disabled": int(disabled), "revoked_at": now})
            if disabled:
                reason = "user disabled" if table == "jwtkit_users" else "client disabled"
                revoke_families(tx, key, name, now=now, reason=reason)
            return True

        return self.db.write(run)

    def _update(self, table: str, key: str, name: str, values: dict[str, Any]) -> bool:
        def run(tx: Tx) -> bool:
            if not _exists(tx, table, key, name):
                return False
            if values:
                _set(tx, table, key, name, values)
            return True

        return self.db.write(run)


def _exists(tx: Tx, table: str, key: str, name: str) -> bool:
    return tx.one(f"SELECT 1 FROM {table} WHERE {key} = ?", (name,)) is not None  # noqa: S608


def _set(tx: Tx, table: str, key: str, name: str, values: dict[str, Any]) -> None:
    """Update the named columns (fixed names chosen by this module, never user input)."""
    columns = ", ".join(f"{column} = ?" for column in values)
    tx.execute(
        f"UPDATE {table} SET {columns} WHERE {key} = ?",  # noqa: S608
        (*values.values(), name),
    )
