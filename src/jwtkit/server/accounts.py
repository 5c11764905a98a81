"""Users and OAuth clients of the token service, with Argon2id-hashed passwords and secrets.

The management API (``Accounts``) is what ``jwtkit user add`` and ``jwtkit client add`` call;
the token endpoint uses the ``authenticate_*`` methods. Verification costs the same whether or
not the account exists, so response timing does not reveal which names exist.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterable

from argon2 import PasswordHasher

from jwtkit._storage import DEFAULT_TIMEOUT, AccountRows, ClientRow, Database, UserRow
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
    client_info,
    user_info,
)

__all__ = [
    "GRANT_TYPES",
    "AccountError",
    "Accounts",
    "ClientInfo",
    "UserInfo",
    "make_password_hasher",
]


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
        self._rows = AccountRows(db)
        self._secrets = SecretChecker(hasher if hasher is not None else make_password_hasher())
        self._owns_db = owns_db

    @classmethod
    def open(
        cls,
        store_url: str,
        *,
        hasher: PasswordHasher | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> Accounts:
        """Open the accounts of the store at ``store_url`` (creating the tables if needed).

        ``timeout`` bounds each store call (``StoreUnavailableError`` past it).

        Raises:
            KeyStoreError: the store cannot be opened or was written by a newer jwtkit.
        """
        return cls(Database.open(store_url, timeout=timeout), hasher=hasher, owns_db=True)

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
        row = UserRow(username, tuple(role_list), False, time.time(), self._secrets.hash(password))
        if not self._rows.insert_user(row):
            raise AccountError(f"user {username!r} already exists", code="account_exists")
        return user_info(row)

    def set_password(self, username: str, password: str) -> None:
        """Replace a user's password.

        Raises:
            AccountError: ``account_not_found`` or ``invalid_account``.
        """
        password_hash = self._secrets.hash(check_secret(password, "the password"))
        _found(self._rows.set_password_hash(username, password_hash), "user", username)

    def list_users(self) -> list[UserInfo]:
        """Return every user, sorted by name."""
        return [user_info(r) for r in self._rows.users()]

    def disable_user(self, username: str) -> None:
        """Disable a user: no new logins, and their refresh tokens stop working.

        Raises:
            AccountError: ``account_not_found``.
        """
        _found(self._rows.set_user_disabled(username, True), "user", username)

    def enable_user(self, username: str) -> None:
        """Re-enable a disabled user.

        Raises:
            AccountError: ``account_not_found``.
        """
        _found(self._rows.set_user_disabled(username, False), "user", username)

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
        row = ClientRow(
            client_id, secret_hash, tuple(scope_list), tuple(grant_list), False, time.time()
        )
        if not self._rows.insert_client(row):
            raise AccountError(f"client {client_id!r} already exists", code="account_exists")
        return result

    def list_clients(self) -> list[ClientInfo]:
        """Return every client, sorted by id."""
        return [client_info(r) for r in self._rows.clients()]

    def disable_client(self, client_id: str) -> None:
        """Disable a client: it can no longer authenticate or refresh.

        Raises:
            AccountError: ``account_not_found``.
        """
        _found(self._rows.set_client_disabled(client_id, True), "client", client_id)

    def enable_client(self, client_id: str) -> None:
        """Re-enable a disabled client.

        Raises:
            AccountError: ``account_not_found``.
        """
        _found(self._rows.set_client_disabled(client_id, False), "client", client_id)

    # Authentication (used by the token endpoint).

    def authenticate_user(self, username: str, password: str) -> UserInfo | None:
        """Return the user if the password matches and the user is enabled, else None.

        Rehashes the password when the configured Argon2 costs changed since it was hashed.
        """
        row = self._rows.user(username)
        # Verify even for a missing or disabled user: the same work whatever the answer.
        verified = self._secrets.verify(None if row is None else row.password_hash, password)
        if row is None or not verified or row.disabled:
            return None
        if self._secrets.needs_rehash(row.password_hash):
            self._rows.set_password_hash(username, self._secrets.hash(password))
        return user_info(row)

    def get_user(self, username: str) -> UserInfo | None:
        """Return the user by name, or None if there is none."""
        row = self._rows.user(username)
        return None if row is None else user_info(row)

    def get_client(self, client_id: str) -> ClientInfo | None:
        """Return the client by id, or None if there is none."""
        row = self._rows.client(client_id)
        return None if row is None else client_info(row)

    def authenticate_client(self, client_id: str, secret: str | None) -> ClientInfo | None:
        """Return the enabled client if the credentials fit its type, else None.

        A confidential client needs its secret; a public client must present none.
        """
        row = self._rows.client(client_id)
        if row is None:
            if secret is not None:
                self._secrets.verify(None, secret)
            return None
        info = client_info(row)
        if info.disabled or (secret is None) != info.public:
            return None
        if secret is None:
            return info
        return (
            info
            if self._secrets.verify_remembered(client_id, row.secret_hash or "", secret)
            else None
        )


def _found(found: bool, kind: str, name: str) -> None:
    if not found:
        raise AccountError(f"no {kind} named {name!r}", code="account_not_found")
