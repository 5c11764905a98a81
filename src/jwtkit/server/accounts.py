"""Users and OAuth clients of the token service, with Argon2id-hashed passwords and secrets.

The management API (``Accounts``) is what ``jwtkit user add`` and ``jwtkit client add`` call;
the token endpoint uses the ``authenticate_*`` methods. Verification costs the same whether or
not the account exists, so response timing does not reveal which names exist.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterable
from typing import Any

from argon2 import PasswordHasher

from jwtkit.server.passwords import SecretChecker, make_password_hasher
from jwtkit.server.records import (
    GRANT_TYPES,
    PUBLIC_GRANTS,
    AccountError,
    ClientInfo,
    UserInfo,
    check_name,
    check_secret,
    check_words,
    client_from_row,
    from_timestamp,
    user_from_row,
)
from jwtkit.server.store import Database, Transaction

__all__ = [
    "GRANT_TYPES",
    "AccountError",
    "Accounts",
    "ClientInfo",
    "UserInfo",
    "make_password_hasher",
]

_USER_COLUMNS = "username, roles, disabled, created_at"
_CLIENT_COLUMNS = "client_id, secret_hash, scopes, grants, disabled, created_at"


class Accounts:
    """Users and clients stored in the service tables of one store.

    Example::

        accounts = Accounts.open("sqlite:///jwtkit.db")
        accounts.add_user("alice", "correct horse", roles=("admin",))
        secret = accounts.add_client("web", scopes=("read",), grants=("password",))
        accounts.close()
    """

    def __init__(
        self, db: Database, *, hasher: PasswordHasher | None = None, owns_db: bool = False
    ) -> None:
        self._db = db
        self._secrets = SecretChecker(hasher if hasher is not None else make_password_hasher())
        self._owns_db = owns_db

    @classmethod
    def open(cls, store_url: str, *, hasher: PasswordHasher | None = None) -> Accounts:
        """Open the accounts of the store at ``store_url`` (creating the tables if needed).

        Raises:
            KeyStoreError: the store cannot be opened or was written by a newer jwtkit.
        """
        return cls(Database(store_url), hasher=hasher, owns_db=True)

    def close(self) -> None:
        """Release the store connections (only when this object opened them)."""
        if self._owns_db:
            self._db.close()

    def __enter__(self) -> Accounts:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # Users.

    def add_user(self, username: str, password: str, roles: Iterable[str] = ()) -> UserInfo:
        """Create a user with an Argon2id password hash and the given roles.

        Raises:
            AccountError: ``account_exists``, or ``invalid_account`` for a bad name, empty
                password or bad role.
        """
        username = check_name(username, "username")
        password = check_secret(password, "the password")
        role_list = check_words(roles, "role")
        password_hash = self._secrets.hash(password)
        now = time.time()
        with self._db.transaction(write=True) as tx:
            if tx.one("SELECT 1 FROM jwtkit_users WHERE username = ?", (username,)):
                raise AccountError(f"user {username!r} already exists", code="account_exists")
            tx.execute(
                "INSERT INTO jwtkit_users (username, password_hash, roles, disabled, created_at)"
                " VALUES (?, ?, ?, 0, ?)",
                (username, password_hash, json.dumps(role_list), now),
            )
        return UserInfo(username, tuple(role_list), False, from_timestamp(now))

    def set_password(self, username: str, password: str) -> None:
        """Replace a user's password.

        Raises:
            AccountError: ``account_not_found`` or ``invalid_account``.
        """
        password_hash = self._secrets.hash(check_secret(password, "the password"))
        with self._db.transaction(write=True) as tx:
            _require(tx, "jwtkit_users", "username", username)
            tx.execute(
                "UPDATE jwtkit_users SET password_hash = ? WHERE username = ?",
                (password_hash, username),
            )

    def list_users(self) -> list[UserInfo]:
        """Return every user, sorted by name."""
        with self._db.transaction() as tx:
            rows = tx.execute(f"SELECT {_USER_COLUMNS} FROM jwtkit_users ORDER BY username")  # noqa: S608
        return [user_from_row(r) for r in rows]

    def disable_user(self, username: str) -> None:
        """Disable a user: no new logins, and their refresh tokens stop working.

        Raises:
            AccountError: ``account_not_found``.
        """
        self._set_disabled("jwtkit_users", "username", username, True)

    def enable_user(self, username: str) -> None:
        """Re-enable a disabled user.

        Raises:
            AccountError: ``account_not_found``.
        """
        self._set_disabled("jwtkit_users", "username", username, False)

    # Clients.

    def add_client(
        self,
        client_id: str,
        secret: str | None = None,
        scopes: Iterable[str] = (),
        grants: Iterable[str] = (),
        *,
        public: bool = False,
    ) -> str:
        """Register a client and return its secret (generated when ``secret`` is None).

        ``grants`` limits the grant types the client may use; empty means every grant the
        client type allows. ``public=True`` registers a client without a secret (a browser or
        native app); it may use only the password and refresh_token grants, and "" is returned.

        Raises:
            AccountError: ``account_exists`` or ``invalid_account``.
        """
        client_id = check_name(client_id, "client_id")
        scope_list = check_words(scopes, "scope")
        grant_list = check_words(grants, "grant")
        unknown = [g for g in grant_list if g not in GRANT_TYPES]
        if unknown:
            raise AccountError(
                f"unknown grant type {unknown[0]!r} (known: {', '.join(GRANT_TYPES)})",
                code="invalid_account",
            )
        if public:
            if secret is not None:
                raise AccountError("a public client has no secret", code="invalid_account")
            if not set(grant_list) <= PUBLIC_GRANTS:
                raise AccountError(
                    "a public client may use only the password and refresh_token grants",
                    code="invalid_account",
                )
            secret_hash: str | None = None
            result = ""
        else:
            if secret is None:
                secret = secrets.token_urlsafe(32)
            secret = check_secret(secret, "a client secret", minimum=16)
            secret_hash = self._secrets.hash(secret)
            result = secret
        now = time.time()
        with self._db.transaction(write=True) as tx:
            if tx.one("SELECT 1 FROM jwtkit_clients WHERE client_id = ?", (client_id,)):
                raise AccountError(f"client {client_id!r} already exists", code="account_exists")
            tx.execute(
                "INSERT INTO jwtkit_clients"
                " (client_id, secret_hash, scopes, grants, disabled, created_at)"
                " VALUES (?, ?, ?, ?, 0, ?)",
                (client_id, secret_hash, json.dumps(scope_list), json.dumps(grant_list), now),
            )
        return result

    def list_clients(self) -> list[ClientInfo]:
        """Return every client, sorted by id."""
        with self._db.transaction() as tx:
            rows = tx.execute(
                f"SELECT {_CLIENT_COLUMNS} FROM jwtkit_clients ORDER BY client_id"  # noqa: S608
            )
        return [client_from_row(r) for r in rows]

    def disable_client(self, client_id: str) -> None:
        """Disable a client: it can no longer authenticate or refresh.

        Raises:
            AccountError: ``account_not_found``.
        """
        self._set_disabled("jwtkit_clients", "client_id", client_id, True)

    def enable_client(self, client_id: str) -> None:
        """Re-enable a disabled client.

        Raises:
            AccountError: ``account_not_found``.
        """
        self._set_disabled("jwtkit_clients", "client_id", client_id, False)

    # Authentication (used by the token endpoint).

    def authenticate_user(self, username: str, password: str) -> UserInfo | None:
        """Return the user if the password matches and the user is enabled, else None.

        Rehashes the password when the configured Argon2 costs changed since it was hashed.
        """
        with self._db.transaction() as tx:
            row = tx.one(
                f"SELECT {_USER_COLUMNS}, password_hash FROM jwtkit_users"  # noqa: S608
                " WHERE username = ?",
                (username,),
            )
        # Verify even for a missing or disabled user: the same work whatever the answer.
        verified = self._secrets.verify(None if row is None else row[4], password)
        if row is None or not verified or row[2]:
            return None
        if self._secrets.needs_rehash(row[4]):
            new_hash = self._secrets.hash(password)
            with self._db.transaction(write=True) as tx:
                tx.execute(
                    "UPDATE jwtkit_users SET password_hash = ? WHERE username = ?",
                    (new_hash, username),
                )
        return user_from_row(row)

    def get_user(self, username: str) -> UserInfo | None:
        """Return the user by name, or None if there is none."""
        with self._db.transaction() as tx:
            row = tx.one(
                f"SELECT {_USER_COLUMNS} FROM jwtkit_users WHERE username = ?",  # noqa: S608
                (username,),
            )
        return None if row is None else user_from_row(row)

    def get_client(self, client_id: str) -> ClientInfo | None:
        """Return the client by id, or None if there is none."""
        row = self._client_row(client_id)
        return None if row is None else client_from_row(row)

    def authenticate_client(self, client_id: str, secret: str | None) -> ClientInfo | None:
        """Return the enabled client if the credentials fit its type, else None.

        A confidential client needs its secret; a public client must present none.
        """
        row = self._client_row(client_id)
        if row is None:
            if secret is not None:
                self._secrets.verify(None, secret)
            return None
        info = client_from_row(row)
        if info.disabled or (secret is None) != info.public:
            return None
        if secret is None:
            return info
        return info if self._secrets.verify_remembered(client_id, row[1], secret) else None

    def _client_row(self, client_id: str) -> tuple[Any, ...] | None:
        with self._db.transaction() as tx:
            return tx.one(
                f"SELECT {_CLIENT_COLUMNS} FROM jwtkit_clients WHERE client_id = ?",  # noqa: S608
                (client_id,),
            )

    def _set_disabled(self, table: str, column: str, name: str, disabled: bool) -> None:
        with self._db.transaction(write=True) as tx:
            _require(tx, table, column, name)
            tx.execute(
                f"UPDATE {table} SET disabled = ? WHERE {column} = ?",  # noqa: S608 - fixed names
                (int(disabled), name),
            )


def _require(tx: Transaction, table: str, column: str, name: str) -> None:
    row = tx.one(f"SELECT 1 FROM {table} WHERE {column} = ?", (name,))  # noqa: S608 - fixed names
    if row is None:
        kind = "user" if table == "jwtkit_users" else "client"
        raise AccountError(f"no {kind} named {name!r}", code="account_not_found")
