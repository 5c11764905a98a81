"""Users and OAuth clients of the token service, with Argon2id-hashed passwords and secrets.

The management API (``Accounts``) is what ``jwtkit user add`` and ``jwtkit client add`` call;
the token endpoint uses the ``authenticate_*`` methods. Verification costs the same whether or
not the account exists (a dummy hash is verified for unknown names), so response timing does
not reveal which usernames or client ids exist.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import threading
import time
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from jwtkit.errors import JWTError
from jwtkit.server.store import Database, Transaction

__all__ = [
    "GRANT_TYPES",
    "AccountError",
    "Accounts",
    "ClientInfo",
    "UserInfo",
    "make_password_hasher",
]

GRANT_TYPES = ("password", "client_credentials", "refresh_token")
_PUBLIC_GRANTS = frozenset({"password", "refresh_token"})
_MAX_NAME = 256
_MAX_SECRET = 1024


class AccountError(JWTError, ValueError):
    """A user or client operation cannot be done; ``code`` says why.

    Codes: ``account_exists``, ``account_not_found``, ``invalid_account`` (bad name, role,
    scope, grant or password).
    """

    code = "account_error"

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class UserInfo:
    """A user as listed by :meth:`Accounts.list_users` (never the password hash)."""

    username: str
    roles: tuple[str, ...]
    disabled: bool
    created_at: datetime


@dataclass(frozen=True)
class ClientInfo:
    """A client as listed by :meth:`Accounts.list_clients` (never the secret or its hash).

    ``public`` clients have no secret and may use only the password and refresh grants.
    """

    client_id: str
    scopes: tuple[str, ...]
    grants: tuple[str, ...]
    public: bool
    disabled: bool
    created_at: datetime

    def allows_grant(self, grant_type: str) -> bool:
        """Say whether this client may use ``grant_type`` (empty ``grants`` = type default)."""
        if self.public and grant_type not in _PUBLIC_GRANTS:
            return False
        return grant_type in self.grants if self.grants else grant_type in GRANT_TYPES


def make_password_hasher(
    *, time_cost: int | None = None, memory_cost: int | None = None, parallelism: int | None = None
) -> PasswordHasher:
    """Return an Argon2id hasher; unset costs come from ``JWTKIT_ARGON2_*`` or RFC 9106 defaults.

    The environment fallback lets tests and the CLI lower the cost without code changes.
    """

    def pick(given: int | None, var: str, default: int) -> int:
        if given is not None:
            return given
        raw = os.environ.get(var, "")
        if raw.strip().isdigit():
            return int(raw)
        return default

    return PasswordHasher(
        time_cost=pick(time_cost, "JWTKIT_ARGON2_TIME_COST", 3),
        memory_cost=pick(memory_cost, "JWTKIT_ARGON2_MEMORY_COST", 65536),
        parallelism=pick(parallelism, "JWTKIT_ARGON2_PARALLELISM", 4),
    )


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
        self._hasher = hasher if hasher is not None else make_password_hasher()
        self._owns_db = owns_db
        self._dummy: str | None = None
        self._verified: set[bytes] = set()
        self._memo_lock = threading.Lock()

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
        username = _check_name(username, "username")
        if not isinstance(password, str) or not password or len(password) > _MAX_SECRET:
            raise AccountError("the password must be 1 to 1024 characters", code="invalid_account")
        role_list = _check_words(roles, "role")
        password_hash = self._hasher.hash(password)
        now = time.time()
        with self._db.transaction(write=True) as tx:
            if tx.one("SELECT 1 FROM jwtkit_users WHERE username = ?", (username,)):
                raise AccountError(f"user {username!r} already exists", code="account_exists")
            tx.execute(
                "INSERT INTO jwtkit_users (username, password_hash, roles, disabled, created_at)"
                " VALUES (?, ?, ?, 0, ?)",
                (username, password_hash, json.dumps(role_list), now),
            )
        return UserInfo(username, tuple(role_list), False, _dt(now))

    def set_password(self, username: str, password: str) -> None:
        """Replace a user's password.

        Raises:
            AccountError: ``account_not_found`` or ``invalid_account``.
        """
        if not isinstance(password, str) or not password or len(password) > _MAX_SECRET:
            raise AccountError("the password must be 1 to 1024 characters", code="invalid_account")
        password_hash = self._hasher.hash(password)
        with self._db.transaction(write=True) as tx:
            _require(tx, "jwtkit_users", "username", username)
            tx.execute(
                "UPDATE jwtkit_users SET password_hash = ? WHERE username = ?",
                (password_hash, username),
            )

    def list_users(self) -> list[UserInfo]:
        """Return every user, sorted by name."""
        with self._db.transaction() as tx:
            rows = tx.execute(
                "SELECT username, roles, disabled, created_at FROM jwtkit_users ORDER BY username"
            )
        return [UserInfo(r[0], tuple(json.loads(r[1])), bool(r[2]), _dt(r[3])) for r in rows]

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
        client_id = _check_name(client_id, "client_id")
        scope_list = _check_words(scopes, "scope")
        grant_list = _check_words(grants, "grant")
        unknown = [g for g in grant_list if g not in GRANT_TYPES]
        if unknown:
            raise AccountError(
                f"unknown grant type {unknown[0]!r} (known: {', '.join(GRANT_TYPES)})",
                code="invalid_account",
            )
        if public:
            if secret is not None:
                raise AccountError("a public client has no secret", code="invalid_account")
            if not set(grant_list) <= _PUBLIC_GRANTS:
                raise AccountError(
                    "a public client may use only the password and refresh_token grants",
                    code="invalid_account",
                )
            secret_hash: str | None = None
            result = ""
        else:
            if secret is None:
                secret = secrets.token_urlsafe(32)
            if not isinstance(secret, str) or len(secret) < 16 or len(secret) > _MAX_SECRET:
                raise AccountError(
                    "a client secret must be 16 to 1024 characters", code="invalid_account"
                )
            secret_hash = self._hasher.hash(secret)
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
                "SELECT client_id, secret_hash, scopes, grants, disabled, created_at"
                " FROM jwtkit_clients ORDER BY client_id"
            )
        return [_client_info(r) for r in rows]

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
                "SELECT username, roles, disabled, created_at, password_hash"
                " FROM jwtkit_users WHERE username = ?",
                (username,),
            )
        if row is None:
            self._verify(self._dummy_hash(), password)
            return None
        if not self._verify(row[4], password) or row[2]:
            return None
        if self._needs_rehash(row[4]):
            new_hash = self._hasher.hash(password)
            with self._db.transaction(write=True) as tx:
                tx.execute(
                    "UPDATE jwtkit_users SET password_hash = ? WHERE username = ?",
                    (new_hash, username),
                )
        return UserInfo(row[0], tuple(json.loads(row[1])), False, _dt(row[3]))

    def get_user(self, username: str) -> UserInfo | None:
        """Return the user by name, or None if there is none."""
        with self._db.transaction() as tx:
            row = tx.one(
                "SELECT username, roles, disabled, created_at FROM jwtkit_users WHERE username = ?",
                (username,),
            )
        if row is None:
            return None
        return UserInfo(row[0], tuple(json.loads(row[1])), bool(row[2]), _dt(row[3]))

    def get_client(self, client_id: str) -> ClientInfo | None:
        """Return the client by id, or None if there is none."""
        with self._db.transaction() as tx:
            row = tx.one(
                "SELECT client_id, secret_hash, scopes, grants, disabled, created_at"
                " FROM jwtkit_clients WHERE client_id = ?",
                (client_id,),
            )
        return None if row is None else _client_info(row)

    def authenticate_client(self, client_id: str, secret: str | None) -> ClientInfo | None:
        """Return the enabled client if the credentials fit its type, else None.

        A confidential client needs its secret; a public client must present none.
        """
        with self._db.transaction() as tx:
            row = tx.one(
                "SELECT client_id, secret_hash, scopes, grants, disabled, created_at"
                " FROM jwtkit_clients WHERE client_id = ?",
                (client_id,),
            )
        if row is None:
            if secret is not None:
                self._verify(self._dummy_hash(), secret)
            return None
        info = _client_info(row)
        if info.disabled:
            return None
        if row[1] is None:
            return info if secret is None else None
        if secret is None:
            return None
        # Client secrets are random and verified on every request: remember successful
        # verifications (keyed by a digest that includes the stored hash, so a new secret or
        # a changed hash is never served from here) instead of paying Argon2 each time.
        memo = hashlib.sha256(
            "\0".join((client_id, secret, row[1])).encode("utf-8", "surrogatepass")
        ).digest()
        if memo in self._verified:
            return info
        if not self._verify(row[1], secret):
            return None
        with self._memo_lock:
            if len(self._verified) >= 1024:
                self._verified.clear()
            self._verified.add(memo)
        return info

    def _dummy_hash(self) -> str:
        """Return a hash to verify against for unknown names (made on first use: it is slow)."""
        if self._dummy is None:
            self._dummy = self._hasher.hash(secrets.token_urlsafe(16))
        return self._dummy

    def _verify(self, hashed: str, secret: str) -> bool:
        try:
            return self._hasher.verify(hashed, secret)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def _needs_rehash(self, hashed: str) -> bool:
        try:
            return self._hasher.check_needs_rehash(hashed)
        except (InvalidHashError, ValueError):
            return False

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


def _check_name(name: object, what: str) -> str:
    """Accept a printable name of 1 to 256 characters without spaces or colons."""
    if not isinstance(name, str) or not 0 < len(name) <= _MAX_NAME:
        raise AccountError(f"{what} must be 1 to 256 characters", code="invalid_account")
    if any(unicodedata.category(c)[0] in "CZ" for c in name) or ":" in name:
        raise AccountError(
            f"{what} must not contain spaces, control characters or ':'", code="invalid_account"
        )
    return name


def _check_words(words: Iterable[str] | str, what: str) -> list[str]:
    """Validate roles/scopes/grants: RFC 6749 §3.3 scope-token characters, no duplicates."""
    if isinstance(words, str):
        raise AccountError(f"{what}s must be a list, not a string", code="invalid_account")
    out: list[str] = []
    for word in words:
        if (
            not isinstance(word, str)
            or not word
            or len(word) > _MAX_NAME
            or any(not (0x21 <= ord(c) <= 0x7E) or c in '"\\' for c in word)
        ):
            raise AccountError(f"invalid {what} {word!r}", code="invalid_account")
        if word not in out:
            out.append(word)
    return out


def _client_info(r: tuple[Any, ...]) -> ClientInfo:
    return ClientInfo(
        client_id=str(r[0]),
        scopes=tuple(json.loads(r[2])),
        grants=tuple(json.loads(r[3])),
        public=r[1] is None,
        disabled=bool(r[4]),
        created_at=_dt(r[5]),
    )


def _dt(ts: float) -> datetime:
    return datetime.fromtimestamp(float(ts), tz=UTC)
