"""Users and OAuth clients of the token service, with Argon2id-hashed passwords and secrets.

The management API (``Accounts``) is what ``jwtkit user add`` and ``jwtkit client add`` call;
the token endpoint uses the ``authenticate_*`` methods. Verification costs the same whether or
not the account exists, so response timing does not reveal which names exist.

Past 400 lines on purpose: ``Accounts`` is one public class,
the whole management API that the CLI's user, client and consent commands call, plus the
secret checks behind it, all over the same rows, cache and secret checker; its methods are
short. The parts with their own concern live elsewhere: value types and validation rules in
``_records``, hashing in ``_passwords``, the cache in ``_rowcache``.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterable

from argon2 import PasswordHasher

from jwtkit._storage import (
    DEFAULT_TIMEOUT,
    AccountRows,
    ClientRow,
    ConsentRows,
    Database,
    UserRow,
)
from jwtkit.server._origins import check_origins
from jwtkit.server._passwords import SecretChecker, make_password_hasher
from jwtkit.server._records import (
    AccountError,
    AccountExistsError,
    AccountNotFoundError,
    ClientInfo,
    ConsentInfo,
    InvalidAccountError,
    UserInfo,
    check_email,
    check_grants,
    check_id_token_alg,
    check_name,
    check_profile_name,
    check_redirect_uris,
    check_secret,
    check_words,
    client_info,
    consent_info,
    user_info,
)
from jwtkit.server._rowcache import RowCache

__all__ = [
    "AccountError",
    "AccountExistsError",
    "AccountNotFoundError",
    "Accounts",
    "ClientInfo",
    "InvalidAccountError",
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
        self,
        db: Database,
        *,
        hasher: PasswordHasher | None = None,
        owns_db: bool = False,
        clock: Callable[[], float] = time.time,
        client_cache_ttl: float = 0.0,
    ) -> None:
        self._db = db
        # Issue 18: the token endpoint reads a client's record on every request; reusing it
        # for client_cache_ttl seconds saves that round trip. This process's own edits drop
        # the entry at once; another process's (``jwtkit client disable``) show within ttl.
        self._clients: RowCache[tuple[ClientRow, ClientInfo]] = RowCache(client_cache_ttl)
        self._rows = AccountRows(db)
        self._consents = ConsentRows(db)
        self._secrets = SecretChecker(hasher if hasher is not None else make_password_hasher())
        self._owns_db = owns_db
        self._clock = clock

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

    def add_user(
        self,
        username: str,
        password: str,
        roles: Iterable[str] = (),
        *,
        name: str | None = None,
        email: str | None = None,
        email_verified: bool = False,
    ) -> UserInfo:
        """Create a user with an Argon2id password hash, the given roles and profile.

        ``name``, ``email`` and ``email_verified`` are the OpenID Connect claims of the
        ``profile`` and ``email`` scopes.

        Raises:
            AccountError: ``account_exists``, or ``invalid_account`` for a bad name, empty
                password, bad role, name or email.
        """
        username = check_name(username, "username")
        password = check_secret(password, "the password")
        role_list = check_words(roles, "role")
        name = None if name is None else check_profile_name(name)
        email = None if email is None else check_email(email)
        row = UserRow(
            username, tuple(role_list), False, self._clock(), self._secrets.hash(password),
            name, email, email_verified=bool(email_verified),
        )  # fmt: skip
        if not self._rows.insert_user(row):
            raise AccountExistsError(f"user {username!r} already exists")
        return user_info(row)

    def set_password(self, username: str, password: str, *, keep_session: str | None = None) -> int:
        """Replace a user's password and end the user's other sessions.

        Every session (refresh family) except ``keep_session`` (the family id of the session
        that changed its own password) is revoked, with the access tokens issued under it.
        Without ``keep_session`` every token issued to the user so far is cut off. Returns
        the number of sessions revoked.

        Raises:
            AccountError: ``account_not_found`` or ``invalid_account``.
        """
        password_hash = self._secrets.hash(check_secret(password, "the password"))
        revoked = self._rows.change_password(
            username, password_hash, now=self._clock(), keep_family=keep_session
        )
        _found(revoked is not None, "user", username)
        return revoked or 0

    def update_user(
        self,
        username: str,
        *,
        name: str | None = None,
        email: str | None = None,
        email_verified: bool | None = None,
    ) -> UserInfo:
        """Change a user's profile: None leaves a field, "" clears it.

        A new email address is unverified unless ``email_verified`` says otherwise.

        Raises:
            AccountError: ``account_not_found`` or ``invalid_account``.
        """
        values: dict[str, str | bool | None] = {}
        if name is not None:
            values["name"] = check_profile_name(name) if name else None
        if email is not None:
            values["email"] = check_email(email) if email else None
            values["email_verified"] = False
        if email_verified is not None:
            values["email_verified"] = bool(email_verified)
        _found(self._rows.update_user(username, values), "user", username)
        info = self.get_user(username)
        _found(info is not None, "user", username)
        assert info is not None  # noqa: S101 - narrowed by _found
        return info

    def log_out_user(self, username: str) -> int:
        """End every session of a user: revoke its refresh families and access tokens.

        Returns the number of sessions (families) revoked.

        Raises:
            AccountError: ``account_not_found``.
        """
        revoked = self._rows.log_out(username, now=self._clock())
        _found(revoked is not None, "user", username)
        return revoked or 0

    def list_consents(self, username: str) -> list[ConsentInfo]:
        """Return what the user allowed which clients (the consent page's remembered choices).

        Raises:
            AccountError: ``account_not_found``.
        """
        _found(self._rows.user(username) is not None, "user", username)
        return [consent_info(r) for r in self._consents.of_user(username)]

    def revoke_consent(self, username: str, client_id: str | None = None) -> tuple[int, int]:
        """Withdraw the user's consent to ``client_id`` (None: every client): the next login
        through that client asks again, and the client's sessions of the user end now.

        Returns (consents withdrawn, sessions revoked).

        Raises:
            AccountError: ``account_not_found`` for an unknown user, or a client the user
                gave no consent to.
        """
        _found(self._rows.user(username) is not None, "user", username)
        counts = self._consents.revoke(username, client_id, now=self._clock())
        if client_id is not None and counts[0] == 0:
            raise AccountNotFoundError(f"user {username!r} gave no consent to client {client_id!r}")
        return counts

    def list_users(self) -> list[UserInfo]:
        """Return every user, sorted by name."""
        return [user_info(r) for r in self._rows.users()]

    def disable_user(self, username: str) -> None:
        """Disable a user: no new logins, every session revoked, every token inactive.

        Raises:
            AccountError: ``account_not_found``.
        """
        found = self._rows.set_user_disabled(username, True, now=self._clock())
        _found(found, "user", username)

    def enable_user(self, username: str) -> None:
        """Re-enable a disabled user; tokens from before stay revoked (the user logs in anew).

        Raises:
            AccountError: ``account_not_found``.
        """
        found = self._rows.set_user_disabled(username, False, now=self._clock())
        _found(found, "user", username)

    # Clients.

    def add_client(
        self,
        client_id: str,
        secret: str | None = None,
        scopes: Iterable[str] = (),
        grants: Iterable[str] = (),
        *,
        public: bool = False,
        resource_server: bool = False,
        origins: Iterable[str] = (),
        redirect_uris: Iterable[str] = (),
        first_party: bool = False,
        id_token_alg: str | None = None,
        post_logout_redirect_uris: Iterable[str] = (),
    ) -> str:
        """Register a client and return its secret (generated when ``secret`` is None).

        ``grants`` are the grant types the client may use; empty means the default,
        ``authorization_code`` and ``refresh_token`` (``password`` is legacy, opt-in, for
        first-party apps only: RFC 9700 §2.4). ``public=True`` registers a client without a
        secret (a browser or native app); it may not use ``client_credentials``, and "" is
        returned. ``resource_server=True`` lets a confidential client introspect every token
        and read the revocation list. ``origins`` are the browser origins
        (``https://app.example``) that may set and use the client's refresh cookie; without
        any, cookie mode is refused. ``redirect_uris`` are matched exactly at ``/authorize``;
        ``first_party`` marks an application of the deployment itself; ``id_token_alg`` is
        the client's ``id_token_signed_response_alg`` (None: RS256);
        ``post_logout_redirect_uris`` are where logout may send the browser (exact match).

        Raises:
            AccountError: ``account_exists`` or ``invalid_account``.
        """
        client_id = check_name(client_id, "client_id")
        origin_list = _origins(origins)
        scope_list = check_words(scopes, "scope")
        grant_list = check_grants(grants, public=public)
        if public:
            if secret is not None:
                raise InvalidAccountError("a public client has no secret")
            if resource_server:
                raise InvalidAccountError(
                    "a resource server must authenticate: it cannot be public"
                )
            secret_hash: str | None = None
            result = ""
        else:
            secret, secret_hash = self._new_secret(secret)
            result = secret
        # Checked in this order, so that the first bad value is the one reported.
        uris = check_redirect_uris(redirect_uris)
        alg = check_id_token_alg(id_token_alg or "") or None
        row = ClientRow(
            client_id, secret_hash, tuple(scope_list), tuple(grant_list), False, self._clock(),
            resource_server, origins=origin_list, redirect_uris=uris,
            first_party=bool(first_party), id_token_alg=alg,
            post_logout_redirect_uris=check_redirect_uris(post_logout_redirect_uris),
        )  # fmt: skip
        if not self._rows.insert_client(row):
            raise AccountExistsError(f"client {client_id!r} already exists")
        return result

    def update_client(
        self,
        client_id: str,
        *,
        scopes: Iterable[str] | None = None,
        grants: Iterable[str] | None = None,
        resource_server: bool | None = None,
        origins: Iterable[str] | None = None,
        redirect_uris: Iterable[str] | None = None,
        first_party: bool | None = None,
        id_token_alg: str | None = None,
        post_logout_redirect_uris: Iterable[str] | None = None,
    ) -> ClientInfo:
        """Change what a client may do; None leaves a field as it is.

        ``scopes``, ``grants``, ``origins``, ``redirect_uris`` and
        ``post_logout_redirect_uris`` replace the lists (empty
        grants: the default, ``authorization_code`` and ``refresh_token``). Narrowed scopes
        apply to the next refresh of existing sessions too; changed origins to the next
        request that sets or uses the refresh cookie. ``id_token_alg`` "" goes back to the
        default (RS256).

        Raises:
            AccountError: ``account_not_found`` or ``invalid_account``.
        """
        current = self.get_client(client_id)
        _found(current is not None, "client", client_id)
        assert current is not None  # noqa: S101 - narrowed by _found
        scope_list = None if scopes is None else tuple(check_words(scopes, "scope"))
        grant_list = None if grants is None else tuple(check_grants(grants, public=current.public))
        origin_list = None if origins is None else _origins(origins)
        uri_list = None if redirect_uris is None else check_redirect_uris(redirect_uris)
        logout_uris = (
            None
            if post_logout_redirect_uris is None
            else check_redirect_uris(post_logout_redirect_uris)
        )
        alg = None if id_token_alg is None else check_id_token_alg(id_token_alg)
        if resource_server and current.public:
            raise InvalidAccountError(
                "a resource server must authenticate: a public client cannot be one"
            )
        self._clients.drop(client_id)
        found = self._rows.update_client(
            client_id,
            scopes=scope_list,
            grants=grant_list,
            resource_server=resource_server,
            origins=origin_list,
            redirect_uris=uri_list,
            first_party=first_party,
            id_token_alg=alg,
            post_logout_redirect_uris=logout_uris,
        )
        _found(found, "client", client_id)
        info = self.get_client(client_id)
        assert info is not None  # noqa: S101 - it was just updated
        return info

    def rotate_client_secret(
        self, client_id: str, secret: str | None = None, *, overlap: float = 86400
    ) -> str:
        """Give a confidential client a new secret and return it (generated unless given).

        The old secret keeps working for ``overlap`` seconds (0: it stops at once), so the
        client can be redeployed with the new one without downtime. Tokens are not revoked.

        Raises:
            AccountError: ``account_not_found``, or ``invalid_account`` for a public client,
                a bad secret or a negative overlap.
        """
        if isinstance(overlap, bool) or not isinstance(overlap, int | float) or not overlap >= 0:
            raise InvalidAccountError("the overlap must be a number of seconds >= 0")
        current = self.get_client(client_id)
        _found(current is not None, "client", client_id)
        assert current is not None  # noqa: S101 - narrowed by _found
        if current.public:
            raise InvalidAccountError(f"client {client_id!r} is public: it has no secret")
        secret, secret_hash = self._new_secret(secret)
        self._clients.drop(client_id)
        rotated = self._rows.rotate_secret(
            client_id, secret_hash, old_until=self._clock() + float(overlap)
        )
        _found(rotated, "client", client_id)
        return secret

    def _new_secret(self, secret: str | None) -> tuple[str, str]:
        if secret is None:
            secret = secrets.token_urlsafe(32)
        secret = check_secret(secret, "a client secret", minimum=16)
        return secret, self._secrets.hash(secret)

    def list_clients(self) -> list[ClientInfo]:
        """Return every client, sorted by id."""
        return [client_info(r) for r in self._rows.clients()]

    def origin_registered(self, origin: str) -> bool:
        """Say whether an enabled client registered the browser ``origin`` (normalized,
        ``https://app.example``): the origins CORS allows."""
        return self._rows.origin_registered(origin)

    def disable_client(self, client_id: str) -> None:
        """Disable a client: it can no longer authenticate, its sessions are revoked, and
        every token issued to it is inactive.

        Raises:
            AccountError: ``account_not_found``.
        """
        self._clients.drop(client_id)
        found = self._rows.set_client_disabled(client_id, True, now=self._clock())
        _found(found, "client", client_id)

    def enable_client(self, client_id: str) -> None:
        """Re-enable a disabled client; tokens issued before stay revoked.

        Raises:
            AccountError: ``account_not_found``.
        """
        self._clients.drop(client_id)
        found = self._rows.set_client_disabled(client_id, False, now=self._clock())
        _found(found, "client", client_id)

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
        row = self._client_row(client_id)
        return None if row is None else client_info(row)

    def authenticate_client(
        self,
        client_id: str,
        secret: str | None,
        *,
        before_check: Callable[[], None] | None = None,
    ) -> ClientInfo | None:
        """Return the enabled client if the credentials fit its type, else None.

        A confidential client needs its secret (or, during a rotation's overlap, the previous
        one); a public client must present none. A secret verified before against the same
        stored hash is answered from memory, without hashing; otherwise ``before_check`` runs
        first (the service's rate limit: it may raise to refuse), then the verification at
        the current cost, whether the client is unknown, public, disabled or not.
        """
        row = self._client_row(client_id)
        if secret is None:
            if row is None or row.disabled or row.secret_hash is not None:
                return None
            return client_info(row)
        hashes = self._accepted_hashes(row)
        if row is not None and not row.disabled:
            for hashed in hashes:
                if self._secrets.remembered(client_id, hashed, secret):
                    return client_info(row)
        if before_check is not None:
            before_check()
        # Unknown, public and disabled clients cost the same verification as a wrong secret
        # (issue 10: they answered in 1.5 ms, unknown ids in 82 ms).
        match = None
        if not hashes:
            self._secrets.verify(None, secret)
        for hashed in hashes:
            if self._secrets.verify(hashed, secret):
                match = hashed
                break
        if row is None or row.disabled or match is None:
            self._secrets.forget(client_id, secret)
            return None
        self._secrets.remember(client_id, match, secret)
        return client_info(row)

    def remembered_client(self, client_id: str, secret: str) -> ClientInfo | None:
        """Return the client if its record is cached and ``secret`` was verified before
        against its current hash; else None. Memory only: no store access, no hashing, so an
        event loop may call it (the other outcomes go the full way, authenticate_client)."""
        cached = self._clients.get(client_id)
        if cached is None or cached[0].disabled:
            return None
        row, info = cached
        for hashed in self._accepted_hashes(row):
            if self._secrets.remembered(client_id, hashed, secret):
                return info
        return None

    def _client_row(self, client_id: str) -> ClientRow | None:
        """Return the client's record, from the cache while it is fresh (issue 18)."""
        cached = self._clients.get(client_id)
        if cached is not None:
            return cached[0]
        read_at = self._clients.now()
        row = self._rows.client(client_id)
        if row is not None:
            self._clients.put(client_id, (row, client_info(row)), read_at=read_at)
        return row

    def maybe_remembered(self, client_id: str, secret: str) -> bool:
        """Say, from memory only, whether this client secret was verified recently.

        The service uses it to run requests that will not hash apart from those that may.
        """
        return self._secrets.maybe_remembered(client_id, secret)

    def _accepted_hashes(self, row: ClientRow | None) -> list[str]:
        """Return the secret hashes a client may present now: its secret, and during a
        rotation's overlap the previous one."""
        if row is None or row.secret_hash is None:
            return []
        hashes = [row.secret_hash]
        old, until = row.old_secret_hash, row.old_secret_until
        if old is not None and until is not None and self._clock() < until:
            hashes.append(old)
        return hashes


def _origins(origins: Iterable[str]) -> tuple[str, ...]:
    try:
        return check_origins(origins)
    except ValueError as exc:
        raise InvalidAccountError(str(exc)) from None


def _found(found: bool, kind: str, name: str) -> None:
    if not found:
        raise AccountNotFoundError(f"no {kind} named {name!r}")
