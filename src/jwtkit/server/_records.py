"""Value types and validation rules of users and clients (no storage, no hashing)."""

from __future__ import annotations

import ipaddress
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from jwtkit._storage import ClientRow, ConsentRow, UserRow
from jwtkit.errors import JWTError
from jwtkit.jwa import ASYMMETRIC_ALGORITHMS

__all__ = [
    "DEFAULT_GRANTS",
    "GRANT_TYPES",
    "ID_TOKEN_ALGS",
    "PUBLIC_GRANTS",
    "AccountError",
    "AccountExistsError",
    "AccountNotFoundError",
    "ClientInfo",
    "ConsentInfo",
    "InvalidAccountError",
    "UserInfo",
    "check_email",
    "check_grants",
    "check_id_token_alg",
    "check_name",
    "check_profile_name",
    "check_redirect_uri",
    "check_redirect_uris",
    "check_secret",
    "check_words",
    "client_info",
    "consent_info",
    "from_timestamp",
    "user_info",
]

GRANT_TYPES = ("authorization_code", "refresh_token", "client_credentials", "password")
# New clients log users in through the browser (RFC 9700 §2.4: the password grant MUST NOT
# be used; it stays, opt-in, for first-party legacy apps).
DEFAULT_GRANTS = ("authorization_code", "refresh_token")
PUBLIC_GRANTS = frozenset({"authorization_code", "password", "refresh_token"})
# ID token algorithms: those whose at_hash OpenID Connect defines (RS256 first: the default).
ID_TOKEN_ALGS = tuple(
    sorted(
        (a for a in ASYMMETRIC_ALGORITHMS if a[:2] in ("RS", "PS", "ES") or a == "EdDSA"),
        key=lambda a: (a != "RS256", a),
    )
)
_MAX_NAME = 256
_MAX_SECRET = 1024


class AccountError(JWTError, ValueError):
    """A user, client or resource operation cannot be done; the subclass (and its stable
    ``code``) says why. Catch this class for all of them."""

    code = "account_error"


class AccountExistsError(AccountError):
    """The user, client or resource to add exists already."""

    code = "account_exists"


class AccountNotFoundError(AccountError):
    """No user, client or resource has that name."""

    code = "account_not_found"


class InvalidAccountError(AccountError):
    """A bad name, role, scope, grant, secret, URI or profile value."""

    code = "invalid_account"


@dataclass(frozen=True)
class UserInfo:
    """A user as listed by :meth:`Accounts.list_users` (never the password hash).

    ``name``, ``email`` and ``email_verified`` are the optional profile (the OpenID Connect
    claims of the ``profile`` and ``email`` scopes).
    """

    username: str
    roles: tuple[str, ...]
    disabled: bool
    created_at: datetime
    name: str | None = None
    email: str | None = None
    email_verified: bool = False


@dataclass(frozen=True)
class ClientInfo:
    """A client as listed by :meth:`Accounts.list_clients` (never the secret or its hash).

    ``public`` clients have no secret and may not use ``client_credentials``.
    ``resource_server`` clients may introspect any token and read the revocation list.
    ``origins`` are the browser origins allowed to set and use its refresh cookie. The OpenID
    Connect fields: ``redirect_uris`` (matched exactly), ``first_party`` (an application of
    the deployment itself: no consent page), ``id_token_alg``
    (``id_token_signed_response_alg``; None: RS256) and ``post_logout_redirect_uris`` (where
    RP-Initiated Logout may send the browser, matched exactly).
    """

    client_id: str
    scopes: tuple[str, ...]
    grants: tuple[str, ...]
    public: bool
    disabled: bool
    created_at: datetime
    resource_server: bool = False
    origins: tuple[str, ...] = ()
    redirect_uris: tuple[str, ...] = ()
    first_party: bool = False
    id_token_alg: str | None = None
    post_logout_redirect_uris: tuple[str, ...] = ()

    def allows_grant(self, grant_type: str) -> bool:
        """Say whether this client may use ``grant_type`` (one of its listed grants)."""
        if self.public and grant_type not in PUBLIC_GRANTS:
            return False
        return grant_type in self.grants


@dataclass(frozen=True)
class ConsentInfo:
    """What a user allowed a client on the consent page: the scopes and RFC 8707 resources,
    and when the user last allowed more (the page is not shown again for these)."""

    username: str
    client_id: str
    scope: tuple[str, ...]
    resources: tuple[str, ...]
    granted_at: datetime


def consent_info(r: ConsentRow) -> ConsentInfo:
    """Build the public ConsentInfo of a stored consent."""
    return ConsentInfo(r.username, r.client_id, r.scope, r.resources, from_timestamp(r.granted_at))


def check_name(name: object, what: str) -> str:
    """Accept a printable name of 1 to 256 characters without spaces or colons."""
    if not isinstance(name, str) or not 0 < len(name) <= _MAX_NAME:
        raise InvalidAccountError(f"{what} must be 1 to 256 characters")
    if any(unicodedata.category(c)[0] in "CZ" for c in name) or ":" in name:
        raise InvalidAccountError(f"{what} must not contain spaces, control characters or ':'")
    return name


def check_words(words: Iterable[str] | str, what: str) -> list[str]:
    """Validate roles/scopes/grants: RFC 6749 §3.3 scope-token characters, no duplicates."""
    if isinstance(words, str):
        raise InvalidAccountError(f"{what}s must be a list, not a string")
    out: list[str] = []
    for word in words:
        if (
            not isinstance(word, str)
            or not word
            or len(word) > _MAX_NAME
            or any(not (0x21 <= ord(c) <= 0x7E) or c in '"\\' for c in word)
        ):
            raise InvalidAccountError(f"invalid {what} {word!r}")
        if word not in out:
            out.append(word)
    return out


