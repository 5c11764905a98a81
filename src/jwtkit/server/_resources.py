"""RFC 8707 resource indicators: the APIs access tokens may be issued for, and their ``aud``.

A *resource* is registered by its absolute URI (``jwtkit resource add URI --scope ...``), with
the scopes that API understands and optionally the words the consent page shows for each.
A ``resource`` parameter at ``/authorize`` and ``/token`` selects the access token's
audience; without one, tokens keep the service's default audience (``JWTKIT_AUDIENCE``, else
the issuer). An unregistered resource is ``invalid_target`` (RFC 8707 §2). A token issued for
resources carries only the granted scopes those resources list: a token for the invoices API
does not carry the calendar's scopes, nor ``openid`` (the userinfo endpoint takes tokens of
the default audience only).

The authorization request names the resources of the whole grant (stored with the code, then
with the refresh family); a token request may narrow them to a subset, never widen them
(RFC 8707 §2.2). Without a ``resource`` at the token request, the token is for every resource
of the grant.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final
from urllib.parse import urlsplit

from jwtkit._storage import DEFAULT_TIMEOUT, Database, ResourceRow, ResourceRows
from jwtkit.server._errors import OAuthError
from jwtkit.server._records import (
    AccountExistsError,
    AccountNotFoundError,
    InvalidAccountError,
    check_words,
    from_timestamp,
)

__all__ = [
    "MAX_RESOURCES",
    "ResourceInfo",
    "Resources",
    "Target",
    "check_resource_uri",
    "split_resources",
]

# More resources in one request than any application needs, so the code row stays small.
MAX_RESOURCES: Final = 10
_SCHEME: Final = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")
_MAX_URI: Final = 2048
_MAX_DESCRIPTION: Final = 200


@dataclass(frozen=True)
class ResourceInfo:
    """A registered resource: ``uri`` (the ``aud`` of its tokens), its ``scopes`` and the
    consent page's words for some of them (``descriptions``)."""

    uri: str
    scopes: tuple[str, ...]
    descriptions: Mapping[str, str] = field(hash=False)
    created_at: datetime


@dataclass(frozen=True)
class Target:
    """What one access token is for: its ``audience`` (None: the default one) and ``scope``,
    and the resources a session started with it is granted."""

    audience: str | list[str] | None
    scope: tuple[str, ...]
    resources: tuple[str, ...] = ()


def check_resource_uri(uri: object) -> str:
    """Accept a resource indicator: an absolute URI without a fragment (RFC 8707 §2).

    ``http``/``https`` URIs need a host. Resources are compared as exact strings, like
    redirect URIs.

    Raises:
        ValueError: not such a URI (the message says why).
    """
    if not isinstance(uri, str) or not 0 < len(uri) <= _MAX_URI or not uri.isascii():
        raise ValueError("a resource is an ASCII absolute URI of at most 2048 characters")
    if any(ord(c) <= 0x20 or ord(c) == 0x7F for c in uri):
        raise ValueError(f"the resource {uri!r} has spaces or control characters")
    if "#" in uri:
        raise ValueError(f"the resource {uri!r} has a fragment (RFC 8707 §2)")
    scheme = _SCHEME.match(uri)
    if scheme is None or len(uri) == scheme.end():
        raise ValueError(f"the resource {uri!r} is not an absolute URI (https://api.example)")
    if scheme.group().lower() in ("http:", "https:") and not _host(uri):
        raise ValueError(f"the resource {uri!r} has no host")
    return uri


def _info(row: ResourceRow) -> ResourceInfo:
    descriptions = {name: text for name, text in row.scopes if text}
    return ResourceInfo(row.uri, row.scope_names, descriptions, from_timestamp(row.created_at))