def client_info(r: ClientRow) -> ClientInfo:
    """Build the public ClientInfo of a stored client."""
    return ClientInfo(
        client_id=r.client_id,
        scopes=r.scopes,
        grants=r.grants,
        public=r.secret_hash is None,
        disabled=r.disabled,
        created_at=from_timestamp(r.created_at),
        resource_server=r.resource_server,
        origins=r.origins,
        redirect_uris=r.redirect_uris,
        first_party=r.first_party,
        id_token_alg=r.id_token_alg,
        post_logout_redirect_uris=r.post_logout_redirect_uris,
    )


def from_timestamp(ts: float) -> datetime:
    """Return an aware UTC datetime for a stored epoch timestamp."""
    return datetime.fromtimestamp(float(ts), tz=UTC)


def user_info(r: UserRow) -> UserInfo:
    """Build the public UserInfo of a stored user (never the hash)."""
    return UserInfo(
        r.username, r.roles, r.disabled, from_timestamp(r.created_at), r.name, r.email,
        r.email_verified,
    )  # fmt: skip


def check_secret(secret: object, what: str, *, minimum: int = 1) -> str:
    """Accept a password or client secret of ``minimum`` to 1024 characters."""
    if not isinstance(secret, str) or not minimum <= len(secret) <= _MAX_SECRET:
        raise InvalidAccountError(f"{what} must be {minimum} to {_MAX_SECRET} characters")
    return secret


def check_profile_name(name: object) -> str:
    """Accept a display name of 1 to 256 printable characters (spaces allowed)."""
    if not isinstance(name, str) or not 0 < len(name) <= _MAX_NAME or not name.strip():
        raise InvalidAccountError("the name must be 1 to 256 characters")
    if any(unicodedata.category(c)[0] == "C" for c in name):
        raise InvalidAccountError("the name must not contain control characters")
    return name


def check_email(email: object) -> str:
    """Accept an address shaped like ``local@domain`` (RFC 5321 lengths; no spaces)."""
    if (
        not isinstance(email, str)
        or not 3 <= len(email) <= 254
        or email.count("@") != 1
        or any(unicodedata.category(c)[0] in "CZ" for c in email)
    ):
        raise InvalidAccountError("the email must be an address like name@example.com")
    local, _, domain = email.partition("@")
    if not local or len(local) > 64 or not domain or domain.startswith(".") or "." not in domain:
        raise InvalidAccountError("the email must be an address like name@example.com")
    return email


def check_redirect_uri(uri: object) -> str:
    """Accept a redirect URI as RFC 6749 §3.1.2 and RFC 8252 allow, for exact matching.

    Absolute, no fragment, no user info; ``https``, ``http`` only to a loopback host (native
    and development apps), or a private-use scheme with a dot (``com.example.app:/cb``,
    RFC 8252 §7.1).
    """
    if not isinstance(uri, str) or not 0 < len(uri) <= 2048:
        raise _invalid("a redirect URI must be 1 to 2048 characters")
    if any(ord(c) <= 0x20 or ord(c) == 0x7F for c in uri):
        raise _invalid(f"the redirect URI {uri!r} has spaces or control characters")
    try:
        parts = urlsplit(uri)
        host, _ = parts.hostname, parts.port
    except ValueError:
        raise _invalid(f"the redirect URI {uri!r} is malformed") from None
    if "#" in uri:
        raise _invalid(f"the redirect URI {uri!r} has a fragment (RFC 6749 §3.1.2)")
    if "@" in parts.netloc:
        raise _invalid(f"the redirect URI {uri!r} has user information")
    if parts.scheme == "https" and host:
        return uri
    if parts.scheme == "http" and host and _loopback(host):
        return uri
    if parts.scheme not in ("http", "https", "") and "." in parts.scheme and not parts.netloc:
        return uri
    raise _invalid(
        f"the redirect URI {uri!r} must be https, http to a loopback address, or a private-use "
        "scheme such as com.example.app:/callback"
    )


def check_redirect_uris(uris: Iterable[str]) -> tuple[str, ...]:
    """Accept a list of redirect URIs (each as :func:`check_redirect_uri`), without repeats."""
    if isinstance(uris, str):
        raise InvalidAccountError("redirect URIs must be a list, not a string")
    return tuple(dict.fromkeys(check_redirect_uri(u) for u in uris))


def check_id_token_alg(alg: str) -> str:
    """Accept "" (the default) or an algorithm whose ``at_hash`` OpenID Connect defines."""
    if alg and alg not in ID_TOKEN_ALGS:
        raise InvalidAccountError(
            f"{alg!r} is not an ID token algorithm (known: {', '.join(ID_TOKEN_ALGS)})"
        )
    return alg


def check_grants(grants: Iterable[str], *, public: bool) -> list[str]:
    """Validate a grant list; empty gives the default (``authorization_code``, refresh)."""
    grant_list = check_words(grants, "grant") or list(DEFAULT_GRANTS)
    unknown = [g for g in grant_list if g not in GRANT_TYPES]
    if unknown:
        raise InvalidAccountError(
            f"unknown grant type {unknown[0]!r} (known: {', '.join(GRANT_TYPES)})"
        )
    if public and not set(grant_list) <= PUBLIC_GRANTS:
        raise InvalidAccountError("a public client may not use the client_credentials grant")
    return grant_list


def _invalid(message: str) -> InvalidAccountError:
    return InvalidAccountError(message)


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