class Resources:
    """The registered resources of one store, and the audience rule of RFC 8707.

    Example::

        with Resources.open("sqlite:///jwtkit.db") as resources:
            resources.add("https://api.example", scopes=("invoices:read",),
                          descriptions={"invoices:read": "Read your invoices"})
    """

    def __init__(
        self, db: Database, *, owns_db: bool = False, clock: Callable[[], float] = time.time
    ) -> None:
        self._rows = ResourceRows(db)
        self._db = db
        self._owns_db = owns_db
        self._clock = clock

    @classmethod
    def open(cls, store_url: str, *, timeout: float = DEFAULT_TIMEOUT) -> Resources:
        """Open the resources of the store at ``store_url`` (creating the tables if needed).

        Raises:
            KeyStoreError: the store cannot be opened or was written by a newer jwtkit.
        """
        return cls(Database.open(store_url, timeout=timeout), owns_db=True)

    def close(self) -> None:
        """Release the store connections (only when this object opened them)."""
        if self._owns_db:
            self._db.close()

    def __enter__(self) -> Resources:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def add(
        self,
        uri: str,
        scopes: Iterable[str] = (),
        *,
        descriptions: Mapping[str, str] | None = None,
    ) -> ResourceInfo:
        """Register the resource ``uri`` with the scopes it understands.

        ``descriptions`` maps some of those scopes to the words the consent page shows
        ("Read your invoices"); the others are shown by name.

        Raises:
            AccountError: ``account_exists``, or ``invalid_account`` for a bad URI, scope
                or description.
        """
        try:
            uri = check_resource_uri(uri)
        except ValueError as exc:
            raise InvalidAccountError(str(exc)) from None
        names = check_words(scopes, "scope")
        words = dict(descriptions or {})
        for name, text in words.items():
            if name not in names:
                raise InvalidAccountError(
                    f"the description of {name!r} names no scope of this resource"
                )
            if not isinstance(text, str) or not 0 < len(text.strip()) <= _MAX_DESCRIPTION:
                raise InvalidAccountError(
                    f"the description of {name!r} must be 1 to {_MAX_DESCRIPTION} characters"
                )
        row = ResourceRow(uri, tuple((n, words.get(n)) for n in names), self._clock())
        if not self._rows.insert(row):
            raise AccountExistsError(f"resource {uri!r} is already registered")
        return _info(row)

    def get(self, uri: str) -> ResourceInfo | None:
        """Return the resource registered under exactly ``uri``, or None."""
        row = self._rows.get(uri)
        return None if row is None else _info(row)

    def all(self) -> list[ResourceInfo]:
        """Return every registered resource, sorted by URI."""
        return [_info(r) for r in self._rows.all()]

    def remove(self, uri: str) -> None:
        """Unregister a resource: no new token is issued for it (refreshes of sessions
        granted it fail with ``invalid_target``); tokens already issued run to their exp.

        Raises:
            AccountError: ``account_not_found``.
        """
        if not self._rows.delete(uri):
            raise AccountNotFoundError(f"no resource named {uri!r}")

    def lookup(self, uris: Iterable[str]) -> list[ResourceInfo]:
        """Return the registered resources named by ``uris``, in order.

        Raises:
            OAuthError: ``invalid_target`` for a malformed or unregistered one, or too many.
        """
        found: list[ResourceInfo] = []
        for uri in dict.fromkeys(uris):
            info = self.get(uri) if _well_formed(uri) else None
            if info is None:
                raise OAuthError("invalid_target", "the resource is not registered here")
            found.append(info)
        if len(found) > MAX_RESOURCES:
            raise OAuthError("invalid_target", f"at most {MAX_RESOURCES} resources per request")
        return found

    def target(
        self,
        requested: tuple[str, ...],
        scope: tuple[str, ...],
        *,
        granted: tuple[str, ...] | None,
    ) -> Target:
        """Return the audience and scope of one access token (RFC 8707 §2.2).

        ``requested`` are the token request's resources; ``granted`` those of the grant it
        continues (a code's, a refresh family's), or None for a grant without one (password,
        client credentials: any registered resource may be asked).

        Raises:
            OAuthError: ``invalid_target`` for a resource not registered or not granted.
        """
        if granted is not None and not set(requested) <= set(granted):
            raise OAuthError("invalid_target", "the resource was not part of the grant")
        chosen = self.lookup(requested or granted or ())
        if not chosen:
            return Target(None, scope)
        listed = {name for info in chosen for name in info.scopes}
        uris = [info.uri for info in chosen]
        narrowed = tuple(s for s in scope if s in listed)
        return Target(uris[0] if len(uris) == 1 else uris, narrowed, tuple(uris))


def _host(uri: str) -> str | None:
    try:
        return urlsplit(uri).hostname
    except ValueError:
        return None


def _well_formed(uri: str) -> bool:
    try:
        check_resource_uri(uri)
    except ValueError:
        return False
    return True


def split_resources(value: str | None) -> tuple[str, ...]:
    """Return the ``resource`` values of a form (repeated values are joined by spaces, which
    no resource URI contains: :func:`jwtkit.server._forms.read_form`)."""
    return tuple(value.split(" ")) if value else ()
